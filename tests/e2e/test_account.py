"""The account page in a real browser (Playwright + Debian's chromium): open it signed out,
sign in, change the email address, read the code from the SMTP sink, confirm it. Screenshots go
to test-artifacts/e2e/<test>/."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from hostedui.oauth import pkce
from pool.models import User
from tests import factories
from tests.pool.helpers import code_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_change_email_on_the_account_page(live_server, settings, smtp_sink, page, artifact_dir):
    settings.PUBLIC_URL = live_server.url
    pool = factories.make_pool(name="Shop", alias_attributes=["email"])
    app = factories.make_client(pool, name="Shop app", callback_urls=[f"{live_server.url}/cb"])
    user = factories.make_user(pool, "alice", email="alice@example.com")
    query = urlencode(
        {
            "client_id": app.client_id,
            "response_type": "code",
            "redirect_uri": f"{live_server.url}/cb",
            "code_challenge": pkce.s256("v" * 50),
            "code_challenge_method": "S256",
        }
    )

    page.goto(f"{live_server.url}/{pool.id}/account?{query}")
    page.fill("#signInFormUsername", "alice@example.com")
    page.fill("#signInFormPassword", factories.PASSWORD)
    page.screenshot(path=artifact_dir / "01-sign-in.png", full_page=True)
    page.click("input[type=submit]")
    page.wait_for_selector("#profileForm")
    page.screenshot(path=artifact_dir / "02-account.png", full_page=True)

    page.click("#contact-email a")
    page.fill("#id_email", "alice.new@example.com")
    page.click("#changeContactForm input[type=submit]")
    page.wait_for_selector("#verifyContactForm")
    page.screenshot(path=artifact_dir / "03-code-sent.png", full_page=True)
    user.refresh_from_db()
    assert user.email == "alice@example.com" and user.email_verified

    code = code_in(smtp_sink.body(smtp_sink.wait_for("alice.new@example.com")))
    page.fill("#verifyContactForm #id_code", code)
    page.click("#verifyContactForm input[name=verify]")
    page.wait_for_selector("#profileForm")
    assert "alice.new@example.com" in page.inner_text("#contact-email")
    page.screenshot(path=artifact_dir / "04-email-changed.png", full_page=True)

    user = User.objects.get(pk=user.pk)
    assert (user.email, user.email_verified) == ("alice.new@example.com", True)
