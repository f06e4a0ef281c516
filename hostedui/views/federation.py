"""Signing in through an upstream provider (OIDC, Google, Sign in with Apple, Facebook, Login
with Amazon): the way there (`oauth2/authorize` with `identity_provider` or `idp_identifier`,
or a button on the sign-in and sign-up pages) and the way back (`oauth2/idpresponse`, GET, or
POST for Apple's form_post). The protocol is hostedui.federation's; who the upstream user is
in the pool is pool.services.federation's; this door only carries values between them.

Once the app's request is known, every failure goes back to the app as an OAuth error
redirect; a callback whose state names no round trip of this browser (missing, forged, used,
expired) has no app to return to and gets the error page (400)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from hostedui import hosts, session
from hostedui.federation import oidc, saml, social, state
from hostedui.federation.oidc import UpstreamError
from hostedui.oauth import ErrorPage, RedirectError
from hostedui.oauth import authorize as authz
from hostedui.oauth.authorize import AuthorizationRequest
from hostedui.oauth.discovery import issuer
from hostedui.views.common import error_page, load_pool, to_app
from pool import errors as domain
from pool.models import IdentityProvider, UserPool
from pool.selectors import identity_providers
from pool.services import federation
from pool.services import sign_in as sign_in_wing

OIDC_TYPES = frozenset({"OIDC", "Google", "SignInWithApple", "Facebook", "LoginWithAmazon"})
BUTTON_LABELS = {
    "Google": "Google",
    "SignInWithApple": "Apple",
    "Facebook": "Facebook",
    "LoginWithAmazon": "Amazon",
}
MAX_IDENTIFIER = 256
MAX_PROVIDER_NAME = 32  # Cognito's ProviderName
# A form_post answer relayed once through our own page, so the Lax session cookie comes along.
RELAYED = "_cognate_relayed"


def callback_url(pool: UserPool) -> str:
    """The redirect URI registered at the provider: `{issuer}/oauth2/idpresponse`, or on the
    pool's domain when the sign-in started there (the browser's session is the domain's), as
    Cognito's `https://<domain>/oauth2/idpresponse`."""
    return f"{hosts.site(pool.id) or issuer(pool)}/oauth2/idpresponse"


def _offered(auth: AuthorizationRequest, provider: IdentityProvider | None) -> IdentityProvider:
    """`provider` when this app may use it now, else the OAuth error for the app."""
    if provider is None:
        raise auth.error("invalid_request", "The identity provider does not exist.")
    if provider.provider_name not in (auth.client.supported_identity_providers or []):
        raise auth.error(
            "unauthorized_client", "The identity provider is not enabled for this app client."
        )
    if not provider.enabled:
        raise auth.error("invalid_request", "The identity provider is disabled.")
    return provider


def by_name(auth: AuthorizationRequest, name: str) -> IdentityProvider:
    found = None
    # Checked before the lookup: a NUL byte is "no such provider", never a database error.
    if 0 < len(name) <= MAX_PROVIDER_NAME and "\x00" not in name:
        try:
            found = identity_providers.get(auth.pool, name)
        except domain.ResourceNotFoundException:
            found = None
    return _offered(auth, found)


def by_identifier(auth: AuthorizationRequest, identifier: str) -> IdentityProvider | None:
    """Email-domain routing: the provider an identifier (an email, or an IdpIdentifier) names,
    or None when none does."""
    if len(identifier) > MAX_IDENTIFIER or "\x00" in identifier:
        return None
    found = identity_providers.by_identifier(auth.pool, identifier)
    return _offered(auth, found) if found is not None else None


def go_upstream(
    request: HttpRequest, auth: AuthorizationRequest, provider: IdentityProvider
) -> HttpResponse:
    """Start a round trip to `provider` for the app's request `auth`."""
    if provider.provider_type == "SAML":
        url, pending = saml.begin(auth, provider)
    elif provider.provider_type not in OIDC_TYPES:
        raise auth.error("invalid_request", f"{provider.provider_type} sign-in is not available.")
    else:
        try:
            url, pending = oidc.begin(
                social.upstream_for(provider),
                redirect_uri=callback_url(auth.pool),
                login_hint=auth.login_hint,
            )
        except UpstreamError as exc:
            raise auth.error(exc.error, exc.description) from exc
    state.keep(
        request,
        pool=auth.pool,
        provider_name=provider.provider_name,
        pending=pending,
        query=auth.query_string,
    )
    return to_app(url)


