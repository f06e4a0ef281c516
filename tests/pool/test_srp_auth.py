"""USER_SRP_AUTH at the service level, driven by pycognito's own client-side SRP math (no network):
the PASSWORD_VERIFIER challenge, the password claim, its refusals. The attacks (tampering,
replay, enumeration, lockout, a bad A) are in tests/security/test_srp.py."""

from __future__ import annotations

import datetime as dt

import pytest
from pycognito.aws_srp import AWSSRP

from pool import clock, srp
from pool.errors import (
    InvalidParameterException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserNotConfirmedException,
    UserNotFoundException,
)
from pool.models import AuthEvent, User, UserPool, UserStatus
from pool.services import authenticate, challenges, lockout, srp_auth
from pool.services.results import Authenticated, Challenge
from tests import factories
from tests.pool import helpers
from tests.pool.test_authenticate import enrol_totp

PASSWORD = factories.PASSWORD


def srp_client(pool, client, username="alice", password=PASSWORD) -> AWSSRP:
    return helpers.srp_client(pool, client, username, password)


def start(pool, client, aws: AWSSRP) -> Challenge:
    params = aws.get_auth_params()
    return srp_auth.start(
        pool=pool, username=params["USERNAME"], srp_a=params["SRP_A"], client=client
    )


def answer(pool, client, responses: dict) -> Authenticated | Challenge:
    return authenticate.respond_to_challenge(
        pool=pool,
        challenge_name="PASSWORD_VERIFIER",
        session="",
        responses=responses,
        client=client,
    )


def claim(aws: AWSSRP, challenge: Challenge, *, moment=None, timestamp=None) -> dict:
    """The client's answer, signed at `moment` (the domain clock's now by default)."""
    timestamp = timestamp or AWSSRP.get_cognito_formatted_timestamp(moment or clock.now())
    return helpers.srp_claim(aws, challenge.parameters, timestamp)


def sign_in(pool, client, username="alice", password=PASSWORD):
    aws = srp_client(pool, client, username, password)
    challenge = start(pool, client, aws)
    return answer(pool, client, aws.process_challenge(challenge.parameters, aws.get_auth_params()))


def configure(pool, **fields):
    UserPool.objects.filter(pk=pool.pk).update(**fields)
    pool.refresh_from_db()
    return pool


# ----------------------------------------------------------------------------- the math


def test_the_server_math_is_the_clients():
    """k, the timestamp and the claim signature agree with pycognito's helpers."""
    aws = AWSSRP("u", "p", "local_Pool", "c", client=helpers._idle_boto())
    assert aws.val_k == srp.K
    moment = dt.datetime(2017, 4, 5, 22, 42, 34, tzinfo=dt.UTC)
    assert srp.format_timestamp(moment) == "Wed Apr 5 22:42:34 UTC 2017"
    assert srp.format_timestamp(moment) == AWSSRP.get_cognito_formatted_timestamp(moment)
    assert srp.parse_timestamp("Wed Apr 5 22:42:34 UTC 2017") == moment
    for malformed in (
        "Wed Apr 05 22:42:34 UTC 2017",  # zero-padded day
        "Thu Apr 5 22:42:34 UTC 2017",  # wrong weekday
        "Wed Apr 5 22:42:34 GMT 2017",
        "Wed Apr 5 22:42 UTC 2017",
        "Wed Feb 30 22:42:34 UTC 2017",
        "mer. avr. 5 22:42:34 UTC 2017",
        " Wed Apr 5 22:42:34 UTC 2017",
    ):
        assert srp.parse_timestamp(malformed) is None, malformed


# ------------------------------------------------------------------------------ success


def test_correct_password_signs_in(pool, app_client, user):
    clock.freeze()
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    assert challenge.name == "PASSWORD_VERIFIER"
    assert challenge.session == ""  # Cognito returns none: the SECRET_BLOCK carries the state
    params = challenge.parameters
    assert set(params) == {"SALT", "SRP_B", "SECRET_BLOCK", "USERNAME", "USER_ID_FOR_SRP"}
    assert params["SALT"] == user.srp_salt
    assert params["USERNAME"] == params["USER_ID_FOR_SRP"] == "alice"

    result = answer(pool, app_client, claim(aws, challenge))

    assert isinstance(result, Authenticated)
    assert result.user == user and result.methods == ("pwd",)
    user.refresh_from_db()
    assert user.last_sign_in_at == clock.now()
    assert AuthEvent.objects.filter(user=user, success=True, reason="pwd").exists()


