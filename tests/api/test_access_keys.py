"""Access keys: created or imported by `createaccesskey`, the secret stored encrypted."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.models import AccessKey
from pool import crypto
from tests.api.conftest import IMPORTED_ID, IMPORTED_SECRET

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("createaccesskey", *args, stdout=out)
    return out.getvalue()


def test_createaccesskey_makes_a_new_pair_and_prints_it_once():
    result = json.loads(run("--json"))
    key = AccessKey.objects.get(pk=result["access_key_id"])
    assert key.secret_plaintext == result["secret_access_key"]
    assert len(result["secret_access_key"]) == 40


def test_createaccesskey_imports_an_existing_pair_with_slash_and_plus():
    result = json.loads(
        run("--access-key-id", IMPORTED_ID, "--secret-access-key", IMPORTED_SECRET, "--json")
    )
    assert result == {"access_key_id": IMPORTED_ID, "secret_access_key": IMPORTED_SECRET}
    assert AccessKey.objects.get(pk=IMPORTED_ID).secret_plaintext == IMPORTED_SECRET


def test_the_secret_is_encrypted_at_rest():
    run("--access-key-id", IMPORTED_ID, "--secret-access-key", IMPORTED_SECRET)
    stored = AccessKey.objects.get(pk=IMPORTED_ID).secret
    assert IMPORTED_SECRET not in stored
    assert crypto.decrypt(stored) == IMPORTED_SECRET


def test_half_a_pair_is_refused():
    with pytest.raises(CommandError, match="both"):
        run("--access-key-id", IMPORTED_ID)
    assert not AccessKey.objects.exists()


def test_an_existing_key_id_is_not_overwritten():
    run("--access-key-id", IMPORTED_ID, "--secret-access-key", IMPORTED_SECRET)
    with pytest.raises(CommandError, match="already exists"):
        run("--access-key-id", IMPORTED_ID, "--secret-access-key", "another-secret-of-length")
    assert AccessKey.objects.get(pk=IMPORTED_ID).secret_plaintext == IMPORTED_SECRET


@pytest.mark.parametrize(
    ("key_id", "secret"),
    [
        ("short", IMPORTED_SECRET),
        ("AKIA SPACE IN ID 0000", IMPORTED_SECRET),
        (IMPORTED_ID, "has a space in it, too long enough"),
        (IMPORTED_ID, "tiny"),
    ],
)
def test_malformed_pairs_are_refused(key_id, secret):
    with pytest.raises(CommandError, match="InvalidParameterException"):
        run("--access-key-id", key_id, "--secret-access-key", secret)
    assert not AccessKey.objects.exists()
