"""Who gets into the console: password, then TOTP (enrolling a first device), staff only,
read-only operators see but cannot change, CSRF on every POST."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.models import AuditEntry
from tests import factories
from tests.console.conftest import OPERATOR_PASSWORD, current_code, make_operator

pytestmark = pytest.mark.django_db

LOGIN = reverse("console:login")
OTP = reverse("console:otp")
INDEX = reverse("console:index")


def sign_in_with_password(client: Client, username: str = "ops", password=OPERATOR_PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("console:audit"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_password_step_leads_to_the_totp_step(operator):
    client = Client()
    response = sign_in_with_password(client)
    assert response.status_code == 302
    assert response["Location"].startswith(OTP)


def test_password_sign_in_rotates_the_session_id(operator):
    client = Client()
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    sign_in_with_password(client)
    assert client.session.session_key != before


def test_wrong_password_is_refused_with_a_message(operator):
    response = sign_in_with_password(Client(), password="nope")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_non_staff_account_is_refused_like_a_wrong_password(db):
    from django.contrib.auth.models import User

    User.objects.create_user("plain", password=OPERATOR_PASSWORD)
    response = sign_in_with_password(Client(), username="plain")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_signed_in_but_unverified_operator_is_sent_to_the_totp_step(operator):
    client = Client()
    client.force_login(operator)
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"].startswith(OTP)


def enrolment_device(client: Client) -> TOTPDevice:
    """The device the enrolment page offers (not saved yet: its key waits in the session)."""
    return TOTPDevice(key=client.session["console_enrolment_key"])


def test_first_sign_in_shows_an_svg_qr_code_and_the_manual_key(operator):
    client = Client()
    sign_in_with_password(client)
    page = client.get(OTP).content.decode()
    assert "<svg" in page and "<path" in page
    manual = re.search(r'id="manual-key">([A-Z2-7 ]+)<', page).group(1)
    key = base64.b32encode(enrolment_device(client).bin_key).decode().rstrip("=")
    assert manual.replace(" ", "") == key


def test_showing_the_enrolment_page_stores_no_device(operator):
    client = Client()
    sign_in_with_password(client)
    client.get(OTP)
    client.get(OTP)
    assert not TOTPDevice.objects.filter(user=operator).exists()


def test_enrolment_page_keeps_its_key_across_reloads(operator):
    client = Client()
    sign_in_with_password(client)
    first = client.get(OTP).context["manual_key"]
    assert client.get(OTP).context["manual_key"] == first


def test_enrolment_saves_the_device_and_verifies_the_session(operator):
    client = Client()
    sign_in_with_password(client)
    client.get(OTP)
    offered = enrolment_device(client)
    response = client.post(OTP, {"token": current_code(offered)})
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=operator)
    assert device.confirmed and device.key == offered.key
    assert client.get(INDEX).status_code == 200
    assert AuditEntry.objects.filter(action="operator.enrol_totp", operator=operator).exists()


def test_enrolment_refuses_a_wrong_code(operator):
    client = Client()
    sign_in_with_password(client)
    client.get(OTP)
    wrong = f"{(int(current_code(enrolment_device(client))) + 1) % 1_000_000:06d}"
    response = client.post(OTP, {"token": wrong})
    assert b"That code is not valid" in response.content
    assert not TOTPDevice.objects.filter(user=operator).exists()


def test_enrolled_operator_signs_in_with_a_code(operator):
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    client = Client()
    sign_in_with_password(client)
    page = client.get(OTP).content.decode()
    assert "<svg" not in page  # no second enrolment
    response = client.post(OTP, {"token": current_code(device)})
    assert response.status_code == 302
    assert client.get(INDEX).status_code == 200


def test_totp_step_rotates_the_session_id(operator):
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    client = Client()
    sign_in_with_password(client)
    before = client.session.session_key
    client.post(OTP, {"token": current_code(device)})
    assert client.session.session_key != before


def test_wrong_code_is_refused_next_to_the_field(operator):
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    client = Client()
    sign_in_with_password(client)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(OTP, {"token": wrong})
    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert client.get(INDEX).status_code == 302


def test_a_used_code_cannot_be_replayed(operator):
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    first = Client()
    sign_in_with_password(first)
    code = current_code(device)
    first.post(OTP, {"token": code})
    second = Client()
    sign_in_with_password(second)
    response = second.post(OTP, {"token": code})
    assert b"That code is not valid" in response.content


def test_after_sign_in_the_operator_returns_to_the_page_asked_for(operator):
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    client = Client()
    audit = reverse("console:audit")
    client.post(LOGIN, {"username": "ops", "password": OPERATOR_PASSWORD, "next": audit})
    response = client.post(OTP, {"token": current_code(device), "next": audit})
    assert response["Location"] == audit


def test_an_outside_next_url_is_ignored(operator):
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    client = Client()
    sign_in_with_password(client)
    response = client.post(OTP, {"token": current_code(device), "next": "https://evil.example/"})
    assert response["Location"] == INDEX


def test_sign_out_ends_the_session(console):
    response = console.post(reverse("console:logout"))
    assert response.status_code == 302
    assert console.get(INDEX).status_code == 302


def test_read_only_operator_can_read_pages(readonly_console):
    pool = factories.make_pool(name="seen")
    response = readonly_console.get(reverse("console:pool", args=[pool.id]))
    assert response.status_code == 200
    assert b"read-only" in response.content


def test_read_only_operator_gets_403_on_post(readonly_console):
    pool = factories.make_pool()
    response = readonly_console.post(reverse("console:keys_rotate", args=[pool.id]))
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_read_only_operator_sees_no_change_buttons(readonly_console):
    pool = factories.make_pool()
    user = factories.make_user(pool, "bob")
    page = readonly_console.get(reverse("console:user", args=[pool.id, user.sub])).content
    assert b"Reset password" not in page


def test_superuser_may_change_without_the_permission(db):
    boss = make_operator("boss", can_change=False, superuser=True)
    from tests.console.conftest import verified_client

    pool = factories.make_pool()
    response = verified_client(boss).post(reverse("console:keys_rotate", args=[pool.id]))
    assert response.status_code == 302


def test_post_without_csrf_token_is_refused(csrf_console):
    pool = factories.make_pool()
    response = csrf_console.post(reverse("console:keys_rotate", args=[pool.id]))
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_post_with_csrf_token_from_the_page_is_accepted(csrf_console):
    pool = factories.make_pool()
    page = csrf_console.get(reverse("console:keys", args=[pool.id])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = csrf_console.post(
        reverse("console:keys_rotate", args=[pool.id]), {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_sign_in_form_needs_csrf_too(operator):
    client = Client(enforce_csrf_checks=True)
    response = sign_in_with_password(client)
    assert response.status_code == 403


def test_pages_carry_no_inline_style_or_script(console):
    pool = factories.make_pool()
    user = factories.make_user(pool, "carol")
    page = console.get(reverse("console:user", args=[pool.id, user.sub])).content.decode()
    assert "style=" not in page
    assert "<script>" not in page and "<style" not in page


def test_audit_log_lists_entries_newest_first(console):
    pool = factories.make_pool()
    console.post(reverse("console:keys_rotate", args=[pool.id]))
    console.post(reverse("console:keys_rotate", args=[pool.id]))
    entries = list(AuditEntry.objects.all())
    assert len(entries) == 2
    page = console.get(reverse("console:audit")).content.decode()
    assert page.count("keys.rotate") == 2
    assert entries[0].created_at >= entries[1].created_at


def test_audit_entry_records_operator_ip_and_user_agent(console, operator):
    pool = factories.make_pool()
    console.post(
        reverse("console:keys_rotate", args=[pool.id]),
        HTTP_USER_AGENT="ops-browser/1.0",
        REMOTE_ADDR="10.1.2.3",
    )
    entry = AuditEntry.objects.get()
    assert (entry.operator, entry.operator_name, entry.target_pool) == (operator, "ops", pool.id)
    assert (entry.ip, entry.user_agent) == ("10.1.2.3", "ops-browser/1.0")


def test_audit_log_filters_by_pool(console):
    first, second = factories.make_pool(), factories.make_pool()
    console.post(reverse("console:keys_rotate", args=[first.id]))
    console.post(reverse("console:keys_rotate", args=[second.id]))
    page = console.get(reverse("console:audit"), {"pool": first.id}).content.decode()
    assert first.id in page
    assert second.id not in page


def test_password_step_is_rate_limited_per_address(operator, settings):
    settings.RATE_LIMIT_PER_MINUTE = 2
    client = Client()
    for _ in range(2):
        assert sign_in_with_password(client, password="wrong").status_code == 200
    response = sign_in_with_password(client)
    assert response.status_code == 429
    assert b"Too many attempts from your address" in response.content
    assert "_auth_user_id" not in client.session


def test_totp_step_is_rate_limited_per_address(operator, settings):
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    client = Client()
    sign_in_with_password(client)
    settings.RATE_LIMIT_PER_MINUTE = 1
    client.post(OTP, {"token": "000000"})
    response = client.post(OTP, {"token": current_code(device)})
    assert response.status_code == 429
    assert client.get(INDEX).status_code == 302
