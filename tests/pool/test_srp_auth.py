"""USER_SRP_AUTH at the service level, driven by pycognito's own client-side SRP math (no network):
the PASSWORD_VERIFIER challenge, the password claim, and everything that must fail."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import boto3
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
from pool.models import AuthEvent, ChallengeSession, User, UserPool, UserStatus
from pool.services import authenticate, challenges, lockout, srp_auth
from pool.services.results import Authenticated, Challenge
from tests import factories
from tests.pool.test_authenticate import enrol_totp

PASSWORD = factories.PASSWORD
# A real botocore client for pycognito's constructor; these tests never let it call out.
_BOTO = boto3.client(
    "cognito-idp", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
)


def srp_client(pool, client, username="alice", password=PASSWORD) -> AWSSRP:
    return AWSSRP(
        username=username,
        password=password,
        pool_id=pool.id,
        client_id=client.client_id,
        client=_BOTO,
    )


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
    """The client's answer, signed at `moment` (the domain clock's now by default) with
    pycognito's key derivation; pycognito's own process_challenge signs at the wall clock."""
    params = challenge.parameters
    timestamp = timestamp or AWSSRP.get_cognito_formatted_timestamp(moment or clock.now())
    key = aws.get_password_authentication_key(
        params["USER_ID_FOR_SRP"], aws.password, int(params["SRP_B"], 16), params["SALT"]
    )
    message = (
        aws.pool_id.split("_")[1].encode()
        + params["USER_ID_FOR_SRP"].encode()
        + base64.b64decode(params["SECRET_BLOCK"])
        + timestamp.encode()
    )
    signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return {
        "USERNAME": params["USERNAME"],
        "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
        "PASSWORD_CLAIM_SIGNATURE": signature,
        "TIMESTAMP": timestamp,
    }


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
    aws = AWSSRP("u", "p", "local_Pool", "c", client=_BOTO)
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


def test_tampered_signature_is_refused(pool, app_client, user):
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    responses = claim(aws, challenge)
    signature = bytearray(base64.b64decode(responses["PASSWORD_CLAIM_SIGNATURE"]))
    signature[0] ^= 1
    responses["PASSWORD_CLAIM_SIGNATURE"] = base64.b64encode(bytes(signature)).decode()
    with pytest.raises(NotAuthorizedException, match="^Incorrect username or password.$"):
        answer(pool, app_client, responses)


def test_a_signature_over_another_timestamp_is_refused(pool, app_client, user):
    clock.freeze()
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    responses = claim(aws, challenge)
    responses["TIMESTAMP"] = srp.format_timestamp(clock.now() + dt.timedelta(seconds=1))
    with pytest.raises(NotAuthorizedException, match="^Incorrect username or password.$"):
        answer(pool, app_client, responses)


def test_tampered_secret_block_is_an_invalid_session(pool, app_client, user):
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    block = bytearray(base64.b64decode(challenge.parameters["SECRET_BLOCK"]))
    block[40] ^= 1
    tampered = Challenge(
        name=challenge.name,
        session="",
        parameters={**challenge.parameters, "SECRET_BLOCK": base64.b64encode(block).decode()},
    )
    with pytest.raises(NotAuthorizedException, match="^Invalid session for the user.$"):
        answer(pool, app_client, claim(aws, tampered))
    for garbage in ("not base64!", "AAAA", "x" * 9000):
        responses = {**claim(aws, challenge), "PASSWORD_CLAIM_SECRET_BLOCK": garbage}
        with pytest.raises(NotAuthorizedException, match="^Invalid session for the user.$"):
            answer(pool, app_client, responses)
    # None of this spent the real block.
    assert isinstance(answer(pool, app_client, claim(aws, challenge)), Authenticated)


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


def test_replayed_answer_is_an_invalid_session(pool, app_client, user):
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    responses = claim(aws, challenge)
    assert isinstance(answer(pool, app_client, responses), Authenticated)
    with pytest.raises(NotAuthorizedException, match="^Invalid session for the user.$"):
        answer(pool, app_client, responses)


def test_one_guess_per_challenge(pool, app_client, user):
    """A wrong claim spends the block: the right password cannot follow on it."""
    wrong = srp_client(pool, app_client, password="Wrong-Horse-9")
    challenge = start(pool, app_client, wrong)
    with pytest.raises(NotAuthorizedException, match="^Incorrect username or password.$"):
        answer(pool, app_client, claim(wrong, challenge))
    right = srp_client(pool, app_client)
    right.small_a_value, right.large_a_value = wrong.small_a_value, wrong.large_a_value
    with pytest.raises(NotAuthorizedException, match="^Invalid session for the user.$"):
        answer(pool, app_client, claim(right, challenge))


def test_expired_challenge_is_refused(pool, app_client, user):
    clock.freeze()
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    clock.advance(seconds=app_client.auth_session_validity)
    with pytest.raises(NotAuthorizedException, match="session is expired"):
        answer(pool, app_client, claim(aws, challenge))


def test_the_block_is_bound_to_its_client(pool, app_client, user):
    other = factories.make_client(pool)
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    with pytest.raises(NotAuthorizedException, match="^Invalid session for the user.$"):
        answer(pool, other, claim(aws, challenge))


def test_username_must_name_the_challenged_user(pool, app_client, user):
    factories.make_user(pool, "mallory")
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    responses = {**claim(aws, challenge), "USERNAME": "mallory"}
    with pytest.raises(NotAuthorizedException, match="^Invalid session for the user.$"):
        answer(pool, app_client, responses)


@pytest.mark.parametrize(
    "srp_a",
    ["0", srp.N_HEX, format(srp.N * 2, "x"), "not-hex", "0x" + "1" * 10, "f" * 1025, "", None],
)
def test_bad_srp_a_is_refused_and_starts_nothing(pool, app_client, user, srp_a):
    with pytest.raises(InvalidParameterException):
        srp_auth.start(pool=pool, username="alice", srp_a=srp_a, client=app_client)
    assert not ChallengeSession.objects.exists()


def test_the_client_must_allow_srp(pool, user):
    client = factories.make_client(pool, explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH"])
    with pytest.raises(
        InvalidParameterException, match="USER_SRP_AUTH flow not enabled for this client"
    ):
        start(pool, client, srp_client(pool, client))


# ------------------------------------------------------------------- what the server keeps


def test_nothing_stored_lets_a_database_reader_answer(pool, app_client, user):
    """b is derived from the session handle, which the table holds only as a digest; the
    SECRET_BLOCK is encrypted (nothing readable in it)."""
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    row = ChallengeSession.objects.get()
    assert row.challenge_name == "PASSWORD_VERIFIER" and row.data == {}
    block = base64.b64decode(challenge.parameters["SECRET_BLOCK"])
    assert b"alice" not in block and format(aws.large_a_value, "x").encode() not in block


# ------------------------------------------------------------------------- unknown users


def test_unknown_user_gets_a_plausible_challenge_and_a_wrong_password_answer(pool, app_client):
    assert pool.prevent_user_existence_errors
    real = factories.make_user(pool, "alice")
    known = start(pool, app_client, srp_client(pool, app_client, "alice"))
    first = start(pool, app_client, srp_client(pool, app_client, "nobody"))
    again = start(pool, app_client, srp_client(pool, app_client, "nobody"))

    assert set(first.parameters) == set(known.parameters) and first.session == known.session
    assert first.parameters["USERNAME"] == first.parameters["USER_ID_FOR_SRP"] == "nobody"
    # The salt is stable, as a real user's is; B is fresh each time, as a real user's is.
    assert first.parameters["SALT"] == again.parameters["SALT"] != real.srp_salt
    assert abs(len(first.parameters["SALT"]) - len(real.srp_salt)) <= 2
    assert first.parameters["SRP_B"] != again.parameters["SRP_B"]
    base64.b64decode(first.parameters["SECRET_BLOCK"], validate=True)

    aws = srp_client(pool, app_client, "nobody")
    challenge = start(pool, app_client, aws)
    with pytest.raises(NotAuthorizedException) as unknown:
        answer(pool, app_client, claim(aws, challenge))
    with pytest.raises(NotAuthorizedException) as wrong:
        sign_in(pool, app_client, "alice", "Wrong-Horse-9")
    assert unknown.value.message == wrong.value.message == "Incorrect username or password."
    assert AuthEvent.objects.filter(success=False, reason="unknown user").exists()
    # Replayed, it is spent like a real block.
    with pytest.raises(NotAuthorizedException, match="^Invalid session for the user.$"):
        answer(pool, app_client, claim(aws, challenge))


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


def _fail(pool, client, username, password="Wrong-Horse-9"):
    aws = srp_client(pool, client, username, password)
    with pytest.raises(NotAuthorizedException) as refused:
        answer(pool, client, claim(aws, start(pool, client, aws)))
    return refused.value.message


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_lockout_after_five_failures_known_or_not(pool, app_client, user, username):
    clock.freeze()
    messages = [_fail(pool, app_client, username) for _ in range(lockout.FREE_FAILURES)]
    assert set(messages) == {"Incorrect username or password."}
    # Locked now: even the right password is refused, with Cognito's message.
    assert _fail(pool, app_client, username, PASSWORD) == "Password attempts exceeded"


def test_srp_and_password_sign_in_share_one_lockout(pool, app_client, user):
    clock.freeze()
    for _ in range(lockout.FREE_FAILURES):
        _fail(pool, app_client, "alice")
    with pytest.raises(NotAuthorizedException, match="Password attempts exceeded"):
        authenticate.password(pool=pool, username="alice", password=PASSWORD, client=app_client)


def test_success_forgets_failures(pool, app_client, user):
    for _ in range(lockout.FREE_FAILURES - 1):
        _fail(pool, app_client, "alice")
    assert isinstance(sign_in(pool, app_client), Authenticated)
    assert lockout.failures(lockout.PASSWORD, lockout.subject(pool.pk, user_id=user.pk)) == 0


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


def test_a_disabled_user_is_told_so_only_after_the_password(pool, app_client, user):
    """As in password sign-in: without the password, a disabled user looks like any other."""
    wrong = srp_client(pool, app_client, password="Wrong-Horse-9")
    right = srp_client(pool, app_client)
    pending_wrong = start(pool, app_client, wrong)
    pending_right = start(pool, app_client, right)
    User.objects.filter(pk=user.pk).update(enabled=False)
    with pytest.raises(NotAuthorizedException, match="^Incorrect username or password.$"):
        answer(pool, app_client, claim(wrong, pending_wrong))
    with pytest.raises(NotAuthorizedException, match="^User is disabled.$"):
        answer(pool, app_client, claim(right, pending_right))
