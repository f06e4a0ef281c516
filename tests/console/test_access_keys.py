"""The JSON API's access keys in the console: listed with their use, created with the secret
shown once, deactivated; audited; read-only operators get 403 on every change; CSRF held."""

from __future__ import annotations

import pytest
from django.urls import reverse

from api.access_keys import create_access_key
from api.models import AccessKey
from console.models import AuditEntry
from pool import clock
from tests.console.helpers import last_audit

pytestmark = pytest.mark.django_db

LIST = reverse("console:access_keys")
CREATE = reverse("console:access_key_create")
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY+EXAMPLEKEY"


def deactivate_url(key_id: str) -> str:
    return reverse("console:access_key_deactivate", args=[key_id])


def test_the_list_shows_each_key_without_its_secret(console):
    create_access_key(access_key_id=KEY_ID, secret_access_key=SECRET, description="terraform")
    AccessKey.objects.filter(pk=KEY_ID).update(last_used_at=clock.now())
    page = console.get(LIST).content.decode()
    assert KEY_ID in page and "terraform" in page and "active" in page
    assert "never" not in page
    assert SECRET not in page


def test_creating_a_key_shows_the_secret_once(console):
    response = console.post(CREATE, {"description": "ci"})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    key = AccessKey.objects.get()
    page = response.content.decode()
    assert key.access_key_id in page and key.secret_plaintext in page
    assert key.description == "ci"
    assert key.secret_plaintext not in console.get(LIST).content.decode()


def test_creating_a_key_is_audited_without_the_secret(console):
    console.post(CREATE, {"description": "ci"})
    key = AccessKey.objects.get()
    entry = last_audit("access_key.create")
    assert entry.detail == {"description": "ci", "access_key_id": key.access_key_id}
    assert key.secret_plaintext not in str(entry.detail)


def test_a_refused_description_creates_nothing(console):
    response = console.post(CREATE, {"description": "x" * 300})
    assert response.status_code == 400
    assert not AccessKey.objects.exists()
    assert not AuditEntry.objects.filter(action="access_key.create").exists()


def test_deactivating_a_key_is_audited(console):
    create_access_key(access_key_id=KEY_ID, secret_access_key=SECRET)
    response = console.post(deactivate_url(KEY_ID))
    assert response.status_code == 302
    assert AccessKey.objects.get().active is False
    assert last_audit("access_key.deactivate").detail == {"access_key_id": KEY_ID}


def test_deactivating_an_unknown_key_says_so_and_audits_nothing(console):
    response = console.post(deactivate_url("AKIA0000000000000000"), follow=True)
    assert "No access key AKIA0000000000000000." in response.content.decode()
    assert not AuditEntry.objects.filter(action="access_key.deactivate").exists()


def test_a_malformed_key_id_is_a_404(console):
    assert console.post("/console/access-keys/AKIA%00/deactivate").status_code == 404


def test_read_only_operators_see_but_cannot_change(readonly_console):
    create_access_key(access_key_id=KEY_ID, secret_access_key=SECRET)
    page = readonly_console.get(LIST)
    assert page.status_code == 200 and KEY_ID in page.content.decode()
    assert "Create access key" not in page.content.decode()
    assert readonly_console.post(CREATE, {"description": "x"}).status_code == 403
    assert readonly_console.post(deactivate_url(KEY_ID)).status_code == 403
    assert list(AccessKey.objects.values_list("active", flat=True)) == [True]


def test_changes_need_the_csrf_token(csrf_console):
    create_access_key(access_key_id=KEY_ID, secret_access_key=SECRET)
    assert csrf_console.post(CREATE, {"description": "x"}).status_code == 403
    assert csrf_console.post(deactivate_url(KEY_ID)).status_code == 403
    assert AccessKey.objects.count() == 1 and AccessKey.objects.get().active


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(LIST).status_code == 302
    assert client.post(CREATE, {"description": "x"}).status_code == 302
    assert not AccessKey.objects.exists()
