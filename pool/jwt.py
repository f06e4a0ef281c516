"""Signing and verifying the pool's JWTs (RS256 only), with PyJWT.

Verification trusts nothing in the token before the signature is checked: the algorithm must
be RS256 (no `none`, no HS256 keyed with our public key), the `kid` must be one of the pool's
published keys, and issuer, `token_use` and expiry are checked against the domain clock.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import jwt as pyjwt
from django.conf import settings

from pool import clock
from pool.errors import NotAuthorizedException
from pool.models import UserPool
from pool.services import keys

ALGORITHM = "RS256"
# Clock skew tolerated on exp/iat, in seconds.
LEEWAY = 10
_LABELS = {"access": "Access Token", "id": "Id Token"}


def issuer(pool: UserPool) -> str:
    return f"{settings.PUBLIC_URL}/{pool.pk}"


def sign(pool: UserPool, claims: dict[str, Any]) -> str:
    """Sign `claims` with the pool's active key. The header carries only `kid` and `alg`,
    as Cognito's tokens do."""
    key = keys.active_key(pool)
    return pyjwt.encode(
        claims,
        key.private_key,
        algorithm=ALGORITHM,
        headers={"kid": key.kid, "typ": None},
    )


def at_hash(access_token: str) -> str:
    """OIDC `at_hash`: base64url of the left half of SHA-256 over the access token."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def verify(
    pool: UserPool,
    token: str,
    *,
    token_use: str,
    audience: str | None = None,
) -> dict[str, Any]:
    """The claims of a valid `token_use` ("access" or "id") token of this pool, or
    NotAuthorizedException: "<Kind> Token has expired" or "Invalid <Kind> Token"."""
    label = _LABELS.get(token_use, "Token")
    invalid = NotAuthorizedException(f"Invalid {label}")
    if not isinstance(token, str) or not token or len(token) > 16384:
        raise invalid
    try:
        header = pyjwt.get_unverified_header(token)
    except pyjwt.PyJWTError:
        raise invalid from None
    if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
        raise invalid
    public_key = keys.public_key(pool, header["kid"])
    if public_key is None:
        raise invalid
    try:
        claims = pyjwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            issuer=issuer(pool),
            audience=audience,
            # Times are checked below against the domain clock, which tests freeze.
            options={
                "require": ["exp", "iat", "iss", "token_use"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": audience is not None,
            },
        )
    except pyjwt.PyJWTError:
        raise invalid from None
    if claims.get("token_use") != token_use:
        raise invalid
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int) or not isinstance(iat, int):
        raise invalid
    now = clock.timestamp()
    if iat > now + LEEWAY:
        raise invalid
    if exp <= now - LEEWAY:
        raise NotAuthorizedException(f"{label} has expired")
    return claims


def claimed_pool_id(token: str) -> str | None:
    """The pool id a token's (not yet verified) `iss` names, for doors that receive a bare
    token and must find the pool whose keys verify it (the JSON API's AccessToken actions).
    Nothing else may be read from the token before `verify`."""
    if not isinstance(token, str) or not token or len(token) > 16384:
        return None
    try:
        claimed = pyjwt.decode(token, options={"verify_signature": False}).get("iss")
    except pyjwt.PyJWTError:
        return None
    prefix = f"{settings.PUBLIC_URL}/"
    if not isinstance(claimed, str) or not claimed.startswith(prefix):
        return None
    pool_id = claimed.removeprefix(prefix)
    return pool_id if pool_id and "/" not in pool_id and "\x00" not in pool_id else None
