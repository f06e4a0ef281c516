"""OTP brute force is stopped on every path that takes a code: the sign-in MFA answer (TOTP and
codes by message), confirming a sign-up, confirming a forgotten password, and verifying a new
authenticator. On each path, once the guesses run out the *correct* code is refused too, and
asking for a new code or a new session does not buy more guesses."""

from __future__ import annotations

import pytest

from pool import clock, policy
from pool.errors import CognitoError, LimitExceededException, NotAuthorizedException
from pool.models import User, UserPool, UserStatus
from pool.services import authenticate, lockout, mfa, passwords, sign_up
from pool.services.results import RequestContext
from tests import factories
from tests.security.conftest import last_code, totp_code, wrong

pytestmark = pytest.mark.django_db
CONTEXT = RequestContext(source="api")


@pytest.fixture(autouse=True)
def _frozen(settings):
    settings.RATE_LIMIT_PER_MINUTE = 0  # per-account limits only; the per-IP one has its tests
    clock.freeze()


def guess(call) -> str:
    try:
        call()
    except CognitoError as exc:
        return type(exc).__name__
    return "accepted"


def test_email_mfa_guessing_locks_the_user(pool, user):
    UserPool.objects.filter(pk=pool.pk).update(mfa_methods=["EMAIL_OTP"])
    pool.refresh_from_db()  # .update() keeps config_version: a save would replace it
    User.objects.filter(pk=user.pk).update(email_mfa_enabled=True)
    for _ in range(lockout.FREE_FAILURES):
        challenge = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
        code = last_code(user.email)
        outcome = guess(
            lambda c=challenge, k=code: authenticate.respond_to_challenge(
                pool=pool,
                challenge_name=c.name,
                session=c.session,
                responses={"EMAIL_OTP_CODE": wrong(k)},
            )
        )
        assert outcome == "CodeMismatchException"
    challenge = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    with pytest.raises(NotAuthorizedException, match="Too many invalid codes"):
        authenticate.respond_to_challenge(
            pool=pool,
            challenge_name=challenge.name,
            session=challenge.session,
            responses={"EMAIL_OTP_CODE": last_code(user.email)},
        )


def test_totp_mfa_guessing_locks_the_user(pool, user):
    from tests.security.conftest import enrol_totp

    enrol_totp(user)
    outcomes = []
    for _ in range(lockout.FREE_FAILURES):
        challenge = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
        outcomes.append(
            guess(
                lambda c=challenge: authenticate.respond_to_challenge(
                    pool=pool,
                    challenge_name=c.name,
                    session=c.session,
                    responses={"SOFTWARE_TOKEN_MFA_CODE": wrong(totp_code())},
                )
            )
        )
    challenge = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
    final = guess(
        lambda: authenticate.respond_to_challenge(
            pool=pool,
            challenge_name=challenge.name,
            session=challenge.session,
            responses={"SOFTWARE_TOKEN_MFA_CODE": totp_code()},
        )
    )
    assert set(outcomes) == {"CodeMismatchException"}
    assert final == "NotAuthorizedException"


def test_confirm_sign_up_guessing_is_capped_across_new_codes(pool):
    factories.make_user(pool, "newbie", status=UserStatus.UNCONFIRMED)
    cap, _ = policy.CAPS["confirm_sign_up"]
    outcomes = []
    while len(outcomes) < cap:
        sign_up.resend_confirmation_code(pool=pool, username="newbie", context=CONTEXT)
        code = last_code("newbie@example.com")
        for _ in range(min(5, cap - len(outcomes))):  # a code's own limit
            outcomes.append(
                guess(
                    lambda k=code: sign_up.confirm_sign_up(
                        pool=pool, username="newbie", code=wrong(k), context=CONTEXT
                    )
                )
            )
    sign_up.resend_confirmation_code(pool=pool, username="newbie", context=CONTEXT)
    final = guess(
        lambda: sign_up.confirm_sign_up(
            pool=pool, username="newbie", code=last_code("newbie@example.com"), context=CONTEXT
        )
    )
    assert set(outcomes) == {"CodeMismatchException"}
    assert final == "LimitExceededException"
    assert User.objects.get(username="newbie").status == UserStatus.UNCONFIRMED


def test_confirm_sign_up_code_is_void_after_its_attempts(pool):
    factories.make_user(pool, "newbie", status=UserStatus.UNCONFIRMED)
    sign_up.resend_confirmation_code(pool=pool, username="newbie", context=CONTEXT)
    code = last_code("newbie@example.com")
    for _ in range(5):
        guess(
            lambda: sign_up.confirm_sign_up(
                pool=pool, username="newbie", code=wrong(code), context=CONTEXT
            )
        )
    # The right code no longer works; this pool hides user existence, so it says what it says
    # to a name that belongs to nobody: a wrong code.
    assert (
        guess(
            lambda: sign_up.confirm_sign_up(
                pool=pool, username="newbie", code=code, context=CONTEXT
            )
        )
        == "CodeMismatchException"
    )
    assert User.objects.get(username="newbie").status == UserStatus.UNCONFIRMED


def test_confirm_forgot_password_guessing_is_capped_across_new_codes(pool, user):
    cap, _ = policy.CAPS["confirm_forgot_password"]
    made = 0
    while made < cap:
        passwords.forgot_password(pool=pool, username="alice", context=CONTEXT)
        code = last_code(user.email)
        for _ in range(min(3, cap - made)):
            outcome = guess(
                lambda k=code: passwords.confirm_forgot_password(
                    pool=pool,
                    username="alice",
                    code=wrong(k),
                    password="New-Password-77",
                    context=CONTEXT,
                )
            )
            assert outcome == "CodeMismatchException"
            made += 1
    with pytest.raises(LimitExceededException):
        passwords.forgot_password(pool=pool, username="alice", context=CONTEXT)
        passwords.confirm_forgot_password(
            pool=pool,
            username="alice",
            code=last_code(user.email),
            password="New-Password-77",
            context=CONTEXT,
        )
    user.refresh_from_db()
    assert passwords.verify(user, factories.PASSWORD)


def test_authenticator_verification_guessing_locks_the_user(user):
    secret, _ = mfa.associate_software_token(user=user)
    for _ in range(lockout.FREE_FAILURES):
        outcome = guess(lambda: mfa.verify_software_token(user=user, code=wrong(totp_code(secret))))
        assert outcome == "EnableSoftwareTokenMFAException"
    with pytest.raises(NotAuthorizedException, match="Too many invalid codes"):
        mfa.verify_software_token(user=user, code=totp_code(secret))


def test_lock_lasts_at_most_fifteen_minutes(user):
    secret, _ = mfa.associate_software_token(user=user)
    for _ in range(lockout.FREE_FAILURES):
        guess(lambda: mfa.verify_software_token(user=user, code=wrong(totp_code(secret))))
    clock.advance(seconds=lockout.MAX_LOCK_SECONDS)
    assert mfa.verify_software_token(user=user, code=totp_code(secret)) is None