def buttons(auth: AuthorizationRequest) -> dict:
    """The sign-in and sign-up pages' part: a button per enabled provider the app lists, and
    whether to show the email-domain routing field."""
    providers = identity_providers.enabled_for_client(auth.client)
    base = hosts.path("authorize", auth.pool.id)
    return {
        "federation": [
            {
                "name": p.provider_name,
                "label": BUTTON_LABELS.get(p.provider_type, p.provider_name),
                "url": f"{base}?{auth.query_string}&"
                + urlencode({"identity_provider": p.provider_name}),
            }
            for p in providers
        ],
        "federation_routing": any(p.idp_identifiers for p in providers),
        "federation_params": [(k, v) for k, v in auth.raw if k != "prompt"],
        "authorize_url": base,
    }


def relay(request: HttpRequest, params: QueryDict, *, action: str) -> HttpResponse:
    """A provider posts its answer cross-site (Apple's form_post, a SAML IdP), so the browser
    withholds our Lax session cookie (and with it the round trip): post the same fields once
    more to `action` from our own page, where it comes along."""
    fields = [(k, v) for k, v in params.items() if k != RELAYED]
    return render(
        request,
        "hostedui/relay.html",
        {"action": action, "fields": fields, "relayed": RELAYED, "title": "Signing in"},
    )


@csrf_exempt  # the provider's answer; `state`, bound to this browser's session, protects it
@require_http_methods(["GET", "POST"])
def idp_response(request: HttpRequest, pool_id: str) -> HttpResponse:
    try:
        pool = load_pool(pool_id)
    except ErrorPage as exc:
        return error_page(request, exc, status=404)
    try:
        params = request.POST if request.method == "POST" else request.GET
    except (BadRequest, SuspiciousOperation, MultiPartParserError):
        params = QueryDict()  # a body Django cannot parse: no state to go on
    no_cookie = settings.SESSION_COOKIE_NAME not in request.COOKIES
    if request.method == "POST" and no_cookie and not params.get(RELAYED):
        return relay(request, params, action=callback_url(pool))
    round_trip = state.take(request, pool=pool, state=params.get("state", ""))
    if round_trip is None:
        return error_page(
            request,
            ErrorPage(
                "invalid_state", gettext("This sign-in is not valid (missing, used or expired).")
            ),
        )
    try:
        auth = authz.validate(pool, QueryDict(round_trip.query)).without_prompt()
    except ErrorPage as exc:
        return error_page(request, exc)
    except RedirectError as exc:
        return to_app(exc.location)
    try:
        return _complete(request, auth, round_trip, params)
    except RedirectError as exc:
        return to_app(exc.location)


def _complete(
    request: HttpRequest,
    auth: AuthorizationRequest,
    round_trip: state.RoundTrip,
    params: QueryDict,
) -> HttpResponse:
    from hostedui.views.pages import _finish  # noqa: PLC0415 (pages imports this module)

    if upstream_error := params.get("error"):
        error = "access_denied" if upstream_error == "access_denied" else "invalid_request"
        detail = params.get("error_description") or upstream_error
        raise auth.error(error, f"{upstream_error}: {detail}"[:300])
    provider = by_name(auth, round_trip.provider_name)
    try:
        subject, claims = oidc.complete(
            social.upstream_for(provider),
            code=params.get("code", ""),
            redirect_uri=callback_url(auth.pool),
            pending=round_trip.pending,
            response_issuer=params.get("iss"),
        )
    except UpstreamError as exc:
        # For the console's event list: which provider failed, and why.
        sign_in_wing.record_failure(
            auth.pool,
            f"{provider.provider_name}: {exc.description}"[:128],
            client=auth.client,
            context=session.context(request),
        )
        raise auth.error(exc.error, exc.description) from exc
    if provider.provider_type == "SignInWithApple":
        claims.update(oidc.apple_user_claims(params.get("user", "")))
    subject = social.subject_of(provider, subject, claims)
    try:
        result = federation.sign_in(
            pool=auth.pool,
            client=auth.client,
            provider=provider,
            subject=subject,
            claims=claims,
            context=session.context(request),
        )
    except domain.CognitoError as exc:
        raise auth.error("invalid_request", exc.message) from exc
    try:
        return _finish(request, auth, result, "")
    except ErrorPage as exc:
        raise auth.error("invalid_request", exc.description) from exc
