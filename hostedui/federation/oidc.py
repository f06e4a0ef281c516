"""OpenID Connect (and plain OAuth 2.0 social sign-in) towards an upstream identity provider.

Built on maintained libraries: Authlib's OAuth 2.0 client (`OAuth2Session`: authorization URL,
PKCE S256, the code exchange with client_secret_post or client_secret_basic) and joserfc (by
Authlib's author) for the ID token: signature against the provider's JWKS, then `iss`, `aud`,
`azp`, `exp`, `iat` and `nonce`.

An `Upstream` is one provider as this code sees it: endpoints, credentials, scopes and how its
user's claims are read (`claims_from`: the ID token, userInfo, or a social API such as
Facebook's Graph `/me`). `hostedui.federation.social` builds one from a provider row for each
ProviderType; `begin` makes the authorization URL and the round trip's secrets, `complete`
turns the provider's answer into (subject, claims) or raises `UpstreamError`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authlib.common.security import generate_token
from django.core.cache import cache

from pool import clock
from pool.services import identity_provider_checks as provider_checks

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc.jwk import KeySet

# Outbound calls to a provider: never hang a sign-in on a slow upstream.
TIMEOUT = 10
# Discovery documents and JWKS are cached this long (a key the cached set lacks refetches).
METADATA_SECONDS = 3600
# Clock skew allowed on exp / iat.
LEEWAY = 60
# The ID token signatures accepted (shared with the console's check of a provider).
ID_TOKEN_ALGORITHMS = list(provider_checks.ID_TOKEN_ALGORITHMS)


class UpstreamError(Exception):
    """The provider refused, answered something we cannot accept, or could not be reached.
    `error` is the OAuth error code sent back to the app; `description` is Cognito-style text."""

    def __init__(self, description: str, *, error: str = "invalid_request"):
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}")


@dataclass(frozen=True)
class Endpoints:
    issuer: str = ""
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    jwks_uri: str = ""
    # From discovery: how the token endpoint takes the client's secret (empty: not said).
    token_auth_methods: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pending:
    """The secrets of one round trip, kept server-side until the provider answers."""

    state: str
    nonce: str
    code_verifier: str
    # SAML: the AuthnRequest's ID, which the answer's InResponseTo must echo.
    request_id: str = ""


@dataclass(frozen=True)
class Upstream:
    name: str
    client_id: str
    client_secret: str
    scopes: str
    endpoints: Endpoints | None  # None: discover them from `issuer`
    issuer: str = ""
    token_auth: str = "client_secret_post"
    token_method: str = "POST"
    userinfo_method: str = "GET"
    response_mode: str = ""  # "form_post" for Apple
    use_nonce: bool = True
    id_token: bool = True  # False: plain OAuth 2.0 (Facebook, Login with Amazon)
    # (upstream, token response, ID token claims or {}) -> (subject, claims)
    claims_from: Callable[[Upstream, dict, dict], tuple[str, dict]] | None = None
    client_secret_factory: Callable[[], str] | None = None  # Apple: a fresh signed JWT

    def secret(self) -> str:
        return self.client_secret_factory() if self.client_secret_factory else self.client_secret

    def resolved(self) -> Endpoints:
        if self.endpoints is not None and self.endpoints.authorize_url:
            return self.endpoints
        return discover(self.issuer)


# ----------------------------------------------------------------------------------- metadata


def _get_json(url: str, what: str) -> dict:
    """The console's check and the sign-in read a provider through the same fetch (a timeout,
    no redirects, a size limit)."""
    try:
        return provider_checks.fetch_json(url, what, timeout_seconds=TIMEOUT)
    except provider_checks.FetchError as exc:
        raise UpstreamError(f"Could not read the identity provider's {what}.") from exc


def _cache_key(kind: str, url: str) -> str:
    return f"federation:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def discover(issuer: str, *, fresh: bool = False) -> Endpoints:
    """The provider's endpoints from `{issuer}/.well-known/openid-configuration`, whose own
    `issuer` must equal the one configured (OIDC Discovery §4.3)."""
    if not issuer:
        raise UpstreamError("The identity provider has no issuer or endpoints configured.")
    url = provider_checks.discovery_url(issuer)
    key = _cache_key("discovery", url)
    document = None if fresh else cache.get(key)
    if document is None:
        document = _get_json(url, "discovery document")
        if provider_checks.issuer_mismatch(document, issuer):
            raise UpstreamError("The discovery document names another issuer.")
        cache.set(key, document, METADATA_SECONDS)
    return Endpoints(
        issuer=document.get("issuer", ""),
        authorize_url=document.get("authorization_endpoint", ""),
        token_url=document.get("token_endpoint", ""),
        userinfo_url=document.get("userinfo_endpoint", ""),
        jwks_uri=document.get("jwks_uri", ""),
        token_auth_methods=tuple(
            m
            for m in document.get("token_endpoint_auth_methods_supported") or ()
            if isinstance(m, str)
        ),
    )


def _key_set(jwks_uri: str, *, fresh: bool = False) -> KeySet:
    from joserfc.errors import JoseError  # noqa: PLC0415 (about 1 MB a worker: federation only)
    from joserfc.jwk import KeySet  # noqa: PLC0415

    key = _cache_key("jwks", jwks_uri)
    document = None if fresh else cache.get(key)
    if document is None:
        document = _get_json(jwks_uri, "JWKS")
        cache.set(key, document, METADATA_SECONDS)
    try:
        return KeySet.import_key_set(document)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise UpstreamError("The identity provider's JWKS holds no usable key.") from exc


# ---------------------------------------------------------------------------------- the flow


def _token_auth(upstream: Upstream, endpoints: Endpoints) -> str:
    """client_secret_post, unless the provider's discovery document offers only Basic."""
    offered = endpoints.token_auth_methods
    if offered and upstream.token_auth not in offered and "client_secret_basic" in offered:
        return "client_secret_basic"
    return upstream.token_auth


