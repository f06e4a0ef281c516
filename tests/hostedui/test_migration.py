"""The user migration trigger through the hosted pages: a user only the legacy store knows
(SQLite + bcrypt behind a loopback webhook) signs in through the real sign-in form, gets an
authorization code and tokens with Cognito's claims, and signs in next time without the
trigger; a forgotten password migrates the user and the code arrives by email."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from django.core import mail

from pool.models import User, UserStatus
from pool.services import triggers as trigger_config
from tests import factories
from tests import triggers_support as hooks
from tests.hostedui.conftest import authorize_url, exchange_code, redirect_params
from tests.hostedui.test_pages import last_code, page
from tests.legacy_store import LegacyStore

pytestmark = pytest.mark.django_db
LEGACY_PASSWORD = "hunter2"


@pytest.fixture
def receiver(pool, tmp_path):
    found, server = hooks.serve()
    legacy = LegacyStore(tmp_path / "legacy.sqlite3")
    legacy.add("dora", LEGACY_PASSWORD, email="dora@example.com", full_name="Dora Legacy")
    found.answer = legacy.migration_handler()
    trigger_config.set_trigger(
        pool=pool, kind="UserMigration", webhook=found.url, secret=hooks.SECRET
    )
    yield found
    server.shutdown()
    server.server_close()


def submit_sign_in_form(browser, pool, app_client, username, password):
    """GET authorize, follow it to the sign-in page, fill in its form and submit it."""
    response = browser.get(authorize_url(pool, app_client, scope="openid email profile"))
    assert response.status_code == 302 and "/login?" in response["Location"]
    form_page = response["Location"]
    html = browser.get(form_page).content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    return browser.post(form_page, {"username": username, "password": password})


def test_a_legacy_user_signs_in_through_the_hosted_page(client, pool, app_client, receiver):
    response = submit_sign_in_form(client, pool, app_client, "dora", LEGACY_PASSWORD)
    code = redirect_params(response)["code"]
    tokens = exchange_code(client, pool, app_client, code).json()
    claims = pyjwt.decode(tokens["id_token"], options={"verify_signature": False})
    user = User.objects.get(pool=pool, username="dora")
    assert claims["cognito:username"] == "dora"
    assert claims["sub"] == str(user.sub)
    assert claims["email"] == "dora@example.com" and claims["email_verified"] is True
    assert claims["name"] == "Dora Legacy"
    assert receiver.last()["callerContext"]["clientId"] == app_client.client_id
    # Next time, the pool knows her: no call to the legacy store.
    client.logout()
    response = submit_sign_in_form(client, pool, app_client, "dora", LEGACY_PASSWORD)
    assert redirect_params(response)["code"]
    assert len(receiver.received) == 1


def test_a_wrong_legacy_password_shows_cognitos_message(client, pool, app_client, receiver):
    response = submit_sign_in_form(client, pool, app_client, "dora", "wrong")
    assert response.status_code == 400
    assert "Incorrect username or password." in response.content.decode()
    assert not User.objects.exists()


def test_a_failing_trigger_shows_an_error_and_creates_nothing(client, pool, app_client, receiver):
    receiver.answer = lambda event: (200, b"garbage")
    response = submit_sign_in_form(client, pool, app_client, "dora", LEGACY_PASSWORD)
    assert response.status_code == 400
    assert "Unrecognizable lambda output" in response.content.decode()
    assert not User.objects.exists()


def test_forgot_password_migrates_then_the_new_password_signs_in(
    client, pool, app_client, receiver
):
    response = client.post(page(pool, app_client, "forgotPassword"), {"username": "dora"})
    assert "/confirmForgotPassword?" in response["Location"]
    assert User.objects.get(username="dora").status == UserStatus.RESET_REQUIRED
    assert mail.outbox[-1].to == ["dora@example.com"]
    response = client.post(
        response["Location"],
        {
            "username": "dora",
            "code": last_code(),
            "password": factories.PASSWORD,
            "password2": factories.PASSWORD,
        },
    )
    assert "/login?" in response["Location"]
    response = client.post(
        response["Location"], {"username": "dora", "password": factories.PASSWORD}
    )
    assert redirect_params(response)["code"]
    assert [e["triggerSource"] for e in receiver.events()] == ["UserMigration_ForgotPassword"]
