"""The code a custom email / SMS sender trigger receives, encrypted for that trigger alone.

Cognito encrypts `request.code` with the pool's KMS key (AWS Encryption SDK). Cognate has no KMS:
each sender trigger gets its own 256-bit key, made when the trigger is configured, shown to the
operator once and kept encrypted at rest (`Trigger.code_key`). The code travels as
base64(nonce[12] + AES-256-GCM ciphertext and tag), the associated data being the event's
`userPoolId` and `triggerSource` joined by ":" so a ciphertext cannot be replayed in another
pool's or flow's event. A handler decrypts it so (README "Custom senders"):

    AESGCM(base64.b64decode(KEY)).decrypt(blob[:12], blob[12:], f"{pool}:{source}".encode())

The code is never logged nor stored in the invocation log.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pool.errors import InvalidParameterException

KEY_BYTES = 32
NONCE_BYTES = 12


def new_key() -> str:
    """A fresh AES-256 key, base64 (standard alphabet, with padding)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def check_key(key: str) -> None:
    """An operator-given key is base64 of exactly 32 bytes."""
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise InvalidParameterException(
            "A sender code key is the base64 of 32 random bytes (AES-256).", field="code_key"
        )


def associated_data(pool_id: str, trigger_source: str) -> bytes:
    """What binds a ciphertext to its event."""
    return f"{pool_id}:{trigger_source}".encode()


def encrypt(key: str, code: str, *, pool_id: str, trigger_source: str) -> str:
    """`code` encrypted under `key` for the event of `trigger_source` in pool `pool_id`."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(base64.b64decode(key)).encrypt(
        nonce, code.encode(), associated_data(pool_id, trigger_source)
    )
    return base64.b64encode(nonce + sealed).decode()


def decrypt(key: str, blob: str, *, pool_id: str, trigger_source: str) -> str:
    """The inverse of `encrypt`: what a handler does (used by the tests and the README)."""
    raw = base64.b64decode(blob)
    return (
        AESGCM(base64.b64decode(key))
        .decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data(pool_id, trigger_source))
        .decode()
    )
