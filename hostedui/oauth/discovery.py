"""The issuer and the OpenID Provider configuration document (RFC 8414 / OIDC Discovery).

The issuer is always `{PUBLIC_URL}/{pool id}`. When the pool has a domain (its custom domain,
else its prefix domain), the document names that domain's endpoints, as Cognito's does: its
issuer and JWKS stay at `https://cognito-idp.{region}.amazonaws.com/{pool id}` while authorize,
token and userInfo move to `https://{domain}/oauth2/…`. The same document is served at the
issuer and, as a Cognate addition, on the domain itself.
"""

from __future__ import annotations

from pool import jwt
from pool.models import UserPool
from pool.selectors import domains


def issuer(pool: UserPool) -> str:
    """`{PUBLIC_URL}/{pool id}`, exactly: what `iss` says in tokens and authorization responses
    (one definition, in pool.jwt)."""
    return jwt.issuer(pool)


def endpoints_base(pool: UserPool) -> str:
    """Where the pool's OAuth endpoints and pages are published: its preferred domain's URL,
    or the issuer when it has no domain."""
    return domains.preferred_url(pool) or issuer(pool)


def configuration(pool: UserPool) -> dict:
    iss, base = issuer(pool), endpoints_base(pool)
    return {
        "issuer": iss,
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "token_endpoint": f"{base}/oauth2/token",
        "userinfo_endpoint": f"{base}/oauth2/userInfo",
        "revocation_endpoint": f"{base}/oauth2/revoke",
        "end_session_endpoint": f"{base}/logout",
        "jwks_uri": f"{iss}/.well-known/jwks.json",
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": [
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials",
        ],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "cognito:username",
            "cognito:groups",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
        ],
        "authorization_response_iss_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    }
