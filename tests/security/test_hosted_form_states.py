"""Every hosted form's buttons, pressed for a user in each state, for a name that belongs to
nobody, up to and past the per-name cap, and past the per-IP rate limit: never a 500, always one
of our pages or a safe redirect, and a refusal that says why.

The fuzzer (test_fuzz.py) sends random input; this sends well-formed input in every state the
services can refuse, which random input rarely reaches."""

from __future__ import annotations

import pytest
from django.test import Client

from pool import policy
from tests import factories
from tests.security.conftest import USER_STATES, WRONG_CODE, authorize_url
from tests.security.test_fuzz import assert_page, assert_safe_redirect

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "New-Password-77"
# button: (page, form data for a name, the cap the service counts it against)
BUTTONS = {
    "sign in": ("login", lambda name: {"username": name, "password": "Wrong-Horse-9"}, None),
    "sign up": (
        "signup",
        lambda name: {"username": name, "email": "x@example.com", "password": factories.PASSWORD},
        None,
    ),
    "confirm": ("confirm", lambda name: {"username": name, "code": WRONG_CODE}, "confirm_sign_up"),
    "send a new code": (
        "confirm",
        lambda name: {"username": name, "code": "", "resend": "1"},
        "resend_confirmation_code",
    ),
    "reset my password": ("forgotPassword", lambda name: {"username": name}, "forgot_password"),
    "change password": (
        "confirmForgotPassword",
        lambda name: {
            "username": name,
            "code": WRONG_CODE,
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        "confirm_forgot_password",
    ),
}
CAP_MESSAGE = "Too many attempts. Wait a while and try again."
RATE_MESSAGE = "Too many requests. Wait a moment and retry."


def press(browser: Client, pool, app, button: str, name: str):
    path, data, _ = BUTTONS[button]
    url = authorize_url(pool, app).replace("/oauth2/authorize?", f"/{path}?")
    response = browser.post(url, data(name))
    assert_page(response)
    assert_safe_redirect(response, pool)
    return response


@pytest.mark.parametrize("state", [*USER_STATES, "unknown name"])
@pytest.mark.parametrize("button", BUTTONS)
def test_every_button_answers_a_page_up_to_and_past_the_cap(
    pool, app_client, settings, button, state
):
    settings.RATE_LIMIT_PER_MINUTE = 0
    if state in USER_STATES:
        USER_STATES[state](pool)
    operation = BUTTONS[button][2]
    presses = policy.CAPS[operation][0] + 1 if operation else 3
    browser = Client(raise_request_exception=False)
    for _ in range(presses):
        response = press(browser, pool, app_client, button, "alice")
    if operation:
        assert response.status_code == 400
        assert CAP_MESSAGE in response.content.decode()


@pytest.mark.parametrize("state", ["confirmed", "unconfirmed with a code", "unknown name"])
@pytest.mark.parametrize("button", BUTTONS)
def test_every_button_answers_a_page_past_the_per_ip_limit(
    pool, app_client, settings, button, state
):
    settings.RATE_LIMIT_PER_MINUTE = 1
    if state in USER_STATES:
        USER_STATES[state](pool)
    browser = Client(raise_request_exception=False)
    press(browser, pool, app_client, button, "alice")
    response = press(browser, pool, app_client, button, "alice")
    assert response.status_code == 429
    assert RATE_MESSAGE in response.content.decode()
