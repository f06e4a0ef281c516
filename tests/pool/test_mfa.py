"""Authenticator enrolment (TOTP), MFA preferences and the MFA_SETUP sign-in."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlparse

import pytest
from django_otp.oath import TOTP

from pool import clock
from pool.errors import (
    EnableSoftwareTokenMFAException,
    InvalidParameterException,
    NotAuthorizedException,
    SoftwareTokenMFANotFoundException,
)
from pool.models import TotpDevice, UserPool
from pool.services import authenticate, mfa
from pool.services.results import Authenticated
from tests import factories
from tests.pool.helpers import wrong_code


def code_for(secret: str, offset_steps: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret))
    totp.time = clock.timestamp() + offset_steps * 30
    return f"{totp.token():06d}"


def enrolled(user) -> str:
    secret, _ = mfa.associate_software_token(user=user)
    mfa.verify_software_token(user=user, code=code_for(secret))
    return secret


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock.freeze()


# ------------------------------------------------------------------------------- enrolment


def test_secret_is_20_random_bytes_in_base32(user):
    secret, session = mfa.associate_software_token(user=user)
    assert session is None
    assert len(base64.b32decode(secret)) == 20


def test_secret_is_encrypted_at_rest(user):
    secret, _ = mfa.associate_software_token(user=user)
    stored = TotpDevice.objects.get(user=user).secret
    assert secret not in stored and stored.startswith("gAAAA")


def test_secrets_differ(user, pool):
    other = factories.make_user(pool, "bob")
    first, _ = mfa.associate_software_token(user=user)
    second, _ = mfa.associate_software_token(user=other)
    assert first != second


def test_verify_confirms_the_device(user):
    secret, _ = mfa.associate_software_token(user=user)
    continuation = mfa.verify_software_token(
        user=user, code=code_for(secret), friendly_name="Phone"
    )
    assert continuation is None
    device = TotpDevice.objects.get(user=user)
    assert device.confirmed and device.name == "Phone"


def test_verify_does_not_enable_mfa_by_itself(user):
    enrolled(user)
    user.refresh_from_db()
    assert not user.software_token_mfa_enabled


@pytest.mark.parametrize("offset", [-1, 1])
def test_codes_one_step_away_are_accepted(user, offset):
    secret, _ = mfa.associate_software_token(user=user)
    mfa.verify_software_token(user=user, code=code_for(secret, offset))
    assert TotpDevice.objects.get(user=user).confirmed


@pytest.mark.parametrize("offset", [-2, 2])
def test_codes_two_steps_away_are_refused(user, offset):
    secret, _ = mfa.associate_software_token(user=user)
    with pytest.raises(EnableSoftwareTokenMFAException):
        mfa.verify_software_token(user=user, code=code_for(secret, offset))


def test_accepted_code_cannot_be_replayed(user):
    secret = enrolled(user)
    device = TotpDevice.objects.get(user=user)
    assert not mfa.check_device_code(device, code_for(secret))
    assert not mfa.check_device_code(device, code_for(secret, -1))
    assert mfa.check_device_code(device, code_for(secret, 1))


def test_malformed_codes_are_refused(user):
    secret = enrolled(user)
    device = TotpDevice.objects.get(user=user)
    clock.advance(seconds=90)
    good = code_for(secret)
    for bad in ["", "12345", "1234567", "abcdef", good[:5] + " ", int(good)]:
        assert not mfa.check_device_code(device, bad)


def test_new_association_keeps_confirmed_device_until_verified(user):
    old = enrolled(user)
    new, _ = mfa.associate_software_token(user=user)
    assert TotpDevice.objects.filter(user=user).count() == 2
    clock.advance(seconds=30)
    mfa.verify_software_token(user=user, code=code_for(new))
    device = TotpDevice.objects.get(user=user)
    assert crypto_secret(device) == new != old


def crypto_secret(device) -> str:
    from pool import crypto

    return crypto.decrypt(device.secret)


def test_verify_without_association_is_refused(user):
    with pytest.raises(InvalidParameterException):
        mfa.verify_software_token(user=user, code="123456")


def test_otpauth_uri(user):
    uri = mfa.otpauth_uri(user=user, secret="JBSWY3DPEHPK3PXP")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert parsed.path == f"/{user.pool.name}:alice"
    query = parse_qs(parsed.query)
    assert query["secret"] == ["JBSWY3DPEHPK3PXP"] and query["issuer"] == [user.pool.name]


# ------------------------------------------------------------------------------ preferences


def test_enabling_totp_needs_a_verified_device(user):
    mfa.associate_software_token(user=user)
    with pytest.raises(InvalidParameterException, match="not verified"):
        mfa.set_preference(user=user, totp=True)


def test_enable_totp_and_prefer_it(user):
    enrolled(user)
    mfa.set_preference(user=user, totp=True, preferred="SOFTWARE_TOKEN_MFA")
    user.refresh_from_db()
    assert user.mfa_enabled_methods == ["SOFTWARE_TOKEN_MFA"]
    assert user.preferred_mfa == "SOFTWARE_TOKEN_MFA"


def test_method_not_allowed_by_pool_is_refused(user):
    with pytest.raises(InvalidParameterException):
        mfa.set_preference(user=user, sms=True)


def test_preferred_method_must_be_enabled(pool, user):
    UserPool.objects.filter(pk=pool.pk).update(mfa_methods=["SOFTWARE_TOKEN_MFA", "EMAIL_OTP"])
    pool.refresh_from_db()  # .update() keeps config_version: a save would replace it
    user.refresh_from_db()
    with pytest.raises(InvalidParameterException):
        mfa.set_preference(user=user, preferred="EMAIL_OTP")
    mfa.set_preference(user=user, email=True, preferred="EMAIL_OTP")
    assert user.preferred_mfa == "EMAIL_OTP"


def test_disabling_the_preferred_method_clears_the_preference(user):
    enrolled(user)
    mfa.set_preference(user=user, totp=True, preferred="SOFTWARE_TOKEN_MFA")
    mfa.set_preference(user=user, totp=False)
    user.refresh_from_db()
    assert not user.software_token_mfa_enabled and user.preferred_mfa == ""


def test_remove_software_token(user):
    enrolled(user)
    mfa.set_preference(user=user, totp=True, preferred="SOFTWARE_TOKEN_MFA")
    mfa.remove_software_token(user=user)
    user.refresh_from_db()
    assert not TotpDevice.objects.filter(user=user).exists()
    assert user.mfa_enabled_methods == [] and user.preferred_mfa == ""


def test_enrolled_totp_is_asked_at_sign_in(pool, user):
    enrolled(user)
    mfa.set_preference(user=user, totp=True)
    challenge = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    assert challenge.name == "SOFTWARE_TOKEN_MFA"


# ------------------------------------------------------------------------ MFA_SETUP sign-in


@pytest.fixture
def setup_challenge(pool, user, app_client):
    UserPool.objects.filter(pk=pool.pk).update(mfa_configuration="ON")
    pool.refresh_from_db()
    return authenticate.password(
        pool=pool, username="alice", password=factories.PASSWORD, client=app_client
    )


def finish_setup(pool, session, client):
    return authenticate.respond_to_challenge(
        pool=pool, challenge_name="MFA_SETUP", session=session, responses={}, client=client
    )


def test_mfa_setup_flow_enables_totp_and_signs_in(pool, user, app_client, setup_challenge):
    assert json.loads(setup_challenge.parameters["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
    secret, associated = mfa.associate_software_token(session=setup_challenge.session)
    verified = mfa.verify_software_token(session=associated, code=code_for(secret))
    result = finish_setup(pool, verified, app_client)
    assert isinstance(result, Authenticated) and result.methods == ("pwd", "otp")
    user.refresh_from_db()
    assert user.software_token_mfa_enabled and user.preferred_mfa == "SOFTWARE_TOKEN_MFA"


def test_mfa_setup_sessions_are_single_use(setup_challenge):
    mfa.associate_software_token(session=setup_challenge.session)
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        mfa.associate_software_token(session=setup_challenge.session)


def test_mfa_setup_cannot_finish_before_verification(pool, app_client, setup_challenge):
    _, associated = mfa.associate_software_token(session=setup_challenge.session)
    with pytest.raises(SoftwareTokenMFANotFoundException):
        finish_setup(pool, associated, app_client)


def test_mfa_setup_wrong_codes_void_the_session(setup_challenge):
    secret, associated = mfa.associate_software_token(session=setup_challenge.session)
    wrong = wrong_code(code_for(secret))
    for _ in range(2):
        with pytest.raises(EnableSoftwareTokenMFAException):
            mfa.verify_software_token(session=associated, code=wrong)
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        mfa.verify_software_token(session=associated, code=wrong)
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        mfa.verify_software_token(session=associated, code=code_for(secret))


def test_mfa_setup_session_expires(setup_challenge, app_client):
    clock.advance(seconds=app_client.auth_session_validity)
    with pytest.raises(NotAuthorizedException, match="expired"):
        mfa.associate_software_token(session=setup_challenge.session)


def test_either_user_or_session(user):
    with pytest.raises(InvalidParameterException):
        mfa.associate_software_token()
    with pytest.raises(InvalidParameterException):
        mfa.associate_software_token(user=user, session="x")
