"""Custom authentication through the hosted pages, with Django's test client through the real
forms: the sign-in page offers the sign-in without a password when the pool has the three
custom-auth triggers (AWS's passwordless email-code handlers), the challenge page shows the
question and posts the answer, wrong answers, failAuthentication, a trigger failure."""

from __future__ import annotations

import re

import pytest

from pool.models import UserPool
from pool.services import triggers as trigger_config
from tests import custom_auth_handlers as handlers
from tests import factories
from tests.hostedui.conftest import exchange_code, redirect_params
from tests.hostedui.test_pages import page

pytestmark = pytest.mark.django_db
HANDLERS = "tests.custom_auth_handlers."


@pytest.fixture
def pool(db):
    return factories.make_pool(name="hosted-custom", mfa_configuration=UserPool.Mfa.OFF)


@pytest.fixture
def passwordless(pool):
    handlers.SEEN.clear()
    handlers.install(pool)


def form_action(html: str, form_id: str) -> str:
    found = re.search(rf'<form method="post" action="([^"]+)"[^>]*id="{form_id}"', html)
    assert found, f"no form {form_id}"
    return found.group(1).replace("&amp;", "&")


def start(client, pool, app_client, username="alice"):
    """Open the sign-in page and submit its sign-in-without-a-password form."""
    html = client.get(page(pool, app_client, "login")).content.decode()
    return client.post(form_action(html, "customSignInForm"), {"username": username})


def answer(client, challenge_page: str, value: str):
    html = client.get(challenge_page).content.decode()
    return client.post(form_action(html, "customChallengeForm"), {"answer": value})


def test_sign_in_page_offers_it_only_with_the_triggers(client, pool, app_client):
    assert b"customSignInForm" not in client.get(page(pool, app_client, "login")).content
    handlers.install(pool)
    assert b"customSignInForm" in client.get(page(pool, app_client, "login")).content


def test_passwordless_sign_in_through_the_hosted_pages(
    client, pool, app_client, user, passwordless
):
    response = start(client, pool, app_client)
    assert response.status_code == 302
    challenge_page = response["Location"]
    assert "/customChallenge?" in challenge_page
    shown = client.get(challenge_page)
    html = shown.content.decode()
    assert "Enter the code we emailed you" in html
    code = handlers.mailed_code()
    assert code not in html and "secretLoginCode" not in html and "CODE-" not in html
    assert "<script>" not in html and "style=" not in html  # CSP-safe markup
    done = answer(client, challenge_page, code)
    params = redirect_params(done)
    assert done["Location"].startswith("http://localhost:3000/callback")
    tokens = exchange_code(client, pool, app_client, params["code"]).json()
    assert tokens["id_token"]


def test_a_wrong_answer_asks_again_then_fails(client, pool, app_client, user, passwordless):
    challenge_page = start(client, pool, app_client)["Location"]
    code = handlers.mailed_code()
    wrong = "000000" if code != "000000" else "111111"
    again = answer(client, challenge_page, wrong)
    assert "/customChallenge?" in again["Location"]
    assert "That answer is not right" in client.get(again["Location"]).content.decode()
    answer(client, challenge_page, wrong)
    failed = answer(client, challenge_page, wrong)
    assert "/login?" in failed["Location"]
    assert "Incorrect username or password." in client.get(failed["Location"]).content.decode()
    # The sign-in is over: the challenge page sends back to sign in.
    assert "/login?" in client.get(challenge_page)["Location"]


def test_fail_authentication_is_shown_on_the_sign_in_page(
    client, pool, app_client, user, passwordless
):
    trigger_config.set_trigger(
        pool=pool, kind="DefineAuthChallenge", python=HANDLERS + "define_that_fails_at_once"
    )
    response = start(client, pool, app_client)
    assert response.status_code == 400
    assert "Incorrect username or password." in response.content.decode()


def test_a_trigger_failure_shows_cognitos_message(client, pool, app_client, user, passwordless):
    trigger_config.set_trigger(
        pool=pool, kind="DefineAuthChallenge", python=HANDLERS + "define_that_refuses"
    )
    response = start(client, pool, app_client)
    assert response.status_code == 400
    assert "DefineAuthChallenge failed with error no custom sign-in today." in (
        response.content.decode()
    )


def test_an_empty_answer_is_refused_on_the_page(client, pool, app_client, user, passwordless):
    challenge_page = start(client, pool, app_client)["Location"]
    response = answer(client, challenge_page, "")
    assert response.status_code == 400
    assert "customChallengeForm" in response.content.decode()


def test_custom_sign_in_post_without_the_triggers_goes_back(client, pool, app_client, user):
    handlers.SEEN.clear()
    response = client.post(page(pool, app_client, "customSignIn"), {"username": "alice"})
    assert "/login?" in response["Location"]
    assert "does not offer that sign-in" in client.get(response["Location"]).content.decode()
    assert handlers.SEEN == []
