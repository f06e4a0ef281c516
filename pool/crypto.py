"""Secrets at rest and one-time values.

- `encrypt` / `decrypt`: Fernet (AES-128-CBC + HMAC) under keys derived from settings
  (COGNATE_ENCRYPTION_KEYS, defaulting to SECRET_KEY); the first key encrypts, all decrypt.
  Client secrets, signing keys, TOTP seeds and SRP verifiers are stored this way.
- `digest`: HMAC-SHA256 keyed from settings, for values we only ever compare (codes, refresh
  tokens, authorization codes, session handles). Fast on purpose: these are high-entropy or
  attempt-limited, so a password hasher would only slow the hot paths.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"cognate", info=purpose).derive(
        secret.encode()
    )


@cache
def _fernet() -> MultiFernet:
    keys = [
        Fernet(base64.urlsafe_b64encode(_derive(k, b"encryption")))
        for k in settings.ENCRYPTION_KEYS
    ]
    return MultiFernet(keys)


@cache
def _digest_key() -> bytes:
    return _derive(settings.ENCRYPTION_KEYS[0], b"digest")


def encrypt(plaintext: str | bytes) -> str:
    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    return _fernet().encrypt(data).decode()


def decrypt_bytes(token: str) -> bytes:
    try:
        return _fernet().decrypt(token.encode())
    except InvalidToken as exc:  # wrong key or tampered row: never silently wrong data
        raise ValueError("cannot decrypt a stored secret: check COGNATE_ENCRYPTION_KEYS") from exc


def decrypt(token: str) -> str:
    return decrypt_bytes(token).decode()


@cache
def _decrypted(token: str) -> str:
    return decrypt(token)


def decrypt_kept(token: str) -> str:
    """`decrypt`, remembered per process for this exact ciphertext: for a value read from the
    database on every request (a client secret at the token endpoint), where decrypting costs
    more than the rest of client authentication. A changed secret is a new ciphertext, so
    nothing stale is ever answered."""
    if _decrypted.cache_info().currsize >= _KEPT_MAX:
        _decrypted.cache_clear()
    return _decrypted(token)


_KEPT_MAX = 4096


def digest(value: str) -> str:
    """Keyed hash of a one-time value, hex. Compare digests with `hmac.compare_digest`."""
    return hmac.new(_digest_key(), value.encode(), hashlib.sha256).hexdigest()


def equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def random_string(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def random_digits(length: int) -> str:
    return random_string(length, string.digits)


def token(nbytes: int = 32) -> str:
    """An opaque, URL-safe random token."""
    return secrets.token_urlsafe(nbytes)


def reset_caches() -> None:
    """Forget derived keys (tests that change settings.ENCRYPTION_KEYS call this)."""
    _fernet.cache_clear()
    _digest_key.cache_clear()
    _decrypted.cache_clear()
