"""What every hosted-UI view shares: the pool from the URL, the error page, JSON answers, CORS,
and the branding context of the app client a page is shown for."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from config.answers import JsonAnswer
from hostedui import branding as hosted_branding
from hostedui.oauth import ErrorPage, OAuthError
from pool import clock
from pool.models import AppClient, UserPool
from pool.selectors import branding as branding_selectors
from pool.selectors.pools import cached_pool, kept_pool, valid_pool_id
from pool.services import ratelimit


def to_app(location: str) -> HttpResponse:
    """A 302 to a redirect URI that was matched against the client's registration (or to an
    upstream provider's authorization endpoint). Built by hand because Django's redirect
    refuses custom schemes (native apps: `myapp://callback`)."""
    response = HttpResponse(status=302)
    response["Location"] = location
    response["Cache-Control"] = "no-store"
    return response


def load_pool(pool_id: str, *, cached: bool = False, kept: bool = False) -> UserPool:
    """The pool named in the URL. `cached`: the process's copy of the row for the pool's
    config_version, read now (pool.selectors.pools): as current as the row itself, which the
    other callers read. `kept`: that copy without reading its version when the process keeps
    one, for a service that reads the version with its own statement (userInfo)."""
    if not valid_pool_id(pool_id):
        raise ErrorPage("not_found", gettext("There is no such user pool."))
    pool = kept_pool(pool_id) if kept else None
    if pool is not None:
        return pool
    pool = cached_pool(pool_id) if cached else UserPool.objects.filter(id=pool_id).first()
    if pool is None:
        raise ErrorPage("not_found", gettext("There is no such user pool."))
    return pool


def error_page(request: HttpRequest, error: ErrorPage, *, status: int = 400) -> HttpResponse:
    return render(
        request,
        "hostedui/error.html",
        {
            "error": error.error,
            "description": error.description,
            "title": gettext("Something went wrong"),
        },
        status=status,
    )


def branding(pool: UserPool, client: AppClient | None) -> dict:
    """Template context for the app's name, logo and branding stylesheet (our own URL, since
    the CSP allows no inline style; hostedui/branding.py builds it)."""
    effective = branding_selectors.effective(pool, client)
    css = hosted_branding.stylesheet(effective)
    return {
        "app_name": client.name if client else "",
        "logo_url": hosted_branding.logo_src(effective),
        "branding_css_url": hosted_branding.stylesheet_url(effective, css),
    }


# Token answers are never cached (RFC 6749 §5.1); nor is any other OAuth JSON answer.
_NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def no_store(response: HttpResponse) -> HttpResponse:
    for name, value in _NO_STORE:
        response[name] = value
    return response


JSON = "application/json"
# What `cors` adds to every answer but a preflight's.
ANY_ORIGIN = ("Access-Control-Allow-Origin", "*")


def oauth_answer(body: dict, *, status: int = 200, extra=()) -> JsonAnswer:
    """An OAuth endpoint's JSON answer (never stored), as a value (config.front's ApiDoor
    writes a token 200 from it without Django's response)."""
    return JsonAnswer(
        status, oauth_json_content(body), (("Content-Type", JSON), *_NO_STORE, *extra)
    )


def oauth_json(body: dict, *, status: int = 200) -> HttpResponse:
    return oauth_answer(body, status=status).http_response()


def oauth_json_content(body: dict) -> bytes:
    """The bytes of an OAuth endpoint's JSON answer, as JsonResponse encodes them (also what
    config.front's door sends for a userInfo answer it writes itself), with one encoder for
    every answer rather than a new one per call as json.dumps(cls=...) makes."""
    return _OAUTH_JSON.encode(body).encode(settings.DEFAULT_CHARSET)


_OAUTH_JSON = DjangoJSONEncoder()


def oauth_error_answer(error: OAuthError, *, realm: str) -> JsonAnswer:
    extra = []
    if error.status == 401:
        extra.append(("WWW-Authenticate", f'Basic realm="{realm}"'))
    if error.status == 429:
        window = ratelimit.WINDOW_SECONDS
        extra.append(("Retry-After", str(window - clock.timestamp() % window)))
    return oauth_answer(error.body(), status=error.status, extra=extra)


def oauth_error(error: OAuthError, *, realm: str) -> HttpResponse:
    return oauth_error_answer(error, realm=realm).http_response()


def bearer_error(error: OAuthError, *, realm: str) -> HttpResponse:
    """userInfo errors: RFC 6750 §3, in the WWW-Authenticate header and the body."""
    response = oauth_json(error.body(), status=error.status)
    description = error.description.replace('"', "'")
    response["WWW-Authenticate"] = (
        f'Bearer realm="{realm}", error="{error.error}", error_description="{description}"'
    )
    return response


# What a browser reads from a CORS preflight (OPTIONS) answer only (Fetch standard, "CORS-
# preflight fetch"): the other answers carry Access-Control-Allow-Origin alone.
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


def cors(methods: str) -> Callable:
    """Allow cross-origin calls (no credentials) from browser apps: token, revoke, userInfo,
    JWKS and discovery. Never on authorize or the pages."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                for name, value in PREFLIGHT_HEADERS.items():
                    response[name] = value
                response["Access-Control-Allow-Methods"] = f"{methods}, OPTIONS"
            else:
                response = view(request, *args, **kwargs)
            response[ANY_ORIGIN[0]] = ANY_ORIGIN[1]
            return response

        return wrapper

    return decorate


def cacheable_json(body: dict, *, max_age: int) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, separators=(",", ":")), content_type="application/json"
    )
    response["Cache-Control"] = f"public, max-age={max_age}"
    # A JSON document loads nothing: the strictest policy, the same for every request (the
    # answer is kept and replayed by config.front, so it must not carry a per-request nonce).
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response
