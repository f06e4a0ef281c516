"""A person's walk through the hosted pages in a real browser (Playwright + Debian's chromium):
sign-up -> confirm (code from the SMTP sink) -> sign-in -> TOTP setup -> sign-out -> sign-in
with TOTP -> forgot password -> sign-in with the new password. The app they sign in to is the
demo relying party at /demo/. Each page is saved under test-artifacts/hosted/."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.oath import TOTP

from pool import clock
from pool.models import UserPool
from tests import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "hosted"
PASSWORD = "Walk-The-Pages-42"
NEW_PASSWORD = "Walked-Again-43!"


@pytest.fixture
def chromium_page(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def totp_now(secret: str) -> str:
    totp = TOTP(base64.b32decode(secret), step=30, digits=6)
    totp.time = clock.timestamp()
    return f"{totp.token():06d}"


def code_in(sink, to: str, *, after: int) -> str:
    """The 6-digit code in the newest email to `to`, waiting for one beyond the first `after`."""
    import time

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        mails = [m for m in sink.messages if to in m["To"]]
        if len(mails) > after:
            return re.search(r"\b(\d{6})\b", sink.body(mails[-1])).group(1)
        time.sleep(0.1)
    raise AssertionError(f"no new email to {to}")


def test_walk_through_the_hosted_pages(live_server, settings, smtp_sink, chromium_page):
    settings.PUBLIC_URL = live_server.url
    base = live_server.url
    pool = factories.make_pool(
        name="Demo", mfa_configuration=UserPool.Mfa.ON, mfa_methods=["SOFTWARE_TOKEN_MFA"]
    )
    factories.make_client(
        pool,
        name="Demo app",
        callback_urls=[f"{base}/demo/callback"],
        logout_urls=[f"{base}/demo/"],
        brand_color="#0f766e",
    )
    # The domain clock runs behind the wall clock, so that moving it on for the next TOTP step
    # never puts token times ahead of what the demo app (PyJWT, wall clock) accepts.
    clock.freeze(timezone.now() - dt.timedelta(minutes=5))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = chromium_page

    def shot(name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    # The app sends the person to the hosted sign-in page.
    page.goto(f"{base}/demo/")
    shot("01-demo-app")
    page.click("#demoSignIn")
    page.wait_for_url(re.compile(rf"/{pool.id}/login\?"))
    shot("02-sign-in")

    # Sign up, watching the password rules tick.
    page.click("text=Sign up")
    page.wait_for_url(re.compile(rf"/{pool.id}/signup\?"))
    page.fill("#id_username", "walker")
    page.fill("#id_email", "walker@example.com")
    page.fill("#id_password", PASSWORD)
    assert page.locator("li.met").count() >= 5
    shot("03-sign-up")
    page.click("input[name=signUpButton]")

    # Confirm with the code that arrived over SMTP.
    page.wait_for_url(re.compile(rf"/{pool.id}/confirm\?"))
    shot("04-confirm")
    page.fill("#id_code", code_in(smtp_sink, "walker@example.com", after=0))
    page.click("input[name=confirm]")

    # Sign in: the pool requires MFA, so the person sets up an authenticator.
    page.wait_for_url(re.compile(rf"/{pool.id}/login\?"))
    assert page.input_value("#signInFormUsername") == "walker"
    page.fill("#signInFormPassword", PASSWORD)
    shot("05-sign-in-after-confirm")
    page.click("input[name=signInSubmitButton]")
    page.wait_for_url(re.compile(rf"/{pool.id}/mfa/setup\?"))
    assert page.locator(".qr svg").count() == 1
    secret = page.inner_text("#manual-key code").replace(" ", "")
    shot("06-totp-setup")
    page.fill("#id_code", totp_now(secret))
    page.click("input[name=verifySoftwareToken]")

    # Back in the app, signed in, with verified tokens.
    page.wait_for_url(f"{base}/demo/")
    assert "walker" in page.inner_text("main")
    shot("07-signed-in")

    # Sign out, then sign in again with the password and a TOTP code.
    page.click("#demoSignOut")
    page.wait_for_url(f"{base}/demo/")
    assert page.locator("#demoSignOut").count() == 0
    page.click("#demoSignIn")
    page.wait_for_url(re.compile(rf"/{pool.id}/login\?"))
    page.fill("#signInFormUsername", "walker")
    page.fill("#signInFormPassword", PASSWORD)
    page.click("input[name=signInSubmitButton]")
    page.wait_for_url(re.compile(rf"/{pool.id}/mfa\?"))
    shot("08-totp-challenge")
    clock.advance(seconds=30)
    page.fill("#id_code", totp_now(secret))
    page.click("input[name=mfaSubmit]")
    page.wait_for_url(f"{base}/demo/")
    assert "walker" in page.inner_text("main")

    # Forgot password: a code by email, a new password, then sign-in with it.
    page.click("#demoSignOut")
    page.wait_for_url(f"{base}/demo/")
    page.click("#demoSignIn")
    page.wait_for_url(re.compile(rf"/{pool.id}/login\?"))
    page.click("text=Forgot your password?")
    page.wait_for_url(re.compile(rf"/{pool.id}/forgotPassword\?"))
    page.fill("#id_username", "walker")
    shot("09-forgot-password")
    page.click("input[name=reset_my_password]")
    page.wait_for_url(re.compile(rf"/{pool.id}/confirmForgotPassword\?"))
    page.fill("#id_code", code_in(smtp_sink, "walker@example.com", after=1))
    page.fill("#id_password", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    shot("10-confirm-forgot-password")
    page.click("input[name=change_password]")
    page.wait_for_url(re.compile(rf"/{pool.id}/login\?"))
    shot("11-password-changed")
    page.fill("#signInFormPassword", "not-the-password")
    page.click("input[name=signInSubmitButton]")
    assert "Incorrect username or password" in page.inner_text("main")
    shot("12-wrong-password")
    page.fill("#signInFormPassword", NEW_PASSWORD)
    page.click("input[name=signInSubmitButton]")
    page.wait_for_url(re.compile(rf"/{pool.id}/mfa\?"))
    clock.advance(seconds=30)
    page.fill("#id_code", totp_now(secret))
    page.click("input[name=mfaSubmit]")
    page.wait_for_url(f"{base}/demo/")
    assert "walker" in page.inner_text("main")

    # An app that sends an unregistered return address gets the error page, not a redirect.
    page.goto(
        f"{base}/{pool.id}/oauth2/authorize?client_id=unknown&redirect_uri=https://x.example/"
    )
    shot("13-error")
    assert "invalid_client" in page.inner_text("main")
