"""A demo relying party for the bootstrap's demo client ("Demo app" in pool "Demo").

It behaves as an app would: starts the code flow with PKCE (S256), state and nonce; on the
callback checks state and `iss`, exchanges the code server-side, verifies the ID token's
signature against the pool's JWKS and its iss/aud/nonce, calls userInfo, and shows what it got.
The exchange runs the token endpoint's own protocol function in-process rather than over HTTP,
so that the demo also works under a single-worker server; the request it makes is exactly the
form body an app would POST.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import jwt as pyjwt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from hostedui import session
from hostedui.oauth import OAuthError, discovery, endpoints, pkce
from pool import crypto
from pool.models import AppClient, UserPool
from pool.services import keys

DEMO_POOL = "Demo"
DEMO_CLIENT = "Demo app"
FLOW_KEY = "demo:flow"
RESULT_KEY = "demo:result"
MOVED_MARK = "moved"


def _demo_client() -> AppClient | None:
    pool = UserPool.objects.filter(name=DEMO_POOL).order_by("created_at").first()
    if pool is None:
        return None
    return (
        AppClient.objects.select_related("pool")
        .filter(pool=pool, name=DEMO_CLIENT)
        .order_by("created_at")
        .first()
    )


def _callback_url() -> str:
    return f"{settings.PUBLIC_URL}{reverse('hostedui:demo_callback')}"


def _home_url() -> str:
    return f"{settings.PUBLIC_URL}{reverse('hostedui:demo')}"


def _public_host_redirect(request: HttpRequest) -> HttpResponse | None:
    """The demo on PUBLIC_URL's host when it was opened on another one (`make run` binds
    127.0.0.1 while PUBLIC_URL says localhost). The sign-in comes back to PUBLIC_URL's
    callback, where the browser does not send the other host's session cookie, so the state
    this browser started with could not be checked. MOVED_MARK stops a redirect loop behind a
    proxy that does not pass the browser's Host header on."""
    public_host = urlsplit(settings.PUBLIC_URL).netloc.lower()
    if request.get_host().lower() == public_host or MOVED_MARK in request.GET:
        return None
    return redirect(f"{_home_url()}?{MOVED_MARK}=1")


def _decode_part(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _show(
    request: HttpRequest, client: AppClient | None, *, status: int = 200, **context
) -> HttpResponse:
    return render(
        request,
        "hostedui/demo.html",
        {"title": "Cognate demo app", "client": client, "app_name": "Cognate demo", **context},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """GET shows the demo (and the tokens of the last sign-in); POST starts a sign-in."""
    client = _demo_client()
    if client is None:
        return _show(request, None, missing=True)
    if moved := _public_host_redirect(request):
        return moved
    if request.method == "POST":
        verifier = crypto.token(48)
        flow = {"state": crypto.token(16), "nonce": crypto.token(16), "verifier": verifier}
        request.session[FLOW_KEY] = flow
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": _callback_url(),
                "state": flow["state"],
                "nonce": flow["nonce"],
                "code_challenge": pkce.s256(verifier),
                "code_challenge_method": "S256",
            }
        )
        authorize = reverse("hostedui:authorize", args=[client.pool_id])
        return redirect(f"{authorize}?{query}")
    result = request.session.get(RESULT_KEY)
    logout = ""
    if result:
        logout = (
            reverse("hostedui:logout", args=[client.pool_id])
            + "?"
            + urlencode({"client_id": client.client_id, "logout_uri": _home_url()})
        )
    return _show(request, client, result=_pretty(result) if result else None, logout_url=logout)


def _pretty(result: dict) -> dict:
    """The stored result with each JSON document as indented JSON text, as a developer reads it."""

    def dump(value) -> str:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)

    return {
        "user_info": dump(result["user_info"]),
        "id_token": dump(result["id_token"]["header"]) + "\n" + dump(result["id_token"]["claims"]),
        "access_token": dump(result["access_token"]["header"])
        + "\n"
        + dump(result["access_token"]["claims"]),
        "refresh_token": result["refresh_token"],
        "expires_in": result["expires_in"],
    }


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    client = _demo_client()
    if client is None:
        return _show(request, None, missing=True)
    flow = request.session.pop(FLOW_KEY, None)
    pool = client.pool
    problem = ""
    if flow is None or not crypto.equals(request.GET.get("state", ""), flow["state"]):
        problem = "The state does not match a sign-in this browser started."
    elif request.GET.get("iss") != discovery.issuer(pool):
        problem = "The authorization response came from an unexpected issuer."
    elif "error" in request.GET:
        problem = f"{request.GET['error']}: {request.GET.get('error_description', '')}"
    if problem:
        return _show(request, client, problem=problem, status=400)
    form = {
        "grant_type": "authorization_code",
        "client_id": client.client_id,
        "code": request.GET.get("code", ""),
        "redirect_uri": _callback_url(),
        "code_verifier": flow["verifier"],
    }
    if client.is_confidential:
        form["client_secret"] = client.secret_plaintext
    try:
        tokens = endpoints.token(
            pool=pool, form=form, authorization="", context=session.context(request)
        )
        id_claims = _verify_id_token(tokens["id_token"], client=client, nonce=flow["nonce"])
        user_info = endpoints.user_info(pool=pool, access_token=tokens["access_token"])
    except OAuthError as exc:
        return _show(request, client, problem=f"{exc.error}: {exc.description}", status=400)
    except pyjwt.PyJWTError as exc:
        return _show(request, client, problem=f"ID token rejected: {exc}", status=400)
    request.session[RESULT_KEY] = {
        "id_token": {"header": _decode_part(tokens["id_token"], 0), "claims": id_claims},
        "access_token": {
            "header": _decode_part(tokens["access_token"], 0),
            "claims": _decode_part(tokens["access_token"], 1),
        },
        "refresh_token": tokens.get("refresh_token", "")[:12] + "…",
        "expires_in": tokens["expires_in"],
        "user_info": user_info,
    }
    return redirect("hostedui:demo")


def _verify_id_token(token: str, *, client: AppClient, nonce: str) -> dict:
    """As a relying party does: signature by a key from the JWKS, iss, aud, exp, nonce."""
    kid = pyjwt.get_unverified_header(token).get("kid")
    jwk = next((k for k in keys.jwks(client.pool)["keys"] if k.get("kid") == kid), None)
    if jwk is None:
        raise pyjwt.InvalidTokenError("no key in the JWKS has the token's kid")
    claims = pyjwt.decode(
        token,
        pyjwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=client.client_id,
        issuer=discovery.issuer(client.pool),
    )
    if not crypto.equals(claims.get("nonce", ""), nonce):
        raise pyjwt.InvalidTokenError("nonce does not match")
    return claims
