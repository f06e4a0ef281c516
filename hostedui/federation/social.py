"""Each ProviderType as an `Upstream` for hostedui.federation.oidc: generic OIDC, and the
Google, Sign in with Apple, Facebook and Login with Amazon presets.

A preset is its endpoints (the real providers' URLs by default; ProviderDetails may name others,
as Cognito's DescribeIdentityProvider shows `authorize_url`, `token_url`, `attributes_url`, ...,
which is also how the tests point a preset at a loopback server) plus how its claims are read.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

from hostedui.federation import oidc
from hostedui.federation.oidc import Endpoints, Upstream, UpstreamError

GOOGLE_ISSUER = "https://accounts.google.com"
APPLE_ISSUER = "https://appleid.apple.com"
APPLE_CLIENT_SECRET_SECONDS = 300
# The defaults, for a row whose ProviderDetails lack a key (pool.services.identity_providers
# fills in the same URLs, as Cognito's DescribeIdentityProvider shows them).
PRESETS: dict[str, dict[str, str]] = {
    "Google": {
        "oidc_issuer": GOOGLE_ISSUER,
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
    },
    "SignInWithApple": {
        "oidc_issuer": APPLE_ISSUER,
        "authorize_url": "https://appleid.apple.com/auth/authorize",
        "token_url": "https://appleid.apple.com/auth/token",
        "jwks_uri": "https://appleid.apple.com/auth/keys",
    },
    "Facebook": {
        "authorize_url": "https://www.facebook.com/v17.0/dialog/oauth",
        "token_url": "https://graph.facebook.com/v17.0/oauth/access_token",
        "attributes_url": "https://graph.facebook.com/v17.0/me?fields=",
        "attributes_url_add_attributes": "true",
    },
    "LoginWithAmazon": {
        "authorize_url": "https://www.amazon.com/ap/oa",
        "token_url": "https://api.amazon.com/auth/o2/token",
        "attributes_url": "https://api.amazon.com/user/profile",
    },
}
DEFAULT_SCOPES = {
    "Google": "openid email profile",
    "SignInWithApple": "email name",
    "Facebook": "public_profile email",
    "LoginWithAmazon": "profile",
    "OIDC": "openid",
}
# The claim that names the user when AttributeMapping's `username` does not.
SUBJECT_CLAIMS = {"Facebook": "id", "LoginWithAmazon": "user_id"}


def _endpoints(details: Mapping[str, str], preset: Mapping[str, str]) -> Endpoints:
    def pick(name: str) -> str:
        return str(details.get(name) or preset.get(name) or "")

    return Endpoints(
        issuer=pick("oidc_issuer"),
        authorize_url=pick("authorize_url"),
        token_url=pick("token_url"),
        userinfo_url=pick("attributes_url"),
        jwks_uri=pick("jwks_uri"),
    )


def apple_client_secret(details: Mapping[str, str]) -> str:
    """Sign in with Apple's client secret: an ES256 JWT signed with the team's key (iss = team
    id, sub = the Services ID, aud = Apple), made fresh for each code exchange."""
    from joserfc import jwt  # noqa: PLC0415 (about 1 MB a worker: federation only)
    from joserfc.errors import JoseError  # noqa: PLC0415
    from joserfc.jwk import ECKey  # noqa: PLC0415

    try:
        key = ECKey.import_key(str(details["private_key"]))
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise UpstreamError("The Sign in with Apple private key cannot be read.") from exc
    now = int(time.time())
    return jwt.encode(
        {"alg": "ES256", "kid": str(details.get("key_id", ""))},
        {
            "iss": str(details.get("team_id", "")),
            "iat": now,
            "exp": now + APPLE_CLIENT_SECRET_SECONDS,
            "aud": APPLE_ISSUER,
            "sub": str(details.get("client_id", "")),
        },
        key,
    )


def upstream_for(provider) -> Upstream:
    """The `Upstream` of a pool's IdentityProvider row (pool.models.IdentityProvider)."""
    kind = provider.provider_type
    details = provider.provider_details()
    scopes = str(details.get("authorize_scopes") or DEFAULT_SCOPES.get(kind, "openid"))
    scopes = " ".join(scopes.replace(",", " ").split())
    common = {
        "name": provider.provider_name,
        "client_id": str(details.get("client_id", "")),
        "client_secret": str(details.get("client_secret", "")),
        "scopes": scopes,
        "token_method": str(details.get("token_request_method") or "POST").upper(),
    }
    if kind == "OIDC":
        explicit = _endpoints(details, {})
        return Upstream(
            **common,
            issuer=explicit.issuer,
            endpoints=explicit if explicit.authorize_url else None,
            userinfo_method=str(details.get("attributes_request_method") or "GET").upper(),
        )
    if kind == "Google":
        # Google's ID token carries the profile and email claims; its stored attributes_url
        # (the People API) is not an OIDC userInfo, so it is not read.
        endpoints = replace(_endpoints(details, PRESETS["Google"]), userinfo_url="")
        return Upstream(**common, issuer=endpoints.issuer, endpoints=endpoints)
    if kind == "SignInWithApple":
        # Apple has no userInfo: everything is in the ID token (and the posted `user`).
        endpoints = replace(_endpoints(details, PRESETS["SignInWithApple"]), userinfo_url="")
        return Upstream(
            **common,
            issuer=endpoints.issuer,
            endpoints=endpoints,
            # Apple posts the answer back when name or email is asked for.
            response_mode="form_post",
            client_secret_factory=lambda: apple_client_secret(details),
        )
    if kind == "Facebook":
        endpoints = _endpoints(details, PRESETS["Facebook"])
        add = str(details.get("attributes_url_add_attributes") or "true") == "true"
        if add and endpoints.userinfo_url.endswith("="):
            # Cognito's way: the Graph API fields are the id and every mapped claim.
            fields = sorted({"id", *(provider.attribute_mapping or {}).values()})
            endpoints = replace(endpoints, userinfo_url=endpoints.userinfo_url + ",".join(fields))
        return Upstream(
            **common, endpoints=endpoints, id_token=False, claims_from=oidc.facebook_claims
        )
    if kind == "LoginWithAmazon":
        return Upstream(
            **common,
            endpoints=_endpoints(details, PRESETS["LoginWithAmazon"]),
            id_token=False,
            claims_from=oidc.amazon_claims,
        )
    raise UpstreamError(f"{kind} providers do not sign in through OpenID Connect.")


def subject_of(provider, subject: str, claims: Mapping) -> str:
    """The user's id at the provider: the claim AttributeMapping maps to `username` (Cognito's
    rule), else the protocol's subject (the ID token's `sub`, Facebook's `id`, Amazon's
    `user_id`)."""
    claim = (provider.attribute_mapping or {}).get("username")
    value = claims.get(claim) if claim else None
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
        return str(value)
    return subject
