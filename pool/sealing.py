"""Passphrase protection for documents that leave the server (a whole-pool export).

The operator's passphrase goes through scrypt (with a random salt and the cost written in the
document) to 64 bytes: the first 32 are an AES-256-GCM key that seals each secret value, the
last 32 an HMAC-SHA256 key that signs the whole document. A `check` value (the HMAC of a fixed
label) tells a wrong passphrase apart from a document changed after export. Nothing here reads
COGNATE_ENCRYPTION_KEYS: a sealed document opens on any server that is given the passphrase.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

KDF = "scrypt"
CIPHER = "AES-256-GCM"
MAC = "HMAC-SHA256"
# scrypt's cost: 2**15 x 8 x 128 bytes = 32 MiB and ~0.1 s per derivation (OWASP's minimum is
# N=2**17 with r=8 for passwords stored at rest; an export is opened once, by an operator who
# chose the passphrase, so the cost is a floor an importer accepts, not a ceiling).
DEFAULT_N = 2**15
# An importer derives with the document's N: capped (2**17 x 8 x 128 bytes = 128 MiB) so that
# an uploaded file cannot make the server allocate gigabytes.
MIN_LOG_N, MAX_LOG_N = 14, 17
R = 8
P = 1
SEALED_PREFIX = "sealed:"
_CHECK_LABEL = b"cognate sealed document: passphrase check"
_AAD = b"cognate-sealed-value/1"
MIN_PASSPHRASE_CHARS = 12


class SealError(ValueError):
    """A passphrase that does not open the document, or a document changed after sealing."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _same(expected: str, given: Any) -> bool:
    return hmac.compare_digest(expected.encode(), str(given or "").encode())


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes the MAC covers: the document without `mac`, keys sorted, no spaces."""
    body = {key: value for key, value in document.items() if key != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Sealer:
    """Keys derived from one passphrase and salt."""

    salt: bytes
    n: int
    _aead: AESGCM = field(repr=False)
    _mac_key: bytes = field(repr=False)

    @classmethod
    def derive(cls, passphrase: str, *, salt: bytes | None = None, n: int = DEFAULT_N) -> Sealer:
        salt = salt if salt is not None else os.urandom(16)
        material = Scrypt(salt=salt, length=64, n=n, r=R, p=P).derive(passphrase.encode())
        return cls(salt=salt, n=n, _aead=AESGCM(material[:32]), _mac_key=material[32:])

    @classmethod
    def for_document(cls, passphrase: str, protection: dict[str, Any]) -> Sealer:
        """The keys for a sealed document's `protection` block; refuses a wrong passphrase."""
        n = int(protection["n"])
        if n.bit_count() != 1 or not MIN_LOG_N <= n.bit_length() - 1 <= MAX_LOG_N:
            raise SealError(f"scrypt N must be a power of two from 2^{MIN_LOG_N} to 2^{MAX_LOG_N}.")
        try:
            salt = _unb64(str(protection["salt"]))
        except ValueError:
            raise SealError("The export's salt is not base64url.") from None
        sealer = cls.derive(passphrase, salt=salt, n=n)
        if not _same(sealer.check(), protection.get("check")):
            raise SealError("The passphrase does not open this export.")
        return sealer

    def protection(self) -> dict[str, Any]:
        return {
            "kdf": KDF,
            "salt": _b64(self.salt),
            "n": self.n,
            "r": R,
            "p": P,
            "cipher": CIPHER,
            "mac": MAC,
            "check": self.check(),
        }

    def check(self) -> str:
        return hmac.new(self._mac_key, _CHECK_LABEL, hashlib.sha256).hexdigest()

    def seal(self, plaintext: str) -> str:
        """A secret as `sealed:<base64url(nonce | ciphertext | tag)>`; "" stays ""."""
        if not plaintext:
            return ""
        nonce = os.urandom(12)
        return SEALED_PREFIX + _b64(nonce + self._aead.encrypt(nonce, plaintext.encode(), _AAD))

    def open(self, sealed: str) -> str:
        if not sealed:
            return ""
        if not sealed.startswith(SEALED_PREFIX):
            raise SealError("A secret in the export is not sealed.")
        try:
            raw = _unb64(sealed.removeprefix(SEALED_PREFIX))
            return self._aead.decrypt(raw[:12], raw[12:], _AAD).decode()
        except (InvalidTag, ValueError) as exc:
            raise SealError("A sealed secret in the export does not open.") from exc

    def sign(self, document: dict[str, Any]) -> str:
        return hmac.new(self._mac_key, canonical(document), hashlib.sha256).hexdigest()

    def verify(self, document: dict[str, Any]) -> None:
        if not _same(self.sign(document), document.get("mac")):
            raise SealError("The export was changed after it was made (its MAC does not match).")