def _session(
    upstream: Upstream, redirect_uri: str, secret: str = "", auth: str = ""
) -> OAuth2Session:
    # Authlib's client (about 1.4 MB a worker) only on a federated sign-in's round trip.
    from authlib.integrations.requests_client import OAuth2Session  # noqa: PLC0415

    return OAuth2Session(
        client_id=upstream.client_id,
        client_secret=secret,
        scope=upstream.scopes,
        redirect_uri=redirect_uri,
        token_endpoint_auth_method=auth or upstream.token_auth,
        code_challenge_method="S256",
    )


def begin(upstream: Upstream, *, redirect_uri: str, login_hint: str = "") -> tuple[str, Pending]:
    """The provider's authorization URL for a new round trip, and the secrets to keep for it:
    `state` (ties the answer to this browser), `nonce` (ties the ID token to this round) and
    the PKCE verifier."""
    endpoints = upstream.resolved()
    pending = Pending(
        state=generate_token(43),
        nonce=generate_token(43) if upstream.use_nonce and upstream.id_token else "",
        code_verifier=generate_token(64),
    )
    extra: dict[str, str] = {}
    if pending.nonce:
        extra["nonce"] = pending.nonce
    if upstream.response_mode:
        extra["response_mode"] = upstream.response_mode
    if login_hint and upstream.id_token:
        extra["login_hint"] = login_hint
    with _session(upstream, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            endpoints.authorize_url,
            state=pending.state,
            code_verifier=pending.code_verifier,
            **extra,
        )
    return url, pending


def complete(
    upstream: Upstream,
    *,
    code: str,
    redirect_uri: str,
    pending: Pending,
    response_issuer: str | None = None,
) -> tuple[str, dict]:
    """Exchange `code`, validate what comes back, and return (subject, claims).
    `response_issuer` is the authorization response's `iss` when it had one (RFC 9207): it
    must be the provider's, else the answer came from another provider (mix-up)."""
    import requests  # noqa: PLC0415 (about 8 MB a worker: federated round trips only)
    from authlib.integrations.base_client.errors import OAuthError  # noqa: PLC0415 (see _session)

    if not code:
        raise UpstreamError("The identity provider sent no authorization code.")
    endpoints = upstream.resolved()
    expected_issuer = endpoints.issuer or upstream.issuer
    if response_issuer is not None and expected_issuer and response_issuer != expected_issuer:
        raise UpstreamError("The authorization response names another issuer.")
    auth = _token_auth(upstream, endpoints)
    with _session(upstream, redirect_uri, upstream.secret(), auth) as client:
        try:
            token = dict(
                client.fetch_token(
                    endpoints.token_url,
                    code=code,
                    code_verifier=pending.code_verifier,
                    method=upstream.token_method,
                    timeout=TIMEOUT,
                )
            )
        except OAuthError as exc:
            raise UpstreamError(f"The identity provider refused the code: {exc.error}") from exc
        except (requests.RequestException, ValueError) as exc:
            raise UpstreamError("Could not exchange the code with the identity provider.") from exc
    id_claims: dict = {}
    if upstream.id_token:
        raw = token.get("id_token")
        if not isinstance(raw, str) or not raw:
            raise UpstreamError("The identity provider sent no ID token.")
        id_claims = validate_id_token(
            raw,
            issuer=endpoints.issuer or upstream.issuer,
            audience=upstream.client_id,
            jwks_uri=endpoints.jwks_uri,
            nonce=pending.nonce,
        )
    extract = upstream.claims_from or oidc_claims
    return extract(upstream, token, id_claims)


