"""Attacks on USER_SRP_AUTH (pool/services/srp_auth.py), with pycognito's client math: a
tampered signature or SECRET_BLOCK, a replayed or re-used answer, a block taken to another client
or user, a malicious A, what a database reader learns, unknown users told apart from real ones,
and the password lockout (shared with password sign-in)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from pool import clock, srp
from pool.errors import CognitoError, InvalidParameterException, NotAuthorizedException
from pool.models import AuthEvent, ChallengeSession, User
from pool.services import authenticate, lockout, srp_auth
from pool.services.results import Authenticated, Challenge
from tests import factories
from tests.pool.test_srp_auth import PASSWORD, answer, claim, sign_in, srp_client, start

pytestmark = pytest.mark.django_db


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


def test_nothing_stored_lets_a_database_reader_answer(pool, app_client, user):
    """b is derived from the session handle, which the table holds only as a digest; the
    SECRET_BLOCK is encrypted (nothing readable in it)."""
    aws = srp_client(pool, app_client)
    challenge = start(pool, app_client, aws)
    row = ChallengeSession.objects.get()
    assert row.challenge_name == "PASSWORD_VERIFIER" and row.data == {}
    block = base64.b64decode(challenge.parameters["SECRET_BLOCK"])
    assert b"alice" not in block and format(aws.large_a_value, "x").encode() not in block


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


def test_wrong_password_and_unknown_name_answer_the_same_sequence(pool, app_client, user):
    """Challenge shape, answer, replayed answer, then the lockout: the same for a real user
    with a wrong password and a name that belongs to nobody, past the lock."""
    clock.freeze()

    def sequence(username: str) -> list:
        seen: list = []
        for _ in range(lockout.FREE_FAILURES + 2):
            aws = srp_client(pool, app_client, username, "Wrong-Horse-9")
            challenge = start(pool, app_client, aws)
            seen.append((challenge.name, challenge.session, sorted(challenge.parameters)))
            responses = claim(aws, challenge)
            for _attempt in range(2):  # the answer, then the same answer replayed
                with pytest.raises(CognitoError) as refused:
                    answer(pool, app_client, responses)
                seen.append((refused.value.code, refused.value.message))
        return seen

    assert sequence("alice") == sequence("nobody")
