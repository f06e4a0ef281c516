"""The OAuth 2.0 / OIDC endpoints. Each parses the request, calls one function of the protocol
core (hostedui.oauth) and renders its answer or error."""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from django.shortcuts import render
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.answers import JsonAnswer
from hostedui import hosts, session
from hostedui.federation import saml
from hostedui.oauth import ErrorPage, OAuthError, RedirectError, discovery, endpoints
from hostedui.oauth import authorize as authz
from hostedui.views import federation
from hostedui.views.common import (
    ANY_ORIGIN,
    bearer_error,
    branding,
    cacheable_json,
    cors,
    error_page,
    load_pool,
    oauth_answer,
    oauth_error,
    oauth_error_answer,
    oauth_json,
    to_app,
)
from pool.services import keys


def posted_form(request: HttpRequest) -> MultiValueDict:
    """The POSTed form, or OAuthError(invalid_request) when Django cannot parse the body (a
    charset other than UTF-8, a broken multipart body, too many fields or bytes): the OAuth
    endpoints answer that in JSON like every other bad request, not with Django's HTML 400.
    A UTF-8 urlencoded body (every OAuth client's) is parsed here (_urlencoded), any other
    by Django (request.POST)."""
    try:
        if (
            request.content_type == _URLENCODED
            and request.method == "POST"
            and (request.encoding or "utf-8").lower() == "utf-8"
        ):
            try:
                return _urlencoded(request.body)
            except RawPostDataException:
                pass  # the stream was read already: Django answers that (an empty form)
        return request.POST
    except (BadRequest, SuspiciousOperation, MultiPartParserError) as exc:
        raise OAuthError("invalid_request", "The request body is not a valid form.") from exc


_URLENCODED = "application/x-www-form-urlencoded"


