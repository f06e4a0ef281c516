"""The issuer and the OpenID Provider configuration document (RFC 8414 / OIDC Discovery)."""

from __future__ import annotations

from pool import jwt
from pool.models import UserPool


def issuer(pool: UserPool) -> str:
    """`{PUBLIC_URL}/{pool id}`, exactly: what `iss` says in tokens and authorization responses
    (one definition, in pool.jwt)."""
    return jwt.issuer(pool)


def configuration(pool: UserPool) -> dict:
    base = issuer(pool)
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "token_endpoint": f"{base}/oauth2/token",
        "userinfo_endpoint": f"{base}/oauth2/userInfo",
        "revocation_endpoint": f"{base}/oauth2/revoke",
        "end_session_endpoint": f"{base}/logout",
        "jwks_uri": f"{base}/.well-known/jwks.json",
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