def test_pycognitos_own_answer_is_accepted(pool, app_client, user):
    """process_challenge as pycognito ships it (wall-clock TIMESTAMP, its own signature)."""
    assert isinstance(sign_in(pool, app_client), Authenticated)


def test_user_id_for_srp_is_the_username_when_an_alias_is_typed(db):
    pool = factories.make_pool(alias_attributes=["email"])
    client = factories.make_client(pool)
    user = factories.make_user(pool, "bob", email="bob@example.com")
    aws = srp_client(pool, client, username="BOB@example.com")
    challenge = start(pool, client, aws)
    assert challenge.parameters["USER_ID_FOR_SRP"] == "bob"
    assert challenge.parameters["USERNAME"] == "bob"
    assert challenge.parameters["USER_ID_FOR_SRP"] != str(user.sub)
    responses = aws.process_challenge(challenge.parameters, aws.get_auth_params())
    result = answer(pool, client, responses)
    assert isinstance(result, Authenticated) and result.user == user


def test_a_client_secret_does_not_change_the_exchange(pool, confidential_client, user):
    assert isinstance(sign_in(pool, confidential_client), Authenticated)


def test_temporary_password_leads_to_new_password_required(pool, app_client):
    factories.make_user(pool, "alice", status=UserStatus.FORCE_CHANGE_PASSWORD)
    result = sign_in(pool, app_client)
    assert isinstance(result, Challenge) and result.name == "NEW_PASSWORD_REQUIRED"
    assert result.session


def test_mfa_follows_the_password_claim(pool, app_client, user):
    configure(pool, mfa_configuration=UserPool.Mfa.ON)
    enrol_totp(user)
    result = sign_in(pool, app_client)
    assert isinstance(result, Challenge) and result.name == "SOFTWARE_TOKEN_MFA"


def test_status_rules_come_after_the_password(pool, app_client):
    factories.make_user(pool, "alice", status=UserStatus.UNCONFIRMED)
    with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
        sign_in(pool, app_client, password="Wrong-Horse-9")
    with pytest.raises(UserNotConfirmedException):
        sign_in(pool, app_client)


# ------------------------------------------------------------------------------ refusals


def test_wrong_password_is_refused(pool, app_client, user):
    with pytest.raises(NotAuthorizedException, match="^Incorrect username or password.$"):
        sign_in(pool, app_client, password="Wrong-Horse-9")
    assert AuthEvent.objects.filter(user=user, success=False, reason="wrong password").exists()
    assert not AuthEvent.objects.filter(success=True).exists()


@pytest.mark.parametrize("minutes", [-6, 6])
def test_stale_or_future_timestamp_is_refused(pool, app_client, user, minutes):
    clock.freeze()
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    moment = clock.now() + dt.timedelta(minutes=minutes)
    with pytest.raises(NotAuthorizedException, match="^Incorrect username or password.$"):
        answer(pool, app_client, claim(aws, challenge, moment=moment))
    assert AuthEvent.objects.filter(success=False, reason="stale timestamp").exists()


def test_timestamp_within_the_skew_is_accepted(pool, app_client, user):
    clock.freeze()
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    moment = clock.now() - dt.timedelta(minutes=4)
    assert isinstance(answer(pool, app_client, claim(aws, challenge, moment=moment)), Authenticated)


@pytest.mark.parametrize(
    "timestamp", ["Wed Apr 05 22:42:34 UTC 2017", "Thu Apr 5 22:42:34 UTC 2017", "yesterday"]
)
def test_malformed_timestamp_is_a_parameter_error_and_spends_nothing(
    pool, app_client, user, timestamp
):
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    with pytest.raises(InvalidParameterException, match="TIMESTAMP format should be"):
        answer(pool, app_client, claim(aws, challenge, timestamp=timestamp))
    assert lockout.failures(lockout.PASSWORD, lockout.subject(pool.pk, user_id=user.pk)) == 0
    assert isinstance(answer(pool, app_client, claim(aws, challenge)), Authenticated)


