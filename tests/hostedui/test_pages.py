"""The hosted pages: sign-up and confirmation, sign-in challenges (new password, TOTP setup,
TOTP), forgot password, CSRF, accessibility and branding."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django_otp.oath import TOTP

from pool import clock
from pool.models import User, UserPool, UserStatus
from tests import factories
from tests.hostedui.conftest import authorize_url, redirect_params, sign_in

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Brand-New-Pass-7"


def page(pool, app_client, name: str) -> str:
    return f"/{pool.id}/{name}?{urlsplit(authorize_url(pool, app_client)).query}"


def last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def totp_now(secret: str) -> str:
    totp = TOTP(base64.b32decode(secret), step=30, digits=6)
    totp.time = clock.timestamp()
    return f"{totp.token():06d}"


# --------------------------------------------------------------------------- sign-in page


def test_sign_in_page_keeps_cognitos_markup(client, pool, app_client):
    html = client.get(page(pool, app_client, "login")).content.decode()
    assert 'id="signInFormUsername"' in html and 'name="username"' in html
    assert 'id="signInFormPassword"' in html and 'name="password"' in html
    assert re.search(r'name="signInSubmitButton"[^>]*class="[^"]*btn-primary[^"]*"', html)
    assert 'value="Sign in"' in html
    assert 'autocomplete="current-password"' in html


def test_pages_send_csp_and_refuse_framing(client, pool, app_client):
    response = client.get(page(pool, app_client, "login"))
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_forms_refuse_a_post_without_csrf_token(pool, app_client, user):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        page(pool, app_client, "login"), {"username": "alice", "password": factories.PASSWORD}
    )
    assert response.status_code == 403


def test_page_with_unregistered_redirect_uri_is_the_error_page(client, pool, app_client):
    url = page(pool, app_client, "login").replace("localhost%3A3000", "evil.example")
    response = client.get(url)
    assert response.status_code == 400
    assert b"redirect_mismatch" in response.content


def test_login_hint_prefills_the_username(client, pool, app_client):
    response = client.get(page(pool, app_client, "login") + "&login_hint=carol")
    assert 'value="carol"' in response.content.decode()


def test_field_error_is_next_to_the_field_and_described(client, pool, app_client):
    response = client.post(page(pool, app_client, "login"), {"username": "", "password": "x"})
    html = response.content.decode()
    assert 'aria-describedby="id_username-error"' in html
    assert 'id="id_username-error"' in html
    assert 'aria-invalid="true"' in html


def test_brand_colour_is_served_in_the_branding_stylesheet(client, pool):
    app = factories.make_client(pool, brand_color="#aa3366")
    html = client.get(page(pool, app, "login")).content.decode()
    assert "<style" not in html and "style=" not in html
    href = re.search(r'<link rel="stylesheet" href="([^"]*branding\.css[^"]*)">', html).group(1)
    css = client.get(href.replace("&amp;", "&")).content.decode()
    assert "--brand: #aa3366;" in css


def test_a_malformed_brand_colour_is_not_rendered(client, pool):
    app = factories.make_client(pool, brand_color="red;}x")
    html = client.get(page(pool, app, "login")).content.decode()
    href = re.search(r'href="([^"]*branding\.css[^"]*)"', html).group(1)
    css = client.get(href.replace("&amp;", "&")).content.decode()
    assert "red;}x" not in css and "--brand: #2f6fde;" in css


# ------------------------------------------------------------------- sign-up and confirm


def test_sign_up_shows_required_attributes_and_the_policy(client, pool, app_client):
    html = client.get(page(pool, app_client, "signup")).content.decode()
    assert 'name="email"' in html and 'autocomplete="email"' in html
    assert 'data-check="upper"' in html and 'data-check="length"' in html
    assert 'aria-describedby="id_password-rules"' in html
    assert "password-policy.js" in html


def test_sign_up_confirm_then_sign_in(client, pool, app_client):
    response = client.post(
        page(pool, app_client, "signup"),
        {"username": "dora", "email": "dora@example.com", "password": factories.PASSWORD},
    )
    assert response.status_code == 302 and "/confirm?" in response["Location"]
    confirm = client.get(response["Location"])
    assert 'value="dora"' in confirm.content.decode()
    response = client.post(response["Location"], {"username": "dora", "code": last_code()})
    assert response.status_code == 302 and "/login?" in response["Location"]
    response = client.post(
        response["Location"], {"username": "dora", "password": factories.PASSWORD}
    )
    assert redirect_params(response)["code"]


def test_sign_up_with_a_weak_password_shows_the_rule(client, pool, app_client):
    response = client.post(
        page(pool, app_client, "signup"),
        {"username": "dora", "email": "dora@example.com", "password": "short"},
    )
    assert response.status_code == 400
    assert 'id="id_password-error"' in response.content.decode()


def test_sign_up_refused_when_the_pool_forbids_it(client):
    pool = factories.make_pool(allow_self_sign_up=False)
    app = factories.make_client(pool)
    response = client.get(page(pool, app, "signup"))
    assert response.status_code == 400


def test_wrong_confirmation_code_is_shown_next_to_the_code(client, pool, app_client):
    factories.make_user(pool, "erin", status=UserStatus.UNCONFIRMED)
    response = client.post(
        page(pool, app_client, "confirm"), {"username": "erin", "code": "000000"}
    )
    assert response.status_code == 400
    assert 'id="id_code-error"' in response.content.decode()


def test_resend_confirmation_code_sends_a_new_code(client, pool, app_client):
    factories.make_user(pool, "erin", status=UserStatus.UNCONFIRMED)
    response = client.post(page(pool, app_client, "confirm"), {"username": "erin", "resend": "1"})
    assert response.status_code == 302
    assert mail.outbox and "erin@example.com" in mail.outbox[-1].to


def lead(response) -> str:
    return re.search(r'<p class="lead">(.*?)</p>', response.content.decode()).group(1)


def test_confirm_page_says_where_the_sign_up_code_went(client, pool, app_client):
    response = client.post(
        page(pool, app_client, "signup"),
        {"username": "dora", "email": "dora@example.com", "password": factories.PASSWORD},
    )
    assert lead(client.get(response["Location"])) == (
        "We sent a code by email to d***@e***. Enter it to confirm your account."
    )


def test_confirm_page_reached_directly_does_not_claim_a_code_was_sent(client, pool, app_client):
    response = client.get(page(pool, app_client, "confirm"))
    assert lead(response) == "Enter your confirmation code."
    assert "sent" not in lead(response)


def test_confirm_page_does_not_claim_a_code_when_the_pool_sends_none(client, app_client):
    pool = factories.make_pool(auto_verified_attributes=[])
    app = factories.make_client(pool)
    response = client.post(
        page(pool, app, "signup"),
        {"username": "dora", "email": "dora@example.com", "password": factories.PASSWORD},
    )
    assert mail.outbox == []
    assert lead(client.get(response["Location"])) == "Enter your confirmation code."


def test_confirm_page_after_a_new_code_says_where_it_went(client, pool, app_client):
    factories.make_user(pool, "erin", status=UserStatus.UNCONFIRMED)
    url = page(pool, app_client, "confirm")
    response = client.post(url, {"username": "erin", "code": "", "resend": "1"})
    assert lead(client.get(response["Location"])) == (
        "We sent a code by email to e***@e***. Enter it to confirm your account."
    )


def test_confirm_page_names_no_destination_for_another_name(client, pool, app_client):
    client.post(
        page(pool, app_client, "signup"),
        {"username": "dora", "email": "dora@example.com", "password": factories.PASSWORD},
    )
    response = client.post(page(pool, app_client, "confirm"), {"username": "erin", "code": "1"})
    assert lead(response) == "Enter your confirmation code."


def test_send_a_new_code_is_a_button_of_the_confirm_form(client, pool, app_client):
    """So it sends the name typed there, also for someone who came to the page directly."""
    html = client.get(page(pool, app_client, "confirm")).content.decode()
    form = re.search(r'<form[^>]*id="confirmForm".*?</form>', html, re.S).group()
    assert re.search(r'<button[^>]*name="resend"[^>]*formnovalidate', form)


def test_a_refused_new_code_is_shown_on_the_confirm_page(client, pool, app_client):
    pool.auto_verified_attributes = []
    pool.save()
    response = client.post(page(pool, app_client, "confirm"), {"username": "erin", "resend": "1"})
    assert response.status_code == 400
    assert "Cannot resend codes. Auto verification not turned on." in response.content.decode()
    assert 'value="erin"' in response.content.decode()


# ------------------------------------------------------------------------ forgot password


def test_forgot_password_then_sign_in_with_the_new_one(client, pool, app_client, user):
    response = client.post(page(pool, app_client, "forgotPassword"), {"username": "alice"})
    assert "/confirmForgotPassword?" in response["Location"]
    response = client.post(
        response["Location"],
        {
            "username": "alice",
            "code": last_code(),
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert "/login?" in response["Location"]
    response = client.post(response["Location"], {"username": "alice", "password": NEW_PASSWORD})
    assert redirect_params(response)["code"]


def test_confirm_forgot_password_needs_matching_passwords(client, pool, app_client, user):
    response = client.post(
        page(pool, app_client, "confirmForgotPassword"),
        {"username": "alice", "code": "123456", "password": NEW_PASSWORD, "password2": "other"},
    )
    assert response.status_code == 400
    assert 'id="id_password2-error"' in response.content.decode()


# ---------------------------------------------------------------------- new password


def test_new_password_required_then_signed_in(client, pool, app_client):
    factories.make_user(pool, "fred", status=UserStatus.FORCE_CHANGE_PASSWORD)
    response = sign_in(client, authorize_url(pool, app_client), username="fred")
    assert "/newPassword?" in response["Location"]
    response = client.post(
        response["Location"], {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert redirect_params(response)["code"]
    assert User.objects.get(username="fred").status == UserStatus.CONFIRMED


def test_challenge_page_without_a_challenge_goes_back_to_sign_in(client, pool, app_client):
    response = client.get(page(pool, app_client, "mfa"))
    assert response.status_code == 302 and "/login?" in response["Location"]


# ------------------------------------------------------------------------------- TOTP


@pytest.fixture
def mfa_pool():
    return factories.make_pool(mfa_configuration=UserPool.Mfa.ON)


def setup_totp(client, pool, app) -> tuple[str, object]:
    factories.make_user(pool, "gina")
    response = sign_in(client, authorize_url(pool, app), username="gina")
    assert "/mfa/setup?" in response["Location"]
    setup_url = response["Location"]
    html = client.get(setup_url).content.decode()
    secret = re.search(r'id="manual-key" class="secret"><code>([A-Z2-7 ]+)</code>', html)
    return secret.group(1).replace(" ", ""), setup_url


def test_totp_setup_shows_an_svg_qr_code_and_the_key(client, mfa_pool):
    app = factories.make_client(mfa_pool)
    factories.make_user(mfa_pool, "gina")
    response = sign_in(client, authorize_url(mfa_pool, app), username="gina")
    html = client.get(response["Location"]).content.decode()
    assert "<svg" in html and "<path" in html
    assert "style=" not in html
    assert re.search(r"<code>[A-Z2-7]{4}( [A-Z2-7]{4})+</code>", html)


def test_totp_setup_then_sign_in_with_totp(client, mfa_pool):
    clock.freeze()
    app = factories.make_client(mfa_pool)
    secret, setup_url = setup_totp(client, mfa_pool, app)
    response = client.post(setup_url, {"code": totp_now(secret), "friendly_name": "phone"})
    assert redirect_params(response)["code"]
    other = Client()
    clock.advance(seconds=30)
    response = sign_in(other, authorize_url(mfa_pool, app), username="gina")
    assert "/mfa?" in response["Location"]
    response = other.post(response["Location"], {"code": totp_now(secret)})
    assert redirect_params(response)["code"]


def test_wrong_totp_setup_code_is_shown_next_to_the_field(client, mfa_pool):
    app = factories.make_client(mfa_pool)
    _, setup_url = setup_totp(client, mfa_pool, app)
    response = client.post(setup_url, {"code": "000000"})
    assert response.status_code == 400
    assert 'id="id_code-error"' in response.content.decode()


def test_wrong_totp_at_sign_in_is_shown_and_the_challenge_stays(client, mfa_pool):
    clock.freeze()
    app = factories.make_client(mfa_pool)
    secret, setup_url = setup_totp(client, mfa_pool, app)
    client.post(setup_url, {"code": totp_now(secret)})
    clock.advance(seconds=30)
    other = Client()
    mfa_url = sign_in(other, authorize_url(mfa_pool, app), username="gina")["Location"]
    response = other.post(mfa_url, {"code": "000000"})
    assert response.status_code == 400
    assert other.post(mfa_url, {"code": totp_now(secret)}).status_code == 302


# ------------------------------------------------------------------------------ error page


def test_error_page_explains_only_known_codes(client, pool):
    response = client.get(f"/{pool.id}/error", {"error": "<script>alert(1)</script>"})
    assert b"<script>alert" not in response.content
    assert response.status_code == 400
