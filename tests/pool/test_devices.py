"""Tracked devices at the service level: a new device at an API sign-in in a pool that tracks
devices, ConfirmDevice / UpdateDeviceStatus / ForgetDevice, and device SRP (DEVICE_SRP_AUTH,
DEVICE_PASSWORD_VERIFIER) standing in for MFA. The device's side of the SRP exchange is
pycognito's own math (generate_hash_device, AWSSRP.process_device_challenge), never ours."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from pycognito.aws_srp import AWSSRP, generate_hash_device, long_to_hex

from pool import crypto, srp
from pool.errors import (
    DeviceKeyExistsException,
    InvalidParameterException,
    NotAuthorizedException,
    ResourceNotFoundException,
)
from pool.models import ChallengeSession, Device, RefreshFamily, UserPool
from pool.selectors import devices as device_selectors
from pool.services import authenticate, devices, srp_auth, tokens
from pool.services.results import Authenticated, Challenge, RequestContext
from tests import factories
from tests.pool import helpers
from tests.pool.test_authenticate import enrol_totp, totp_code

PASSWORD = factories.PASSWORD


@pytest.fixture
def pool(db):
    return factories.make_device_pool()


@pytest.fixture
def totp(user):
    return enrol_totp(user)


def context(device_key: str = "") -> RequestContext:
    return RequestContext(ip="203.0.113.7", device_key=device_key)


def password_step(pool, client, device_key: str = ""):
    return authenticate.password(
        pool=pool,
        client=client,
        username="alice",
        password=PASSWORD,
        context=context(device_key),
        flow="USER_PASSWORD_AUTH",
    )


def respond(pool, client, name, session, responses, device_key=""):
    return authenticate.respond_to_challenge(
        pool=pool,
        challenge_name=name,
        session=session,
        responses=responses,
        client=client,
        context=context(device_key),
    )


def srp_answer(device_key: str, aws: AWSSRP) -> dict[str, str]:
    """The DEVICE_SRP_AUTH answer, as pycognito sends it."""
    return {"USERNAME": "alice", "DEVICE_KEY": device_key, "SRP_A": long_to_hex(aws.large_a_value)}


def mfa_sign_in(pool, client, secret: str, device_key: str = "") -> Authenticated:
    """Password, then the TOTP code: the sign-in of a device that is not remembered."""
    challenge = password_step(pool, client, device_key)
    assert challenge.name == "SOFTWARE_TOKEN_MFA"
    done = respond(
        pool,
        client,
        "SOFTWARE_TOKEN_MFA",
        challenge.session,
        {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": totp_code(secret)},
        device_key,
    )
    assert isinstance(done, Authenticated)
    return done


class ConfirmedDevice:
    """A device as an app holds it after ConfirmDevice: its keys and its random password."""

    def __init__(self, user, issued) -> None:
        self.key = issued.new_device_key
        self.group_key = issued.new_device_group_key
        self.password, config = generate_hash_device(self.group_key, self.key)
        self.confirmation_necessary = devices.confirm(
            user=user,
            device_key=self.key,
            password_verifier=config["PasswordVerifier"],
            salt=config["Salt"],
            name="alice's laptop",
        )

    def aws(self, pool, client, password=None) -> AWSSRP:
        return helpers.srp_client(
            pool,
            client,
            "alice",
            PASSWORD,
            device_key=self.key,
            device_group_key=self.group_key,
            device_password=password or self.password,
        )


def new_device(pool, client, user, secret, *, remember=True) -> ConfirmedDevice:
    issued = tokens.for_api_sign_in(mfa_sign_in(pool, client, secret))
    device = ConfirmedDevice(user, issued)
    if remember:
        devices.update_status(user=user, device_key=device.key, status="remembered")
    return device


def device_sign_in(pool, client, device: ConfirmedDevice, *, session=True, password=None):
    """Password with DEVICE_KEY, then DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER answered by
    pycognito; `session=False` answers as pycognito does, without Session."""
    challenge = password_step(pool, client, device.key)
    assert challenge.name == "DEVICE_SRP_AUTH"
    aws = device.aws(pool, client, password)
    verifier = respond(
        pool,
        client,
        "DEVICE_SRP_AUTH",
        challenge.session if session else "",
        srp_answer(device.key, aws),
        device.key,
    )
    assert verifier.name == "DEVICE_PASSWORD_VERIFIER"
    return respond(
        pool,
        client,
        "DEVICE_PASSWORD_VERIFIER",
        verifier.session if session else "",
        aws.process_device_challenge(verifier.parameters),
        device.key,
    )


# ------------------------------------------------------------------------- new devices


def test_a_sign_in_in_a_tracking_pool_gets_a_new_device(pool, app_client, user, totp):
    issued = tokens.for_api_sign_in(mfa_sign_in(pool, app_client, totp))
    device = Device.objects.get(key=issued.new_device_key)
    assert device.user == user and not device.confirmed and not device.remembered
    assert device.key.startswith(f"{pool.region}_")
    assert issued.new_device_group_key == device.group_key
    claims = tokens.verify_access_token(pool=pool, token=issued.access_token)
    assert claims["device_key"] == device.key
    # An unconfirmed device is no device the user has.
    assert list(device_selectors.devices_of(user)) == []


def test_a_pool_that_does_not_track_devices_makes_none(db):
    pool = factories.make_pool(mfa_configuration=UserPool.Mfa.OFF)
    client = factories.make_client(pool)
    factories.make_user(pool, "alice")
    issued = tokens.for_api_sign_in(password_step(pool, client))
    assert issued.new_device_key is None
    assert "device_key" not in tokens.verify_access_token(pool=pool, token=issued.access_token)
    assert not Device.objects.exists()


def test_refreshed_tokens_keep_the_device_key(pool, app_client, user, totp):
    issued = tokens.for_api_sign_in(mfa_sign_in(pool, app_client, totp))
    renewed = tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    claims = tokens.verify_access_token(pool=pool, token=renewed.access_token)
    assert claims["device_key"] == issued.new_device_key


# --------------------------------------------------------------------- ConfirmDevice & co


def test_confirm_on_user_prompt_needs_the_users_choice(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp, remember=False)
    assert device.confirmation_necessary is True
    row = Device.objects.get(key=device.key)
    assert row.confirmed and not row.remembered and row.name == "alice's laptop"
    # Encrypted at rest: neither the verifier nor the salt is stored as sent.
    assert crypto.decrypt(row.verifier) and row.verifier not in (row.salt, "")
    devices.update_status(user=user, device_key=device.key, status="remembered")
    assert Device.objects.get(key=device.key).remembered


def test_confirm_remembers_at_once_unless_on_user_prompt(pool, app_client, user, totp):
    UserPool.objects.filter(pk=pool.pk).update(device_only_remembered_on_user_prompt=False)
    pool.refresh_from_db()
    device = new_device(pool, app_client, user, totp, remember=False)
    assert device.confirmation_necessary is False
    assert Device.objects.get(key=device.key).remembered


def test_a_device_is_confirmed_once(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    _, config = generate_hash_device(device.group_key, device.key)
    with pytest.raises(DeviceKeyExistsException):
        devices.confirm(
            user=user,
            device_key=device.key,
            password_verifier=config["PasswordVerifier"],
            salt=config["Salt"],
        )


def test_another_users_device_is_not_found(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    bob = factories.make_user(pool, "bob")
    with pytest.raises(ResourceNotFoundException):
        devices.update_status(user=bob, device_key=device.key, status="not_remembered")
    with pytest.raises(ResourceNotFoundException):
        devices.forget(user=bob, device_key=device.key)
    with pytest.raises(ResourceNotFoundException):
        device_selectors.get_device(bob, device.key)
    assert Device.objects.get(key=device.key).remembered


@pytest.mark.parametrize(
    "verifier, salt",
    [
        ("not base64!", base64.b64encode(b"salt").decode()),
        (base64.b64encode(b"\x00").decode(), base64.b64encode(b"salt").decode()),
        (base64.b64encode(srp.N.to_bytes(384, "big")).decode(), base64.b64encode(b"s").decode()),
        (base64.b64encode(b"\x05" * 384).decode(), ""),
        (base64.b64encode(b"\x05" * 384).decode(), base64.b64encode(b"s" * 65).decode()),
    ],
)
def test_a_bad_verifier_config_is_refused_and_confirms_nothing(
    pool, app_client, user, totp, verifier, salt
):
    issued = tokens.for_api_sign_in(mfa_sign_in(pool, app_client, totp))
    with pytest.raises(InvalidParameterException):
        devices.confirm(
            user=user, device_key=issued.new_device_key, password_verifier=verifier, salt=salt
        )
    assert not Device.objects.get(key=issued.new_device_key).confirmed


def test_an_unknown_status_is_refused(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    with pytest.raises(InvalidParameterException):
        devices.update_status(user=user, device_key=device.key, status="forever")
    assert Device.objects.get(key=device.key).remembered


# --------------------------------------------------------------------------- device SRP


def test_a_remembered_device_stands_in_for_mfa(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    done = device_sign_in(pool, app_client, device)
    assert isinstance(done, Authenticated)
    assert done.device_key == device.key
    issued = tokens.for_api_sign_in(done)
    assert issued.new_device_key is None  # a known device, no new one
    claims = tokens.verify_access_token(pool=pool, token=issued.access_token)
    assert claims["device_key"] == device.key
    row = Device.objects.get(key=device.key)
    assert row.last_ip == "203.0.113.7" and row.last_authenticated_at is not None


def test_device_srp_without_session_as_pycognito_answers(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    assert isinstance(device_sign_in(pool, app_client, device, session=False), Authenticated)


def test_a_wrong_device_password_is_refused_and_spends_the_step(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
        device_sign_in(pool, app_client, device, password="not the device's password")
    assert not ChallengeSession.objects.filter(challenge_name="DEVICE_PASSWORD_VERIFIER")


def test_a_device_claim_answers_once(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    challenge = password_step(pool, app_client, device.key)
    aws = device.aws(pool, app_client)
    verifier = respond(
        pool,
        app_client,
        "DEVICE_SRP_AUTH",
        challenge.session,
        srp_answer(device.key, aws),
    )
    answer = aws.process_device_challenge(verifier.parameters)
    assert isinstance(
        respond(pool, app_client, "DEVICE_PASSWORD_VERIFIER", "", answer), Authenticated
    )
    with pytest.raises(NotAuthorizedException):
        respond(pool, app_client, "DEVICE_PASSWORD_VERIFIER", "", answer)


def test_device_srp_for_another_device_key_is_refused(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    made = devices.new_device(user=user)  # a second device of alice's (no second TOTP code)
    other = ConfirmedDevice(
        user, SimpleNamespace(new_device_key=made.key, new_device_group_key=made.group_key)
    )
    devices.update_status(user=user, device_key=other.key, status="remembered")
    challenge = password_step(pool, app_client, device.key)
    aws = other.aws(pool, app_client)
    with pytest.raises(NotAuthorizedException):
        respond(
            pool,
            app_client,
            "DEVICE_SRP_AUTH",
            challenge.session,
            srp_answer(other.key, aws),
        )


def test_device_srp_needs_srp_a_and_device_key(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    challenge = password_step(pool, app_client, device.key)
    for responses in ({"USERNAME": "alice", "DEVICE_KEY": device.key}, {"SRP_A": "0"}):
        with pytest.raises(InvalidParameterException):
            respond(pool, app_client, "DEVICE_SRP_AUTH", challenge.session, responses)
    # The refusals spent nothing: the step is still answerable.
    assert ChallengeSession.objects.filter(challenge_name="DEVICE_SRP_AUTH").count() == 1


def test_not_remembered_device_answers_mfa(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp, remember=False)
    challenge = password_step(pool, app_client, device.key)
    assert challenge.name == "SOFTWARE_TOKEN_MFA"


def test_forgotten_device_answers_mfa(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    devices.forget(user=user, device_key=device.key)
    assert password_step(pool, app_client, device.key).name == "SOFTWARE_TOKEN_MFA"


def test_another_users_device_key_does_not_skip_mfa(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    bob = factories.make_user(pool, "bob")
    bob_totp = enrol_totp(bob)
    challenge = authenticate.password(
        pool=pool,
        client=app_client,
        username="bob",
        password=PASSWORD,
        context=context(device.key),
        flow="USER_PASSWORD_AUTH",
    )
    assert challenge.name == "SOFTWARE_TOKEN_MFA"
    done = respond(
        pool,
        app_client,
        "SOFTWARE_TOKEN_MFA",
        challenge.session,
        {"USERNAME": "bob", "SOFTWARE_TOKEN_MFA_CODE": totp_code(bob_totp)},
        device.key,
    )
    # Bob signed in on a device of his own, not on alice's.
    assert done.device_key == ""
    assert tokens.for_api_sign_in(done).new_device_key != device.key


def test_forgetting_mid_sign_in_ends_the_device_step(pool, app_client, user, totp):
    device = new_device(pool, app_client, user, totp)
    challenge = password_step(pool, app_client, device.key)
    devices.forget(user=user, device_key=device.key)
    aws = device.aws(pool, app_client)
    with pytest.raises(NotAuthorizedException):
        respond(
            pool,
            app_client,
            "DEVICE_SRP_AUTH",
            challenge.session,
            srp_answer(device.key, aws),
        )


def test_without_challenge_required_a_remembered_device_still_answers_mfa(
    pool, app_client, user, totp
):
    UserPool.objects.filter(pk=pool.pk).update(device_challenge_required_on_new_device=False)
    pool.refresh_from_db()
    device = new_device(pool, app_client, user, totp)
    result = device_sign_in(pool, app_client, device)
    assert isinstance(result, Challenge) and result.name == "SOFTWARE_TOKEN_MFA"


def test_a_remembered_device_after_an_srp_password(pool, app_client, user, totp):
    """USER_SRP_AUTH then DEVICE_SRP_AUTH: the device key travels in the PASSWORD_VERIFIER
    answer (pycognito sends it there)."""
    device = new_device(pool, app_client, user, totp)
    aws = device.aws(pool, app_client)
    params = aws.get_auth_params()
    start = srp_auth.start(pool=pool, username="alice", srp_a=params["SRP_A"], client=app_client)
    answer = aws.process_challenge(start.parameters, params)
    assert answer["DEVICE_KEY"] == device.key
    challenge = respond(pool, app_client, "PASSWORD_VERIFIER", "", answer, device.key)
    assert challenge.name == "DEVICE_SRP_AUTH"


def test_families_remember_their_device(pool, app_client, user, totp):
    issued = tokens.for_api_sign_in(mfa_sign_in(pool, app_client, totp))
    assert RefreshFamily.objects.get(pk=issued.family_id).device_key == issued.new_device_key
