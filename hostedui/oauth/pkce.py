"""PKCE (RFC 7636), S256 only: `plain` gives no protection against a stolen code, so it is
refused at the authorization endpoint, as Cognito refuses it."""

from __future__ import annotations

import base64
import hashlib
import re

from pool import crypto

METHODS = ("S256",)
# RFC 7636 §4.1: 43 to 128 unreserved characters.
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
# An S256 challenge is the unpadded base64url of a SHA-256 digest: exactly 43 characters.
S256_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(verifier: str, challenge: str) -> bool:
    """True when `verifier` is well formed and hashes to `challenge` (constant-time compare)."""
    if not VERIFIER.match(verifier or ""):
        return False
    return crypto.equals(s256(verifier), challenge)
