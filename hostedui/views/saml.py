"""SAML 2.0 endpoints of a pool, at Cognito's paths: the assertion consumer service
(`/saml2/idpresponse`), single logout (`/saml2/logout`) and our SP metadata
(`/saml2/metadata`, a Cognate addition: Cognito documents the values instead). Each parses the
request, calls hostedui.federation.saml (the protocol) and pool.services.federation (the one
sign-in of a federated user), and answers with a redirect or the error page."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from hostedui import session
from hostedui.federation import saml, state
from hostedui.oauth import ErrorPage, RedirectError
from hostedui.views import federation as federation_views
from hostedui.views.common import error_page, load_pool, no_store, to_app
from pool import errors as domain
from pool.services import federation


@require_GET
def metadata(request: HttpRequest, pool_id: str) -> HttpResponse:
    try:
        pool = load_pool(pool_id)
        document = saml.sp_metadata(pool)
    except ErrorPage as exc:
        return error_page(request, exc, status=404)
    response = HttpResponse(document, content_type="application/samlmetadata+xml")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@csrf_exempt  # the IdP's answer: its signature, and the round trip in this browser, protect it
@require_POST
def idp_response(request: HttpRequest, pool_id: str) -> HttpResponse:
    """POST /{pool}/saml2/idpresponse: SAMLResponse + RelayState, SP- or IdP-initiated."""
    from hostedui.views.pages import _finish  # noqa: PLC0415 (pages imports the federation door)

    try:
        pool = load_pool(pool_id)
        try:
            params = request.POST
        except (BadRequest, SuspiciousOperation, MultiPartParserError) as exc:
            raise ErrorPage("invalid_request", "The request body is not a valid form.") from exc
        no_cookie = settings.SESSION_COOKIE_NAME not in request.COOKIES
        if no_cookie and not params.get(federation_views.RELAYED):
            return federation_views.relay(request, params, action=saml.acs_url(pool))
        relay_state = params.get("RelayState") or params.get("Relaystate") or ""
        round_trip = (
            state.take(request, pool=pool, state=relay_state)
            if saml.is_round_trip_token(relay_state)
            else None
        )
        verified = saml.consume(
            pool,
            saml_response=params.get("SAMLResponse") or "",
            relay_state=relay_state,
            round_trip=round_trip,
        )
        auth = verified.auth
        try:
            result = federation.sign_in(
                pool=pool,
                client=auth.client,
                provider=verified.provider,
                subject=verified.subject,
                claims=verified.claims,
                context=session.context(request),
                issuer=verified.issuer,
            )
            response = _finish(request, auth, result, "")
        except domain.CognitoError as exc:
            raise auth.error("invalid_request", exc.message) from exc
        except ErrorPage as exc:
            raise auth.error("invalid_request", exc.description) from exc
    except ErrorPage as exc:
        return error_page(request, exc)
    except RedirectError as exc:
        return to_app(exc.location)
    saml.remember_signed_in(request.session, verified)
    return response


@require_GET
def logout(request: HttpRequest, pool_id: str) -> HttpResponse:
    """GET /{pool}/saml2/logout (HTTP-Redirect binding): the IdP's LogoutResponse to our
    LogoutRequest (then on to where the app's sign-out was going), or an IdP-initiated
    LogoutRequest (the hosted session ends; our LogoutResponse goes back to the IdP)."""
    try:
        pool = load_pool(pool_id)
        if request.GET.get("SAMLResponse"):
            return to_app(saml.finish_logout(pool, request.GET))
        if request.GET.get("SAMLRequest"):
            _provider, location = saml.idp_logout(pool, request.GET)
            session.end(request)
            return no_store(to_app(location))
        raise ErrorPage("invalid_request", "The request has no SAMLRequest or SAMLResponse.")
    except ErrorPage as exc:
        return error_page(request, exc)
