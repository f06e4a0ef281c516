"""A pool that came to require an attribute (pool/services/pool_changes.py): users without it
are asked for it on the hosted pages after every factor, before a code goes to the app."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pool import clock
from pool.models import User, UserStatus
from pool.services.pool_changes import PoolChange, apply
from tests import factories
from tests.hostedui.conftest import authorize_url, redirect_params, sign_in

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Brand-New-Pass-7"


@pytest.fixture
def pool():
    pool = factories.make_pool()
    factories.make_users_in_every_status(pool)
    apply(pool=pool, change=PoolChange(required_attributes=("email", "given_name")))
    pool.refresh_from_db()
    return pool


@pytest.fixture
def app(pool):
    return factories.make_client(pool)


def page(pool, app, name):
    return f"/{pool.id}/{name}?{urlsplit(authorize_url(pool, app)).query}"


def test_a_user_missing_a_new_required_attribute_is_asked_before_the_code(client, pool, app):
    response = sign_in(client, authorize_url(pool, app), username="alice")

    assert response.status_code == 302
    assert "/requiredAttributes?" in response["Location"]
    assert "code=" not in response["Location"]
    form = client.get(response["Location"])
    assert form.status_code == 200 and 'name="given_name"' in form.content.decode()

    done = client.post(response["Location"], {"given_name": "Alice"})

    assert redirect_params(done)["code"]
    assert User.objects.get(pool=pool, username="alice").given_name == "Alice"


def test_an_empty_answer_is_refused_and_gives_no_code(client, pool, app):
    asked = sign_in(client, authorize_url(pool, app), username="alice")["Location"]

    response = client.post(asked, {"given_name": "  "})

    assert response.status_code == 400
    assert "given_name" not in (User.objects.get(pool=pool, username="alice").given_name or "")
    assert "code=" not in response.get("Location", "")


def test_the_page_without_a_held_sign_in_goes_back_to_sign_in(client, pool, app):
    response = client.get(page(pool, app, "requiredAttributes"))
    assert response.status_code == 302 and "/login?" in response["Location"]


def test_the_held_sign_in_lapses_with_the_challenge_lifetime(client, pool, app):
    clock.freeze(clock.now())
    asked = sign_in(client, authorize_url(pool, app), username="alice")["Location"]
    clock.advance(minutes=pool.auth_session_validity_minutes, seconds=1)

    response = client.post(asked, {"given_name": "Alice"})

    assert response.status_code == 302 and "/login?" in response["Location"]
    assert not User.objects.get(pool=pool, username="alice").given_name


def test_a_user_with_every_required_attribute_goes_straight_to_the_app(client, pool, app):
    User.objects.filter(pool=pool, username="alice").update(given_name="Alice")
    response = sign_in(client, authorize_url(pool, app), username="alice")
    assert redirect_params(response)["code"]


def test_a_new_password_page_asks_for_the_missing_attribute_as_cognito_does(client, pool, app):
    """NEW_PASSWORD_REQUIRED lists the missing required attributes (requiredAttributes): they
    are answered there, and no second page follows."""
    asked = sign_in(client, authorize_url(pool, app), username="carol")
    assert "/newPassword?" in asked["Location"]
    form = client.get(asked["Location"])
    assert 'name="given_name"' in form.content.decode()

    done = client.post(
        asked["Location"],
        {"password": NEW_PASSWORD, "password2": NEW_PASSWORD, "given_name": "Carol"},
    )

    assert redirect_params(done)["code"]
    carol = User.objects.get(pool=pool, username="carol")
    assert (carol.status, carol.given_name) == (UserStatus.CONFIRMED, "Carol")