def _urlencoded(body: bytes) -> MultiValueDict:
    """What Django's request.POST makes of a UTF-8 urlencoded body (decoded as UTF-8, or
    Latin-1 when it is not; blank values kept; DATA_UPLOAD_MAX_NUMBER_FIELDS enforced), as a
    MultiValueDict: its QueryDict's per-field work (an encoding check and a copy of every
    name and value) was about half the cost of parsing a token request's form."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("iso-8859-1")
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except ValueError as exc:  # more fields than allowed, as QueryDict reads it
        raise TooManyFieldsSent("Too many fields in the form.") from exc
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return MultiValueDict(fields)


def login_url(pool_id: str, query: str) -> str:
    return f"{hosts.path('login', pool_id)}?{query}"


@require_GET
def authorize(request: HttpRequest, pool_id: str) -> HttpResponse:
    """GET /{pool}/oauth2/authorize: straight to the provider that `identity_provider` or
    `idp_identifier` names; else straight through with a live hosted-UI session, else the
    sign-in page (or `login_required` for prompt=none)."""
    try:
        pool, known = authz.pool_and_client(pool_id, request.GET, session=request.session)
        pool = pool or load_pool(pool_id, cached=True)
        auth = authz.validate(pool, request.GET, known=known)
        if "none" not in auth.prompt:
            wanted = request.GET.get("identity_provider") or ""
            identifier = request.GET.get("idp_identifier") or ""
            if wanted and wanted != "COGNITO":
                return federation.go_upstream(request, auth, federation.by_name(auth, wanted))
            if identifier and not wanted:
                provider = federation.by_identifier(auth, identifier)
                if provider is not None:
                    return federation.go_upstream(request, auth, provider)
                messages.error(request, gettext("No identity provider signs in that address."))
                return to_app(login_url(pool.id, auth.query_string))
        signed_in = session.current(request, pool)
        if (
            signed_in
            and "login" not in auth.prompt
            and session.fresh_enough(signed_in, auth.max_age)
        ):
            return to_app(authz.respond(auth, user=signed_in.user, auth_time=signed_in.auth_time))
        if "none" in auth.prompt:
            raise auth.error("login_required", "The user is not signed in.")
    except ErrorPage as exc:
        return error_page(request, exc)
    except RedirectError as exc:
        return to_app(exc.location)
    return to_app(login_url(pool.id, auth.query_string))


def _no_pool(exc: ErrorPage) -> HttpResponse:
    return _no_pool_answer(exc).http_response()


def _no_pool_answer(exc: ErrorPage) -> JsonAnswer:
    return oauth_answer(
        {"error": "invalid_request", "error_description": exc.description}, status=404
    )


def _realm(pool_id: str) -> str:
    return pool_id.replace('"', "")


@csrf_exempt
@cors("POST")
@require_POST
def token(request: HttpRequest, pool_id: str) -> HttpResponse:
    return token_answer(request, pool_id).http_response()


def token_answer(request: HttpRequest, pool_id: str) -> JsonAnswer:
    """The token view's answer to a POST, as its decorators leave it (with the CORS header):
    config.front's ApiDoor writes a 200 from it without Django's response."""
    try:
        body = endpoints.token(
            pool_id=pool_id,
            find_pool=lambda: load_pool(pool_id, cached=True),
            form=posted_form(request),
            # The one header read from META: request.headers copies every header first.
            authorization=request.META.get("HTTP_AUTHORIZATION", ""),
            context=session.context(request),
        )
    except ErrorPage as exc:
        answer = _no_pool_answer(exc)
    except OAuthError as exc:
        answer = oauth_error_answer(exc, realm=_realm(pool_id))
    else:
        answer = oauth_answer(body)
    return answer.with_headers(ANY_ORIGIN)  # as `cors` leaves it: its header last


@csrf_exempt
@cors("POST")
@require_POST
def revoke(request: HttpRequest, pool_id: str) -> HttpResponse:
    try:
        pool = load_pool(pool_id, cached=True)
        endpoints.revoke(
            pool=pool,
            form=posted_form(request),
            authorization=request.headers.get("Authorization", ""),
        )
    except ErrorPage as exc:
        return _no_pool(exc)
    except OAuthError as exc:
        return oauth_error(exc, realm=_realm(pool_id))
    return oauth_json({})


@csrf_exempt
@cors("GET, POST")
@require_http_methods(["GET", "POST"])
def user_info(request: HttpRequest, pool_id: str) -> HttpResponse:
    try:
        # The kept copy: the service reads the pool's version with the token's family.
        pool = load_pool(pool_id, cached=True, kept=True)
        access_token = endpoints.bearer_token(
            authorization=request.META.get("HTTP_AUTHORIZATION", ""),
            form=posted_form(request) if request.method == "POST" else None,
        )
        body = endpoints.user_info(pool=pool, access_token=access_token, kept=True)
    except ErrorPage as exc:
        return _no_pool(exc)
    except OAuthError as exc:
        return bearer_error(exc, realm=_realm(pool_id))
    return oauth_json(body)


@require_GET
def logout(request: HttpRequest, pool_id: str) -> HttpResponse:
    """GET /{pool}/logout, as Cognito's: `client_id` + `logout_uri` (a registered sign-out URL),
    or `client_id` + `redirect_uri` + `response_type` (back to sign-in). Anything unregistered
    gets the error page and the session is kept."""
    try:
        pool = load_pool(pool_id)
        logout_uri = request.GET.get("logout_uri")
        if logout_uri is not None:
            client = authz.client_of(pool, request.GET)
            if logout_uri not in (client.logout_urls or []):
                raise ErrorPage(
                    "invalid_logout_uri", gettext("logout_uri is not a sign-out URL of this app.")
                )
            return _sign_out(request, pool, after=logout_uri)
        if request.GET.get("redirect_uri") is not None:
            auth = authz.validate(pool, request.GET)
            return _sign_out(request, pool, after=login_url(pool.id, auth.query_string))
        client = authz.client_of(pool, request.GET)
    except ErrorPage as exc:
        return error_page(request, exc)
    except RedirectError as exc:
        return to_app(exc.location)
    if upstream := saml.logout_location(request.session, pool, after=request.get_full_path()):
        session.end(request)
        return to_app(upstream)
    session.end(request)
    return render(
        request,
        "hostedui/signed_out.html",
        {"pool": pool, "title": gettext("Signed out"), **branding(pool, client)},
    )


def _sign_out(request: HttpRequest, pool, *, after: str) -> HttpResponse:
    """End the hosted session; through the SAML IdP's single logout first when the session
    came from one that supports it (IDPSignout), else straight to `after`."""
    upstream = saml.logout_location(request.session, pool, after=after)
    session.end(request)
    return to_app(upstream or after)


@cors("GET")
@require_GET
def openid_configuration(request: HttpRequest, pool_id: str) -> HttpResponse:
    try:
        pool = load_pool(pool_id, cached=True)
    except ErrorPage as exc:
        return _no_pool(exc)
    return cacheable_json(discovery.configuration(pool), max_age=3600)


@cors("GET")
@require_GET
def jwks(request: HttpRequest, pool_id: str) -> HttpResponse:
    try:
        pool = load_pool(pool_id, cached=True)
    except ErrorPage as exc:
        return _no_pool(exc)
    # Short enough that a rotated-in key is picked up well before tokens signed by it matter.
    return cacheable_json(keys.jwks(pool), max_age=300)
