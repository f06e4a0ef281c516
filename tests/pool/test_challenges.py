"""The challenge registry: a new challenge kind joins by registering a handler, and
`authenticate.respond_to_challenge` answers it with no edit of its own."""

from __future__ import annotations

import pytest

from pool.errors import InvalidParameterException, NotAuthorizedException
from pool.services import authenticate, challenges, sign_in
from pool.services.results import Authenticated, Challenge
from tests import factories

KIND = "TEST_RIDDLE"


def answer_riddle(*, session, responses, client, context) -> Authenticated:
    """A toy challenge kind: the answer is "42"; a wrong one counts against the session."""
    if responses.get("ANSWER") != "42":
        challenges.wrong_answer(session)
        raise InvalidParameterException("Wrong answer.")
    challenges.consume(session)
    return sign_in.finish(
        user=session.user,
        client=client,
        context=context,
        methods=[*session.data["methods"], "riddle"],
    )


@pytest.fixture
def riddle():
    challenges.register(KIND, answer_riddle)
    yield KIND
    challenges.unregister(KIND)


def riddle_for(user, client=None) -> Challenge:
    return challenges.issue(
        user=user, client=client, name=KIND, parameters={}, data={"methods": ["pwd"]}
    )


def respond(pool, challenge: Challenge, responses: dict, client=None):
    return authenticate.respond_to_challenge(
        pool=pool,
        challenge_name=challenge.name,
        session=challenge.session,
        responses=responses,
        client=client,
    )


def test_a_registered_kind_is_answered_through_respond_to_challenge(riddle, pool, user):
    result = respond(pool, riddle_for(user), {"USERNAME": "alice", "ANSWER": "42"})
    assert isinstance(result, Authenticated)
    assert result.user == user and result.methods == ("pwd", "riddle")


def test_a_registered_kind_gets_the_session_checks_for_free(riddle, pool, user, app_client):
    """Pool, client and USERNAME binding are the dispatcher's, not each handler's."""
    challenge = riddle_for(user, app_client)
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, challenge, {"ANSWER": "42"}, client=factories.make_client(pool))
    other = factories.make_user(pool, "bob")
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, challenge, {"USERNAME": other.username, "ANSWER": "42"}, client=app_client)
    assert isinstance(respond(pool, challenge, {"ANSWER": "42"}, client=app_client), Authenticated)


def test_wrong_answers_to_a_registered_kind_void_its_session(riddle, pool, user):
    challenge = riddle_for(user)
    for _ in range(challenges.MAX_WRONG_ANSWERS - 1):
        with pytest.raises(InvalidParameterException):
            respond(pool, challenge, {"ANSWER": "41"})
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, challenge, {"ANSWER": "41"})
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, challenge, {"ANSWER": "42"})


def test_an_unregistered_kind_is_an_invalid_parameter(pool, user):
    challenge = riddle_for(user)
    with pytest.raises(InvalidParameterException, match="Unsupported challenge name"):
        respond(pool, challenge, {"ANSWER": "42"})


def test_a_kind_switched_off_is_no_longer_answered(riddle, pool, user):
    challenge = riddle_for(user)
    challenges.unregister(KIND)
    with pytest.raises(InvalidParameterException, match="Unsupported challenge name"):
        respond(pool, challenge, {"ANSWER": "42"})


def test_two_handlers_cannot_claim_one_kind(riddle):
    with pytest.raises(ValueError, match="already has a handler"):
        challenges.register(KIND, lambda **kwargs: None)
    challenges.register(KIND, answer_riddle)  # the same handler again is harmless


def test_the_built_in_kinds_are_registered_by_the_dispatcher():
    assert {
        "NEW_PASSWORD_REQUIRED",
        "SOFTWARE_TOKEN_MFA",
        "SMS_MFA",
        "EMAIL_OTP",
        "SELECT_MFA_TYPE",
        "MFA_SETUP",
    } <= challenges.registered()
