"""Whole-pool export and import through the console: a sealed download from the pool's
Import / export tab, an upload on the pools page; both audited, refusals shown on the form
with nothing written, and both closed to read-only operators."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from console.models import AuditEntry
from pool.models import AppClient, User, UserPool
from tests import factories
from tests.console.helpers import last_audit

pytestmark = pytest.mark.django_db
PASSPHRASE = "console export passphrase"


def export(console, pool, **data) -> dict:
    fields = {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE, "with_signing_keys": "on"}
    response = console.post(reverse("console:pool_export", args=[pool.id]), {**fields, **data})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return json.loads(response.content)


def upload(console, document: dict | bytes, passphrase: str = PASSPHRASE, **data):
    content = document if isinstance(document, bytes) else json.dumps(document).encode()
    payload = {
        "export_file": SimpleUploadedFile("pool.json", content, content_type="application/json"),
        "passphrase": passphrase,
        "with_domains": "on",
        **data,
    }
    return console.post(reverse("console:pool_import"), payload)


@pytest.fixture
def populated(pool):
    client = factories.make_client(pool, secret="")
    user = factories.make_user(pool, "alice")
    return {"pool": pool, "client": client, "user": user}


def test_the_pool_page_offers_the_whole_pool_export(console, pool):
    page = console.get(reverse("console:import", args=[pool.id])).content.decode()
    assert reverse("console:pool_export", args=[pool.id]) in page
    assert 'name="passphrase_again"' in page
    assert reverse("console:pool_import") in console.get(reverse("console:index")).content.decode()


def test_export_then_import_moves_the_pool_and_is_audited(console, populated):
    pool, client, user = populated["pool"], populated["client"], populated["user"]
    document = export(console, pool)
    assert last_audit("pool.export").target_pool == pool.id
    assert client.plain_secret not in json.dumps(document)
    UserPool.objects.filter(pk=pool.pk).delete()

    response = upload(console, document)

    assert response.status_code == 302
    assert response["Location"] == reverse("console:pool", args=[pool.id])
    assert User.objects.get(pool=pool.pk, username="alice").sub == user.sub
    assert AppClient.objects.get(pk=client.pk).check_secret(client.plain_secret)
    entry = last_audit("pool.import")
    assert entry.target_pool == pool.id and entry.detail["users"] == 1


def test_an_export_needs_matching_passphrases_of_twelve_characters(console, pool):
    url = reverse("console:pool_export", args=[pool.id])
    short = console.post(url, {"passphrase": "short", "passphrase_again": "short"})
    assert short.status_code == 400 and "at least 12" in short.content.decode()
    differ = console.post(url, {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE + "x"})
    assert differ.status_code == 400 and "The two passphrases differ" in differ.content.decode()
    assert not AuditEntry.objects.filter(action="pool.export").exists()


def test_a_wrong_passphrase_is_shown_on_the_form_and_nothing_is_written(console, populated):
    document = export(console, populated["pool"])
    UserPool.objects.filter(pk=populated["pool"].pk).delete()
    response = upload(console, document, passphrase="not the right passphrase")
    assert response.status_code == 400
    assert "The passphrase does not open this export." in response.content.decode()
    assert not UserPool.objects.exists()
    assert not AuditEntry.objects.filter(action="pool.import").exists()


def test_an_existing_pool_id_is_refused_on_the_form(console, populated):
    document = export(console, populated["pool"])
    response = upload(console, document)
    assert response.status_code == 400
    assert "already exists on this server" in response.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\xff\xfe not json", "not JSON"), (b'{"format": "x"}', "not a Cognate pool export")],
)
def test_a_file_that_is_not_an_export_is_refused_on_its_field(console, content, message):
    response = upload(console, content)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_read_only_operators_can_neither_export_nor_import(readonly_console, populated):
    pool = populated["pool"]
    data = {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE}
    assert (
        readonly_console.post(reverse("console:pool_export", args=[pool.id]), data).status_code
        == 403
    )
    assert upload(readonly_console, b"{}").status_code == 403