def validate_id_token(raw: str, *, issuer: str, audience: str, jwks_uri: str, nonce: str) -> dict:
    """The ID token's claims once its signature (against the provider's JWKS, refetched once
    for an unknown key) and its iss, aud, azp, exp, iat and nonce passed, else UpstreamError."""
    from joserfc import jwt  # noqa: PLC0415 (about 1 MB a worker: federation only)
    from joserfc.errors import JoseError  # noqa: PLC0415

    if not jwks_uri:
        raise UpstreamError("The identity provider has no jwks_uri.")
    try:
        try:
            decoded = jwt.decode(raw, _key_set(jwks_uri), algorithms=ID_TOKEN_ALGORITHMS)
        except (JoseError, ValueError):
            decoded = jwt.decode(
                raw, _key_set(jwks_uri, fresh=True), algorithms=ID_TOKEN_ALGORITHMS
            )
    except (JoseError, ValueError) as exc:
        raise UpstreamError("Invalid ID token: bad signature or format.") from exc
    claims = decoded.claims
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": audience},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    if nonce:
        options["nonce"] = {"essential": True, "value": nonce}
    registry = jwt.JWTClaimsRegistry(now=int(clock.timestamp()), leeway=LEEWAY, **options)
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise UpstreamError(f"Invalid ID token: {exc.description or exc.error}") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != audience:
        raise UpstreamError("Invalid ID token: azp is not this client.")
    if not isinstance(claims["iat"], int | float) or claims["iat"] > clock.timestamp() + LEEWAY:
        raise UpstreamError("Invalid ID token: iat is in the future.")
    return dict(claims)


def _user_info(upstream: Upstream, token: dict, url: str, params: dict | None = None) -> dict:
    import requests  # noqa: PLC0415 (about 8 MB a worker: federated round trips only)

    access_token = token.get("access_token")
    if not access_token:
        raise UpstreamError("The identity provider sent no access token.")
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    try:
        if upstream.userinfo_method == "POST":
            response = requests.post(url, headers=headers, data=params, timeout=TIMEOUT)
        else:
            response = requests.get(url, headers=headers, params=params, timeout=TIMEOUT)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise UpstreamError("Could not read the user's attributes from the provider.") from exc
    if not isinstance(body, dict):
        raise UpstreamError("The provider's user attributes are not a JSON object.")
    return body


def oidc_claims(upstream: Upstream, token: dict, id_claims: dict) -> tuple[str, dict]:
    """OIDC: the ID token's claims, completed by userInfo when the provider has it (as Cognito
    does, with attributes_request_method); userInfo's `sub` must be the ID token's."""
    claims = dict(id_claims)
    endpoints = upstream.resolved()
    if endpoints.userinfo_url and token.get("access_token"):
        info = _user_info(upstream, token, endpoints.userinfo_url)
        if str(info.get("sub", "")) != str(id_claims["sub"]):
            raise UpstreamError("userInfo names another subject than the ID token.")
        claims.update(info)
    for name in ("email_verified", "phone_number_verified"):
        if isinstance(claims.get(name), str):  # Apple and others send "true"/"false"
            claims[name] = claims[name].lower() == "true"
    return str(id_claims["sub"]), claims


def facebook_claims(upstream: Upstream, token: dict, _: dict) -> tuple[str, dict]:
    """Facebook: Graph API `/me?fields=...` with `appsecret_proof` (HMAC-SHA256 of the access
    token under the app secret). Facebook never says an email is verified."""
    access_token = str(token.get("access_token", ""))
    proof = hmac.new(
        upstream.client_secret.encode(), access_token.encode(), hashlib.sha256
    ).hexdigest()
    info = _user_info(upstream, token, upstream.resolved().userinfo_url, {"appsecret_proof": proof})
    subject = str(info.get("id", ""))
    if not subject:
        raise UpstreamError("Facebook sent no user id.")
    info.pop("email_verified", None)
    return subject, info


def amazon_claims(upstream: Upstream, token: dict, _: dict) -> tuple[str, dict]:
    """Login with Amazon: `/user/profile` answers user_id, name, email (and postal_code)."""
    info = _user_info(upstream, token, upstream.resolved().userinfo_url)
    subject = str(info.get("user_id", ""))
    if not subject:
        raise UpstreamError("Login with Amazon sent no user_id.")
    info.pop("email_verified", None)
    return subject, info


def apple_user_claims(posted_user: str) -> dict:
    """Apple posts the user's name (first sign-in only) in the `user` form field as JSON."""
    try:
        user = json.loads(posted_user) if posted_user else {}
    except ValueError:
        return {}
    name = user.get("name") if isinstance(user, dict) else None
    if not isinstance(name, dict):
        return {}
    out = {}
    if isinstance(name.get("firstName"), str):
        out["firstName"] = name["firstName"]
    if isinstance(name.get("lastName"), str):
        out["lastName"] = name["lastName"]
    return out
