"""The hosted-UI session: sign-in once, straight through afterwards, unless the app or the
user's state says otherwise (prompt, max_age, global sign-out, disable)."""

from __future__ import annotations

import pytest

from pool import clock
from pool.services import tokens
from tests import factories
from tests.hostedui.conftest import authorize_url, redirect_params, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, pool, app_client, user):
    response = sign_in(client, authorize_url(pool, app_client))
    assert "code" in redirect_params(response)
    return client


def test_sign_in_returns_code_state_and_iss(client, pool, app_client, user, settings):
    params = redirect_params(sign_in(client, authorize_url(pool, app_client)))
    assert params["code"]
    assert params["state"] == "st@te/ü 1"
    assert params["iss"] == f"{settings.PUBLIC_URL}/{pool.id}"


def test_session_id_is_rotated_at_sign_in(client, pool, app_client, user):
    session = client.session
    session["probe"] = "planted before sign-in"
    session.save()
    before = session.session_key
    login = client.get(authorize_url(pool, app_client))["Location"]
    client.post(login, {"username": "alice", "password": "Correct-Horse-9"})
    assert client.cookies["cognate_session"].value != before


def test_existing_session_signs_straight_through(signed_in, pool, app_client):
    params = redirect_params(signed_in.get(authorize_url(pool, app_client)))
    assert params["code"]


def test_an_expired_session_row_is_not_honoured_by_authorize(signed_in, pool, app_client):
    """Authorize reads the session row with the client's (config.sessions.row_annotations):
    a row past its expiry still sends the browser to the sign-in page."""
    import datetime as dt

    from django.contrib.sessions.models import Session

    from config.sessions import stored_key

    key = signed_in.cookies["cognate_session"].value
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert Session.objects.filter(session_key=stored_key(key)).update(expire_date=past) == 1
    response = signed_in.get(authorize_url(pool, app_client))
    assert response.status_code == 302 and "/login?" in response["Location"]


def test_a_deleted_session_row_is_not_honoured_by_authorize(signed_in, pool, app_client):
    """The session ended on another server (its row deleted): the cookie signs nothing in."""
    from django.contrib.sessions.models import Session

    Session.objects.all().delete()
    response = signed_in.get(authorize_url(pool, app_client))
    assert response.status_code == 302 and "/login?" in response["Location"]


def test_a_forged_session_cookie_is_not_honoured_by_authorize(client, pool, app_client, user):
    client.cookies["cognate_session"] = "x" * 32
    response = client.get(authorize_url(pool, app_client))
    assert response.status_code == 302 and "/login?" in response["Location"]


def test_prompt_login_forces_the_sign_in_page(signed_in, pool, app_client):
    response = signed_in.get(authorize_url(pool, app_client, prompt="login"))
    assert f"/{pool.id}/login?" in response["Location"]


def test_prompt_login_sign_in_returns_a_code(signed_in, pool, app_client):
    response = sign_in(signed_in, authorize_url(pool, app_client, prompt="login"))
    assert redirect_params(response)["code"]


def test_prompt_none_without_session_is_login_required(client, pool, app_client):
    params = redirect_params(client.get(authorize_url(pool, app_client, prompt="none")))
    assert params["error"] == "login_required"
    assert params["state"] == "st@te/ü 1"
    assert params["iss"].endswith(pool.id)


def test_prompt_none_with_session_returns_a_code(signed_in, pool, app_client):
    params = redirect_params(signed_in.get(authorize_url(pool, app_client, prompt="none")))
    assert params["code"]


def test_max_age_exceeded_needs_a_fresh_sign_in(client, pool, app_client, user):
    clock.freeze()
    sign_in(client, authorize_url(pool, app_client))
    clock.advance(seconds=120)
    response = client.get(authorize_url(pool, app_client, max_age="60"))
    assert f"/{pool.id}/login?" in response["Location"]


def test_max_age_exceeded_with_prompt_none_is_login_required(client, pool, app_client, user):
    clock.freeze()
    sign_in(client, authorize_url(pool, app_client))
    clock.advance(seconds=120)
    params = redirect_params(
        client.get(authorize_url(pool, app_client, max_age="60", prompt="none"))
    )
    assert params["error"] == "login_required"


def test_max_age_within_limit_signs_straight_through(client, pool, app_client, user):
    clock.freeze()
    sign_in(client, authorize_url(pool, app_client))
    clock.advance(seconds=30)
    params = redirect_params(client.get(authorize_url(pool, app_client, max_age="60")))
    assert params["code"]


def test_global_sign_out_ends_the_hosted_session(signed_in, pool, app_client, user):
    clock.freeze()
    clock.advance(seconds=1)
    tokens.revoke_user_sessions(user=user, reason="test")
    response = signed_in.get(authorize_url(pool, app_client))
    assert f"/{pool.id}/login?" in response["Location"]


def test_disabled_user_session_is_not_honoured(signed_in, pool, app_client, user):
    user.enabled = False
    user.save()
    response = signed_in.get(authorize_url(pool, app_client))
    assert f"/{pool.id}/login?" in response["Location"]


def test_session_gives_no_code_to_a_deleted_client(signed_in, pool, app_client):
    url = authorize_url(pool, app_client)
    app_client.delete()
    response = signed_in.get(url)
    assert response.status_code == 400
    assert b"invalid_client" in response.content


def test_hosted_sign_in_is_not_subject_to_explicit_auth_flows(client, pool, user):
    """Cognito's managed login works whatever the client's explicit_auth_flows say."""
    app = factories.make_client(pool, explicit_auth_flows=[])
    assert redirect_params(sign_in(client, authorize_url(pool, app)))["code"]


def test_unconfirmed_user_cannot_sign_in(client, pool, app_client):
    from pool.models import UserStatus
    from tests import factories

    factories.make_user(pool, "bob", status=UserStatus.UNCONFIRMED)
    response = sign_in(client, authorize_url(pool, app_client), username="bob")
    assert response.status_code == 302
    assert f"/{pool.id}/confirm?" in response["Location"]


def test_disabled_user_cannot_sign_in(client, pool, app_client, user):
    user.enabled = False
    user.save()
    response = sign_in(client, authorize_url(pool, app_client))
    assert response.status_code == 400
    assert b"disabled" in response.content.lower()


def test_wrong_password_shows_an_error_on_the_page(client, pool, app_client, user):
    response = sign_in(client, authorize_url(pool, app_client), password="wrong-password")
    assert response.status_code == 400
    assert b"Incorrect username or password." in response.content
