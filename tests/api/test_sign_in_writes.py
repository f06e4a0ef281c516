"""A completed sign-in's writes (its stamp on the user and on its device, its success event, and
through the JSON API its refresh family and token): stored together or not at all, whatever
fails, and the triggers around them leave what they always left (pool.services.sign_in.finish,
pool.services.tokens.for_api_sign_in, pool.selectors.compiled.write).

The failure tests run without a test transaction: the sign-in's own transaction (SQLite) or
statement (PostgreSQL) is what must leave nothing half written."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import IntegrityError

from pool import clock, crypto
from pool.models import AuthEvent, Device, RefreshFamily, RefreshToken, User
from pool.services import events, tokens
from pool.services import triggers as trigger_config
from tests import factories
from tests.api.conftest import Api
from tests.hostedui.conftest import authorize_url

PARAMETERS = {"USERNAME": "alice", "PASSWORD": factories.PASSWORD}


@pytest.fixture
def api_client(pool):
    return factories.make_client(pool, explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH"])


def initiate(client, app, **parameters):
    return Api(client).post(
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": app.client_id,
            "AuthParameters": {**PARAMETERS, **parameters},
        },
        sign=False,
    )


def successes(user) -> list[AuthEvent]:
    return list(AuthEvent.objects.filter(user=user, success=True))


def python_trigger(pool, kind: str, handler: str) -> None:
    trigger_config.set_trigger(pool=pool, kind=kind, python=f"tests.triggers_support.{handler}")


@pytest.mark.django_db
def test_api_sign_in_stores_its_stamp_event_family_and_token(client, pool, api_client, user):
    clock.freeze()
    response = initiate(client, api_client)
    assert response.status_code == 200, response.content
    result = json.loads(response.content)["AuthenticationResult"]
    user.refresh_from_db()
    assert user.last_sign_in_at == clock.now()
    [event] = successes(user)
    assert (event.event_type, event.reason, event.username) == ("SignIn", "pwd", "alice")
    assert event.client_id == api_client.client_id
    family = RefreshFamily.objects.get(user=user)
    assert family.auth_time == clock.now() and family.scopes == [tokens.ADMIN_SCOPE]
    token = RefreshToken.objects.get(family=family)
    assert token.digest == crypto.digest(result["RefreshToken"])


@pytest.mark.django_db
def test_api_sign_in_on_a_known_device_stamps_it_with_the_rest(client, pool, api_client, user):
    pool.track_devices = True
    pool.save()
    first = json.loads(initiate(client, api_client).content)["AuthenticationResult"]
    device_key = first["NewDeviceMetadata"]["DeviceKey"]
    clock.freeze()
    assert initiate(client, api_client, DEVICE_KEY=device_key).status_code == 200
    device = Device.objects.get(key=device_key)
    assert device.last_authenticated_at == clock.now() and device.last_ip == "127.0.0.1"
    family = RefreshFamily.objects.filter(user=user).latest("created_at")
    assert family.device_key == device_key
    assert len(successes(user)) == 2


@pytest.mark.django_db(transaction=True)
def test_an_api_sign_in_whose_last_write_fails_stores_nothing(client, pool, api_client, user):
    """The refresh token's INSERT, the last of the four, is refused (its digest is taken): the
    user's stamp, the event and the family, written before it, are not stored either."""
    first = json.loads(initiate(client, api_client).content)["AuthenticationResult"]
    user.refresh_from_db()
    stamped, families = user.last_sign_in_at, RefreshFamily.objects.count()
    with mock.patch("pool.services.tokens.crypto.token", return_value=first["RefreshToken"]):
        assert initiate(client, api_client).status_code == 500
    user.refresh_from_db()
    assert user.last_sign_in_at == stamped
    assert len(successes(user)) == 1
    assert RefreshFamily.objects.count() == families


@pytest.mark.django_db(transaction=True)
def test_a_hosted_sign_in_whose_event_fails_leaves_no_stamp(client, pool, app_client, user):
    """The hosted sign-in stores its stamp and event itself (no tokens follow at once): the
    event's INSERT refused (a NOT NULL column left empty), the user's UPDATE before it goes."""
    login = client.get(authorize_url(pool, app_client))["Location"]
    client.get(login)
    made = events.event

    def broken(**fields):
        row = made(**fields)
        row.success = None
        return row

    with (
        mock.patch("pool.services.events.event", side_effect=broken),
        pytest.raises(IntegrityError),
    ):
        client.post(login, {"username": "alice", "password": factories.PASSWORD})
    assert User.objects.get(pk=user.pk).last_sign_in_at is None
    assert not AuthEvent.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_pre_token_trigger_leaves_the_recorded_sign_in(client, pool, api_client, user):
    """The pre-token-generation trigger fires when the tokens are signed, after the sign-in's
    writes: its failure fails the call and leaves the sign-in recorded with its family, as it
    always did (the family's tokens were never handed out)."""
    python_trigger(pool, "PreTokenGeneration", "deny_maintenance")
    response = initiate(client, api_client)
    assert response.status_code == 400, response.content
    assert "maintenance" in json.loads(response.content)["message"]
    assert User.objects.get(pk=user.pk).last_sign_in_at is not None
    assert len(successes(user)) == 1
    assert RefreshFamily.objects.filter(user=user).count() == 1
    assert RefreshToken.objects.filter(family__user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_refusing_post_authentication_trigger_stores_only_the_refusal(
    client, pool, api_client, user
):
    """The post-authentication trigger fires before anything is stamped: its refusal leaves
    the refused event and nothing of a sign-in."""
    python_trigger(pool, "PostAuthentication", "deny_maintenance")
    response = initiate(client, api_client)
    assert response.status_code == 400, response.content
    assert User.objects.get(pk=user.pk).last_sign_in_at is None
    assert not successes(user)
    assert AuthEvent.objects.filter(user=user, success=False).count() == 1
    assert not RefreshFamily.objects.filter(user=user).exists()
