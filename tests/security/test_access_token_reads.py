"""Reading the user through an access token (userInfo, GetUser) refuses every token whose sign-in
no longer stands, through Django's handler and through config.front's ApiDoor alike: the read
loads only the columns it uses (pool.selectors.tokens.access_family), never fewer checks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from pool import clock
from pool.models import RefreshFamily, SigningKey, User
from pool.models.pool import bump_config_version
from pool.services import admin, keys, tokens
from pool.services.results import RequestContext
from tests.api.conftest import Api
from tests.perf.wsgi import front_client

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["django", "front", "front after a 200"])
def door(request) -> Client:
    """Django's handler; config.front; config.front once it answered userInfo and GetUser with
    200 (it then writes those answers itself: every refusal must still come)."""
    if request.param == "django":
        return Client()
    door = front_client()
    if request.param == "front after a 200":
        pool, issued = request.getfixturevalue("pool"), request.getfixturevalue("issued")
        for _ in range(2):
            assert _user_info(door, pool, issued.access_token).status_code == 200
            assert _get_user(door, issued.access_token).status_code == 200
    return door


@pytest.fixture
def issued(user, app_client) -> tokens.Tokens:
    user.email, user.email_verified, user.given_name = "alice@example.com", True, "Alice"
    user.attributes = {"custom:team": "blue"}
    user.save()
    return tokens.issue(
        user=user,
        client=app_client,
        scopes=["openid", "email", "profile", tokens.ADMIN_SCOPE],
        auth_time=clock.now(),
    )


def _user_info(door, pool, token):
    return door.get(f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {token}")


def _get_user(door, token):
    return Api(door).post("GetUser", {"AccessToken": token}, sign=False)


def _refused(door, pool, token, message: str) -> None:
    info = _user_info(door, pool, token)
    assert info.status_code == 401, info.content
    assert 'Bearer realm="' in info["WWW-Authenticate"]
    assert 'error="invalid_token"' in info["WWW-Authenticate"]
    assert info.json()["error_description"] == message
    got = _get_user(door, token)
    assert got.status_code == 400, got.content
    assert json.loads(got.content) == {"__type": "NotAuthorizedException", "message": message}


def test_a_standing_sign_in_reads_the_user(door, pool, user, issued):
    info = _user_info(door, pool, issued.access_token)
    assert info.status_code == 200, info.content
    assert info.json() == {
        "sub": str(user.sub),
        "email": "alice@example.com",
        "email_verified": "true",
        "given_name": "Alice",
        "custom:team": "blue",
        "username": "alice",
    }
    got = _get_user(door, issued.access_token)
    assert got.status_code == 200, got.content
    attributes = {a["Name"]: a["Value"] for a in json.loads(got.content)["UserAttributes"]}
    assert attributes["email"] == "alice@example.com" and attributes["custom:team"] == "blue"


def test_a_revoked_family_is_refused(door, pool, app_client, issued):
    tokens.revoke(client=app_client, token=issued.refresh_token)
    _refused(door, pool, issued.access_token, "Access Token has been revoked")


def test_a_global_sign_out_is_refused(door, pool, user, issued):
    admin.global_sign_out(user=user, context=RequestContext(source="api"))
    _refused(door, pool, issued.access_token, "Access Token has been revoked")


def test_tokens_issued_before_tokens_valid_after_are_refused(door, pool, user, issued):
    """The user's cutoff alone (the family left as it is) voids the token."""
    later = clock.now() + dt.timedelta(seconds=5)
    User.objects.filter(pk=user.pk).update(tokens_valid_after=later)
    assert RefreshFamily.objects.get(user=user).revoked_at is None
    _refused(door, pool, issued.access_token, "Access Token has been revoked")


def test_a_disabled_user_is_refused(door, pool, user, issued):
    User.objects.filter(pk=user.pk).update(enabled=False)
    _refused(door, pool, issued.access_token, "User is disabled.")


def test_a_deleted_user_is_refused(door, pool, user, issued):
    User.objects.filter(pk=user.pk).delete()
    _refused(door, pool, issued.access_token, "Access Token has been revoked")


def test_a_deleted_client_is_refused(door, pool, app_client, issued):
    app_client.delete()
    _refused(door, pool, issued.access_token, "Access Token has been revoked")


def test_another_pools_token_is_refused(door, pool, issued):
    from tests import factories

    other = factories.make_pool()
    info = _user_info(door, other, issued.access_token)
    assert info.status_code == 401
    assert 'error="invalid_token"' in info["WWW-Authenticate"]


def test_a_key_deleted_on_another_server_is_refused_at_once(door, pool, issued):
    """The process reads userInfo and GetUser with its copy of the pool without reading the
    version first: the token's family brings it, and another version means checking again with
    the pool as it is now. Here another server deleted the key (no signal reaches this one)."""
    assert _user_info(door, pool, issued.access_token).status_code == 200  # the copy is kept
    assert _get_user(door, issued.access_token).status_code == 200
    SigningKey.objects.filter(kid=keys.active_key(pool).kid).delete()
    bump_config_version(pool.pk)
    info = _user_info(door, pool, issued.access_token)
    assert info.status_code == 401 and 'error="invalid_token"' in info["WWW-Authenticate"]
    got = _get_user(door, issued.access_token)
    assert json.loads(got.content) == {
        "__type": "NotAuthorizedException",
        "message": "Invalid Access Token",
    }


def test_a_pool_changed_on_another_server_still_reads_the_user(door, pool, issued):
    assert _user_info(door, pool, issued.access_token).status_code == 200
    bump_config_version(pool.pk)
    assert _user_info(door, pool, issued.access_token).status_code == 200
    bump_config_version(pool.pk)
    assert _get_user(door, issued.access_token).status_code == 200


@pytest.mark.parametrize("reading", [True, False])
def test_the_family_read_holds_its_own_user_and_client(
    pool, user, app_client, issued, reading, django_assert_num_queries
):
    import uuid

    from pool.selectors.tokens import access_family

    claims = tokens.verify_access_token(pool=pool, token=issued.access_token)
    with django_assert_num_queries(1):
        family = access_family(
            pool_id=pool.pk, family_id=uuid.UUID(claims["origin_jti"]), reading=reading
        )
        assert (family.user.pk, family.user_id, family.user.sub) == (user.pk, user.pk, user.sub)
        assert (family.client.client_id, family.client_id) == (app_client.client_id,) * 2
        assert family.user.attributes == {"custom:team": "blue"}
