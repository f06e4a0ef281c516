"""One-time codes: TOTP accepts ±1 step and never the same step twice, wrong answers are
limited, and codes sent by message are single use and stored only as digests."""

from __future__ import annotations

import pytest

from pool import clock
from pool.errors import (
    CodeMismatchException,
    ExpiredCodeException,
    LimitExceededException,
    NotAuthorizedException,
)
from pool.models import CodePurpose, TotpDevice, VerificationCode
from pool.services import authenticate, challenges, codes, lockout, mfa
from pool.services.results import Authenticated
from tests import factories
from tests.security.conftest import TOTP_SECRET, enrol_totp, last_code, totp_code, wrong

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(user):
    clock.freeze()
    enrol_totp(user)
    return TotpDevice.objects.get(user=user)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_totp_accepts_one_step_either_side(device, offset):
    assert mfa.check_device_code(device, totp_code(TOTP_SECRET, offset)) is True


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_totp_refuses_codes_two_steps_away(device, offset):
    assert mfa.check_device_code(device, totp_code(TOTP_SECRET, offset)) is False


def test_totp_code_is_refused_the_second_time(device):
    code = totp_code()
    assert mfa.check_device_code(device, code) is True
    assert mfa.check_device_code(device, code) is False


def test_totp_older_step_is_refused_after_a_newer_one(device):
    assert mfa.check_device_code(device, totp_code(TOTP_SECRET, 1)) is True
    assert mfa.check_device_code(device, totp_code(TOTP_SECRET, 0)) is False


def test_totp_replay_is_refused_through_sign_in(pool, user, device):
    code = totp_code()
    first = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    done = authenticate.respond_to_challenge(
        pool=pool,
        challenge_name=first.name,
        session=first.session,
        responses={"SOFTWARE_TOKEN_MFA_CODE": code},
    )
    again = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    assert isinstance(done, Authenticated)
    with pytest.raises(CodeMismatchException):
        authenticate.respond_to_challenge(
            pool=pool,
            challenge_name=again.name,
            session=again.session,
            responses={"SOFTWARE_TOKEN_MFA_CODE": code},
        )


def test_totp_wrong_answers_void_the_challenge_session(pool, user, device):
    challenge = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    answer = {"SOFTWARE_TOKEN_MFA_CODE": wrong(totp_code())}
    for _ in range(challenges.MAX_WRONG_ANSWERS - 1):
        with pytest.raises(CodeMismatchException):
            authenticate.respond_to_challenge(
                pool=pool,
                challenge_name=challenge.name,
                session=challenge.session,
                responses=answer,
            )
    with pytest.raises(NotAuthorizedException):
        authenticate.respond_to_challenge(
            pool=pool,
            challenge_name=challenge.name,
            session=challenge.session,
            responses=answer,
        )
    with pytest.raises(NotAuthorizedException):  # the right code no longer helps this session
        authenticate.respond_to_challenge(
            pool=pool,
            challenge_name=challenge.name,
            session=challenge.session,
            responses={"SOFTWARE_TOKEN_MFA_CODE": totp_code()},
        )


def test_totp_failures_lock_the_user_across_sessions(pool, user, device):
    for _ in range(lockout.FREE_FAILURES):
        challenge = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
        with pytest.raises(CodeMismatchException):
            authenticate.respond_to_challenge(
                pool=pool,
                challenge_name=challenge.name,
                session=challenge.session,
                responses={"SOFTWARE_TOKEN_MFA_CODE": wrong(totp_code())},
            )
    challenge = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    with pytest.raises(NotAuthorizedException, match="Too many invalid codes"):
        authenticate.respond_to_challenge(
            pool=pool,
            challenge_name=challenge.name,
            session=challenge.session,
            responses={"SOFTWARE_TOKEN_MFA_CODE": totp_code()},
        )


# ---------------------------------------------------------------------- codes sent by message


def test_message_code_is_stored_only_as_a_digest(user):
    code = codes.issue(user, CodePurpose.FORGOT_PASSWORD, destination=user.email)
    row = VerificationCode.objects.get(user=user, purpose=CodePurpose.FORGOT_PASSWORD)
    stored = " ".join(str(value) for value in row.__dict__.values())
    assert code not in stored
    assert len(row.digest) == 64


def test_message_code_is_single_use(user):
    code = codes.issue(user, CodePurpose.FORGOT_PASSWORD, destination=user.email)
    codes.verify(user, CodePurpose.FORGOT_PASSWORD, code)
    with pytest.raises(ExpiredCodeException):
        codes.verify(user, CodePurpose.FORGOT_PASSWORD, code)


def test_message_code_is_void_after_max_attempts(user):
    code = codes.issue(user, CodePurpose.FORGOT_PASSWORD, destination=user.email)
    for _ in range(codes.MAX_ATTEMPTS):
        with pytest.raises(CodeMismatchException):
            codes.verify(user, CodePurpose.FORGOT_PASSWORD, wrong(code))
    with pytest.raises(LimitExceededException):
        codes.verify(user, CodePurpose.FORGOT_PASSWORD, code)


def test_message_code_expires(user):
    clock.freeze()
    code = codes.issue(user, CodePurpose.MFA_EMAIL, destination=user.email)
    clock.advance(seconds=codes.LIFETIMES[CodePurpose.MFA_EMAIL].total_seconds())
    with pytest.raises(ExpiredCodeException):
        codes.verify(user, CodePurpose.MFA_EMAIL, code)


def test_otp_by_message_lives_at_most_ten_minutes(pool, user):
    """Even when the client's sign-in sessions last the maximum 15 minutes."""
    from pool.models import User, UserPool

    clock.freeze()
    UserPool.objects.filter(pk=pool.pk).update(mfa_methods=["EMAIL_OTP"])
    pool.refresh_from_db()  # .update() keeps config_version: a save would replace it
    User.objects.filter(pk=user.pk).update(email_mfa_enabled=True)
    client = factories.make_client(pool, auth_session_validity=15 * 60)
    challenge = authenticate.password(
        pool=pool, username="alice", password=factories.PASSWORD, client=client
    )
    clock.advance(minutes=10)
    with pytest.raises(ExpiredCodeException):
        authenticate.respond_to_challenge(
            pool=pool,
            challenge_name=challenge.name,
            session=challenge.session,
            responses={"EMAIL_OTP_CODE": last_code(user.email)},
            client=client,
        )


def test_code_of_one_user_does_not_work_for_another(user, pool):
    bob = factories.make_user(pool, "bob")
    code = codes.issue(user, CodePurpose.FORGOT_PASSWORD, destination=user.email)
    codes.issue(bob, CodePurpose.FORGOT_PASSWORD, destination=bob.email)
    with pytest.raises(CodeMismatchException):
        codes.verify(bob, CodePurpose.FORGOT_PASSWORD, code)


def test_totp_seed_is_encrypted_at_rest(device):
    assert TOTP_SECRET not in device.secret
    assert device.secret.startswith("gAAAA")
