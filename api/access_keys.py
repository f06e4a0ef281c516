"""Issuing and importing the access keys that sign admin calls to the JSON API.

A key is created here with a new random pair, or imported with the pair a team already uses
against Cognito (so scripts and CI keep their credentials). The secret is stored encrypted; the
plaintext leaves this module once, in the value `create_access_key` returns.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from django.db import transaction

from api.models import AccessKey
from pool import crypto
from pool.services.validation import invalid

# IAM's shapes: key ids are 16-128 word characters; secrets are 40 characters of base64's
# alphabet when AWS makes them. Imported secrets may be any printable ASCII without spaces.
_KEY_ID = re.compile(r"^\w{16,128}$", re.ASCII)
_SECRET = re.compile(r"^[\x21-\x7e]{16,128}$")
_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "/+"


@dataclass(frozen=True)
class IssuedKey:
    access_key_id: str
    secret_access_key: str  # shown once


def create_access_key(
    *,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    description: str = "",
) -> IssuedKey:
    """Create a key pair, or import one when both halves are given."""
    if (access_key_id is None) != (secret_access_key is None):
        raise invalid(
            "Give both the access key id and the secret access key, or neither.",
            "access_key_id" if access_key_id is None else "secret_access_key",
        )
    if access_key_id is None:
        access_key_id = "AKIA" + crypto.random_string(16, _ID_ALPHABET)
        secret_access_key = crypto.random_string(40, _SECRET_ALPHABET)
    if not isinstance(access_key_id, str) or not _KEY_ID.match(access_key_id):
        raise invalid("An access key id is 16-128 letters, digits or underscores.", "access_key_id")
    if not isinstance(secret_access_key, str) or not _SECRET.match(secret_access_key):
        raise invalid(
            "A secret access key is 16-128 printable ASCII characters without spaces.",
            "secret_access_key",
        )
    if len(description) > 256:
        raise invalid("description is at most 256 characters.", "description")
    with transaction.atomic():
        if AccessKey.objects.filter(pk=access_key_id).exists():
            raise invalid(f"Access key {access_key_id} already exists.", "access_key_id")
        AccessKey.objects.create(
            access_key_id=access_key_id,
            secret=crypto.encrypt(secret_access_key),
            description=description,
        )
    return IssuedKey(access_key_id=access_key_id, secret_access_key=secret_access_key)


def deactivate_access_key(*, access_key_id: str) -> None:
    """Stop a key from signing; calls signed with it get UnrecognizedClientException."""
    with transaction.atomic():
        updated = AccessKey.objects.filter(pk=access_key_id).update(active=False)
    if not updated:
        raise invalid(f"No access key {access_key_id}.", "access_key_id")