@pytest.mark.parametrize("missing", srp_auth.CLAIM_FIELDS)
def test_missing_claim_field_is_a_parameter_error(pool, app_client, user, missing):
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    responses = claim(aws, challenge)
    del responses[missing]
    with pytest.raises(InvalidParameterException, match=f"Missing required parameter {missing}"):
        answer(pool, app_client, responses)


def test_expired_challenge_is_refused(pool, app_client, user):
    clock.freeze()
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    clock.advance(seconds=app_client.auth_session_validity)
    with pytest.raises(NotAuthorizedException, match="session is expired"):
        answer(pool, app_client, claim(aws, challenge))


def test_the_client_must_allow_srp(pool, user):
    client = factories.make_client(pool, explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH"])
    with pytest.raises(
        InvalidParameterException, match="USER_SRP_AUTH flow not enabled for this client"
    ):
        start(pool, client, srp_client(pool, client))


# ------------------------------------------------------------------------- unknown users


def test_unknown_user_in_an_email_pool_gets_a_uuid_like_a_real_username(db):
    pool = factories.make_pool(username_attributes=["email"])
    client = factories.make_client(pool)
    challenge = start(pool, client, srp_client(pool, client, "ghost@example.com"))
    user_id = challenge.parameters["USER_ID_FOR_SRP"]
    assert len(user_id) == 36 and user_id.count("-") == 4
    again = start(pool, client, srp_client(pool, client, "GHOST@example.com"))
    assert again.parameters["USER_ID_FOR_SRP"] == user_id


def test_unknown_user_without_existence_hiding_is_not_found(pool, app_client):
    configure(pool, prevent_user_existence_errors=False)
    with pytest.raises(UserNotFoundException, match="User does not exist."):
        start(pool, app_client, srp_client(pool, app_client, "nobody"))


def test_success_forgets_failures(pool, app_client, user):
    for _ in range(lockout.FREE_FAILURES - 1):
        with pytest.raises(NotAuthorizedException):
            sign_in(pool, app_client, password="Wrong-Horse-9")
    who = lockout.subject(pool.pk, user_id=user.pk)
    assert lockout.failures(lockout.PASSWORD, who) == lockout.FREE_FAILURES - 1
    assert isinstance(sign_in(pool, app_client), Authenticated)
    assert lockout.failures(lockout.PASSWORD, who) == 0


# ------------------------------------------------------------------ users with no verifier


def _hash_only(user: User, status: str = UserStatus.CONFIRMED) -> User:
    User.objects.filter(pk=user.pk).update(srp_salt="", srp_verifier="", status=status)
    user.refresh_from_db()
    return user


def test_reset_required_user_without_verifier_must_reset(pool, app_client, user):
    configure(pool, prevent_user_existence_errors=False)
    _hash_only(user, UserStatus.RESET_REQUIRED)
    with pytest.raises(PasswordResetRequiredException):
        start(pool, app_client, srp_client(pool, app_client))


def test_hash_only_user_is_refused_like_a_wrong_password_until_a_password_sign_in(
    pool, app_client, user
):
    _hash_only(user)
    with pytest.raises(NotAuthorizedException, match="^Incorrect username or password.$"):
        sign_in(pool, app_client)
    assert AuthEvent.objects.filter(user=user, reason="no SRP verifier").exists()
    # USER_PASSWORD_AUTH once stores the verifier; SRP works from then on.
    authenticate.password(pool=pool, username="alice", password=PASSWORD, client=app_client)
    user.refresh_from_db()
    assert user.srp_verifier
    assert isinstance(sign_in(pool, app_client), Authenticated)


def test_password_verifier_is_registered():
    assert "PASSWORD_VERIFIER" in challenges.registered()
    assert challenges.opener_for("PASSWORD_VERIFIER") is srp_auth.open_session
