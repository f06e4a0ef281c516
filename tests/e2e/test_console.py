"""The operator console in a real browser (Playwright + Debian's chromium): an operator signs
in with TOTP, finds a user by email prefix, confirms, disables, sets a password and resets MFA.
Screenshots go to test-artifacts/console/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User as Operator
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.models import AuditEntry
from pool import crypto
from pool.models import TotpDevice, User, UserStatus
from pool.services import passwords
from tests import factories
from tests.e2e.conftest import chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
OPERATOR_PASSWORD = "Operator-Pass-42"
NEW_PASSWORD = "Chosen-By-Ops-91"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def scene(db):
    """An operator with an authenticator, and a pool with the user to look after."""
    operator = Operator.objects.create_superuser("ops", "ops@ops.example", OPERATOR_PASSWORD)
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    pool = factories.make_pool(name="Shop")
    zoe = factories.make_user(
        pool,
        "zoe",
        email="zoe@shop.example",
        status=UserStatus.UNCONFIRMED,
        software_token_mfa_enabled=True,
        preferred_mfa="SOFTWARE_TOKEN_MFA",
    )
    TotpDevice.objects.create(user=zoe, name="Zoe's phone", secret=crypto.encrypt("A" * 32))
    factories.make_user(pool, "zack", email="zack@other.example")
    return {"pool": pool, "zoe": zoe, "key": device.bin_key}


def test_operator_looks_after_a_user(live_server, scene):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    code = f"{totp(scene['key']):06d}"

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        questions: list[str] = []

        def answer(dialog):
            questions.append(dialog.message)
            dialog.accept()

        page.on("dialog", answer)
        page.goto(f"{base}/console/login")
        page.fill("#id_username", "ops")
        page.fill("#id_password", OPERATOR_PASSWORD)
        page.get_by_role("button", name="Continue", exact=True).click()
        expect(page.locator("h1")).to_have_text("Authentication code")
        page.fill("#id_token", code)
        page.get_by_role("button", name="Verify", exact=True).click()
        expect(page.locator("h1")).to_have_text("User pools")
        page.screenshot(path=ARTIFACTS / "01-pools.png", full_page=True)

        page.click("text=Shop")
        page.click("nav.tabs >> text=Users")
        page.select_option("#id_attribute", "email")
        page.select_option("#id_op", "^=")
        page.fill("#id_value", "zoe@")
        page.get_by_role("button", name="Search", exact=True).click()
        rows = page.locator("#users tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("zoe@shop.example")
        page.screenshot(path=ARTIFACTS / "02-search.png", full_page=True)

        page.click("#users >> text=zoe")
        expect(page.locator("#user-name")).to_have_text("zoe")
        status_messages = page.locator(".flash[role=status]")
        page.get_by_role("button", name="Confirm", exact=True).click()
        expect(status_messages).to_contain_text("zoe is confirmed.")
        expect(page.locator("#user-status")).to_have_text("CONFIRMED")

        page.get_by_role("button", name="Disable", exact=True).click()
        expect(status_messages).to_contain_text("disabled and signed out everywhere")
        expect(page.locator("#user-enabled")).to_have_text("disabled")

        page.fill("#pw-password", NEW_PASSWORD)
        page.check("#pw-permanent")
        page.get_by_role("button", name="Set password", exact=True).click()
        expect(status_messages).to_contain_text("Password set, permanent.")

        page.get_by_role("button", name="Remove authenticator", exact=True).click()
        expect(status_messages).to_contain_text("Authenticator removed")
        expect(page.locator("#mfa")).to_contain_text("None enrolled.")
        page.screenshot(path=ARTIFACTS / "03-user.png", full_page=True)

        page.goto(f"{base}/console/audit/")
        expect(page.locator("table")).to_contain_text("user.remove_totp")
        page.screenshot(path=ARTIFACTS / "04-audit.png", full_page=True)

    # Disable and remove-authenticator asked first (console.js, data-confirm).
    assert [q.split("?")[0] for q in questions] == [
        "Disable zoe",
        "Remove the authenticator of zoe",
    ]
    zoe = User.objects.get(pk=scene["zoe"].pk)
    assert zoe.status == UserStatus.CONFIRMED
    assert not zoe.enabled
    assert passwords.verify(zoe, NEW_PASSWORD)
    assert not zoe.totp_devices.exists()
    assert zoe.mfa_enabled_methods == []
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "user.confirm",
        "user.disable",
        "user.set_password",
        "user.remove_totp",
    ]
    assert (ARTIFACTS / "03-user.png").stat().st_size > 0
