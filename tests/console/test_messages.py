"""The console's Messages page: a pool's message templates per language, set (audited) and
cleared, refused with the service's error next to the field and nothing changed; read-only
operators see but cannot change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditEntry
from pool.models import UserPool
from tests import factories
from tests.console.helpers import last_audit

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    return factories.make_pool(name="shop")


def url(pool) -> str:
    return reverse("console:message_templates", args=[pool.id])


def form(language: str, **templates) -> dict:
    fields = (
        "verification_email_subject",
        "verification_email_message",
        "verification_sms_message",
        "invitation_email_subject",
        "invitation_email_message",
        "mfa_message",
    )
    return {"language": language, **{f: templates.get(f, "") for f in fields}}


def test_set_a_languages_templates_then_see_them(console, pool):
    response = console.post(
        url(pool), form("de", verification_email_message="Ihr Shop-Code: {####}")
    )
    assert response.status_code == 302 and response["Location"].endswith("?language=de")
    assert UserPool.objects.get(pk=pool.pk).message_templates == {
        "de": {"verification_email_message": "Ihr Shop-Code: {####}"}
    }
    entry = last_audit("pool.message_templates")
    assert entry.detail == {"language": "de", "set": ["verification_email_message"]}
    page = console.get(response["Location"]).content.decode()
    assert "Ihr Shop-Code: {####}" in page and "Verification email message" in page


def test_an_empty_form_clears_the_language(console, pool):
    pool.message_templates = {"fr": {"mfa_message": "Code {####}"}}
    pool.save()
    assert console.post(url(pool), form("fr")).status_code == 302
    assert UserPool.objects.get(pk=pool.pk).message_templates == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form("de", mfa_message="kein Code"), "mfa_message must contain {####}."),
        (form("ko", mfa_message="{####}"), "Select a valid choice."),
        (
            form("ja", invitation_email_message="パスワード {####}"),
            "invitation_email_message must contain {username}.",
        ),
    ],
)
def test_bad_templates_are_refused_and_nothing_changes(console, pool, data, message):
    pool.message_templates = {"de": {"mfa_message": "Code {####}"}}
    pool.save()
    before = AuditEntry.objects.count()
    response = console.post(url(pool), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert UserPool.objects.get(pk=pool.pk).message_templates == {
        "de": {"mfa_message": "Code {####}"}
    }
    assert AuditEntry.objects.count() == before


def test_read_only_operators_see_but_cannot_change(readonly_console, pool):
    page = readonly_console.get(url(pool))
    assert page.status_code == 200 and "Save templates" not in page.content.decode()
    response = readonly_console.post(url(pool), form("de", mfa_message="{####}"))
    assert response.status_code == 403
    assert UserPool.objects.get(pk=pool.pk).message_templates == {}
