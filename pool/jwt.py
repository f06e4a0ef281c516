"""Signing and verifying the pool's JWTs (RS256 only), with `cryptography`.

Verification trusts nothing in the token before the signature is checked: the algorithm must
be RS256 (no `none`, no HS256 keyed with our public key), the `kid` must be one of the pool's
published keys, and issuer, `token_use` and expiry are checked against the domain clock.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
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
    as Cognito's tokens do. The token is byte for byte what PyJWT's encode makes of the same
    claims and header (tests/pool/test_keys.py), without its generic header handling, which
    cost a refresh about a tenth of its two RSA signatures."""
    key = keys.active_key(pool)
    payload = _COMPACT.encode(claims).encode("utf-8")
    signing_input = b"%s.%s" % (_header_segment(key.kid), _b64url(payload))
    signature = key.private_key.sign(signing_input, _PADDING, _HASH)
    return (b"%s.%s" % (signing_input, _b64url(signature))).decode("ascii")


# json.dumps(claims, separators=(",", ":")) without a new encoder for every token.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


@functools.lru_cache(maxsize=64)
def _header_segment(kid: str) -> bytes:
    """The encoded header of a key's tokens, as PyJWT writes it (sorted, compact)."""
    header = json.dumps({"alg": ALGORITHM, "kid": kid}, separators=(",", ":"), sort_keys=True)
    return _b64url(header.encode("utf-8"))


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def at_hash(access_token: str) -> str:
    """OIDC `at_hash`: base64url of the left half of SHA-256 over the access token."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def verify(
    pool: UserPool,
    token: str | Unverified,
    *,
    token_use: str,
    audience: str | None = None,
) -> dict[str, Any]:
    """The claims of a valid `token_use` ("access" or "id") token of this pool, or
    NotAuthorizedException: "<Kind> Token has expired" or "Invalid <Kind> Token".

    The token is parsed once (`parse`) and its RS256 signature checked with the published key
    by `cryptography`, as PyJWT's RSAAlgorithm does: PyJWT re-parses the token for its header
    and again for its claims, with a per-character alphabet check each time, which cost a
    userInfo request four times the RSA verification itself. A door that already parsed the
    token (`parse`, to find its pool) passes the `Unverified` it got. A token whose signature
    the same published key already checked is not checked again (`_signed_claims`)."""
    label = _LABELS.get(token_use, "Token")
    invalid = NotAuthorizedException(f"Invalid {label}")
    claims = _signed_claims(pool, token)
    if claims is None:
        raise invalid
    if any(claims.get(name) is None for name in _REQUIRED):
        raise invalid
    if claims["iss"] != issuer(pool) or claims.get("token_use") != token_use:
        raise invalid
    if audience is not None and not _has_audience(claims.get("aud"), audience):
        raise invalid
    # Times are checked against the domain clock, which tests freeze.
    exp, iat = claims.get("exp"), claims.get("iat")
    if not _is_int(exp) or not _is_int(iat):
        raise invalid
    now = clock.timestamp()
    if iat > now + LEEWAY:
        raise invalid
    if exp <= now - LEEWAY:
        raise NotAuthorizedException(f"{label} has expired")
    return claims


# Tokens whose signature checked out: token -> (pool id, kid, the key that checked it, the
# token's parse). Apps call userInfo and GetUser with the same access token for its whole
# hour; such a token is not parsed and RSA-verified again while the pool publishes the very
# same key object for its kid (a rotation, retirement or reload makes it verify anew). Only the
# signature's outcome and the parse are kept: the claims are decoded anew (from the kept
# payload) and checked on every call.
_VERIFIED_MAX = 2048
_verified: dict[str, tuple[str, str, object, Unverified]] = {}


def _signed_claims(pool: UserPool, token: object) -> dict[str, Any] | None:
    """The claims of `token` (a string, or its `Unverified` parse) if it is a compact JWS
    (RS256) signed by the key the pool publishes for its `kid`, else None. Nothing in the
    claims is checked here."""
    parsed = token if isinstance(token, Unverified) else None
    text = parsed.token if parsed is not None else token
    usable = isinstance(text, str) and len(text) <= MAX_TOKEN_LENGTH
    known = _verified.get(text) if usable else None
    if known is not None:
        pool_id, kid, checked_with, kept = known
        if pool_id == pool.pk and keys.public_key(pool, kid) is checked_with:
            return parsed.claims if parsed is not None else json.loads(kept.payload)
    if parsed is None:
        parsed = parse(text)
        if parsed is None:
            return None
    header = parsed.header
    if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
        return None
    public_key = keys.public_key(pool, header["kid"])
    if public_key is None:
        return None
    try:
        public_key.verify(parsed.signature, parsed.signing_input, _PADDING, _HASH)
    except InvalidSignature:
        return None
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[text] = (pool.pk, header["kid"], public_key, parsed)
    return parsed.claims


def claimed_pool_id(token: str | Unverified) -> str | None:
    """The pool id a token's (not yet verified) `iss` names, for doors that receive a bare
    token and must find the pool whose keys verify it (the JSON API's AccessToken actions).
    Nothing else may be read from the token before `verify`."""
    parsed = token if isinstance(token, Unverified) else parse(token)
    if parsed is None:
        return None
    claimed = parsed.claims.get("iss")
    prefix = f"{settings.PUBLIC_URL}/"
    if not isinstance(claimed, str) or not claimed.startswith(prefix):
        return None
    pool_id = claimed.removeprefix(prefix)
    return pool_id if pool_id and "/" not in pool_id and "\x00" not in pool_id else None


# ------------------------------------------------------------------------------ compact JWS

_PADDING = padding.PKCS1v15()
_HASH = hashes.SHA256()
_REQUIRED = ("exp", "iat", "iss", "token_use")
# A base64url segment without padding (RFC 7515 §2): the alphabet only, never a length of 4n+1.
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
MAX_TOKEN_LENGTH = 16384


@dataclass(frozen=True)
class Unverified:
    """A compact JWS split and decoded by `parse`, its signature NOT checked: only `verify`
    may trust its claims (`claimed_pool_id` reads `iss` to find the verifying pool). A door
    that needs both parses the token once and passes this to each."""

    token: str  # as received
    header: dict
    claims: dict
    payload: bytes  # the claims as encoded (decoded from base64url, not from JSON)
    signing_input: bytes
    signature: bytes


def parse(token: object) -> Unverified | None:
    """A compact JWS, NOT verified, or None when it is not one: three unpadded base64url
    segments, a header and claims that are JSON objects. A header asking for extensions
    (`crit`) or an unencoded payload (`b64`) is refused: our tokens never carry them. A token
    whose signature checked out before (`_verified`) is not decoded again (the JSON API parses
    its AccessToken on every call to find the pool)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    known = _verified.get(token)
    if known is not None:
        # A token whose signature checked out before is parsed already: the same parse, with
        # its own dicts (a caller may change the ones it gets).
        kept = known[3]
        return Unverified(
            token,
            dict(kept.header),
            json.loads(kept.payload),
            kept.payload,
            kept.signing_input,
            kept.signature,
        )
    segments = token.split(".")
    if len(segments) != 3:
        return None
    try:
        header, payload, signature = (_decode_segment(segment) for segment in segments)
        header, claims = json.loads(header), json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    if "crit" in header or "b64" in header:
        return None
    signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
    return Unverified(token, header, claims, payload, signing_input, signature)


def _decode_segment(segment: str) -> bytes:
    if len(segment) % 4 == 1 or not _SEGMENT.fullmatch(segment):
        raise ValueError("not a base64url segment")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _has_audience(claimed: object, audience: str) -> bool:
    """RFC 7519 §4.1.3: `aud` is one string or a list of strings, one of them ours."""
    if isinstance(claimed, str):
        return claimed == audience
    return (
        isinstance(claimed, list)
        and all(isinstance(item, str) for item in claimed)
        and audience in claimed
    )
