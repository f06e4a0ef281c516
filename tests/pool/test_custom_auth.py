"""Custom authentication (CUSTOM_AUTH) at the service level: AWS's passwordless email-code
handlers run unchanged as Python triggers, a webhook Verify on a real loopback receiver, the
events field by field, failAuthentication, wrong answers, the round limit, trigger failures
with Cognito's errors, unknown users, and the private parameters kept encrypted."""

from __future__ import annotations

import pytest
from django.core import mail
from pycognito.aws_srp import AWSSRP

from pool import clock
from pool.errors import (
    InvalidLambdaResponseException,
    InvalidParameterException,
    NotAuthorizedException,
    UserLambdaValidationException,
    UserNotFoundException,
)
from pool.models import AuthEvent, ChallengeSession, UserPool
from pool.services import authenticate, custom_auth, mfa
from pool.services import triggers as trigger_config
from pool.services.results import Authenticated, Challenge, RequestContext
from tests import custom_auth_handlers as handlers
from tests import factories
from tests import triggers_support as hooks
from tests.pool import helpers

CTX = RequestContext(ip="127.0.0.1", user_agent="pytest", source="api")
HANDLERS = "tests.custom_auth_handlers."


@pytest.fixture(autouse=True)
def _clear_seen():
    handlers.SEEN.clear()


@pytest.fixture
def pool(db):
    return factories.make_pool(name="custom", mfa_configuration=UserPool.Mfa.OFF)


@pytest.fixture
def client(pool):
    return factories.make_client(pool, explicit_auth_flows=["ALLOW_CUSTOM_AUTH"])


@pytest.fixture
def alice(pool):
    return factories.make_user(pool, "alice")


def start(pool, client, username="alice", context=CTX):
    return authenticate.custom_auth(pool=pool, client=client, username=username, context=context)


def respond(pool, client, challenge, answer, **extra):
    return authenticate.respond_to_challenge(
        pool=pool,
        client=client,
        challenge_name="CUSTOM_CHALLENGE",
        session=challenge.session,
        responses={"ANSWER": answer, **extra},
        context=CTX,
    )


def test_passwordless_email_code_signs_in(pool, client, alice):
    handlers.install(pool)
    challenge = start(pool, client)
    assert isinstance(challenge, Challenge)
    assert challenge.name == "CUSTOM_CHALLENGE"
    assert challenge.parameters == {
        "email": "alice@example.com",
        "question": "Enter the code we emailed you",
        "USERNAME": "alice",
    }
    assert mail.outbox[-1].to == ["alice@example.com"]
    done = respond(pool, client, challenge, handlers.mailed_code(), USERNAME="alice")
    assert isinstance(done, Authenticated)
    assert done.user == alice
    assert done.methods == ("custom",)
    assert not ChallengeSession.objects.exists()


def test_events_carry_cognitos_fields(pool, client, alice):
    handlers.install(pool)
    challenge = start(pool, client)
    respond(pool, client, challenge, "000000" if handlers.mailed_code() != "000000" else "111111")
    define, create, verify, define_again, create_again = handlers.SEEN
    assert define["triggerSource"] == "DefineAuthChallenge_Authentication"
    assert define["userName"] == "alice"
    assert define["callerContext"]["clientId"] == client.client_id
    assert define["request"]["session"] == []
    assert define["request"]["userNotFound"] is False
    assert define["request"]["userAttributes"]["email"] == "alice@example.com"
    assert create["triggerSource"] == "CreateAuthChallenge_Authentication"
    assert create["request"]["challengeName"] == "CUSTOM_CHALLENGE"
    assert verify["triggerSource"] == "VerifyAuthChallengeResponse_Authentication"
    code = handlers.mailed_code()
    assert verify["request"]["privateChallengeParameters"] == {"secretLoginCode": code}
    assert verify["request"]["challengeAnswer"] != code
    assert define_again["request"]["session"] == [
        {
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": False,
            "challengeMetadata": f"CODE-{code}",
        }
    ]
    assert create_again["request"]["session"] == define_again["request"]["session"]


def test_wrong_answers_get_another_try_then_fail(pool, client, alice):
    handlers.install(pool)
    challenge = start(pool, client)
    wrong = "000000" if handlers.mailed_code() != "000000" else "111111"
    second = respond(pool, client, challenge, wrong)
    assert isinstance(second, Challenge)
    assert second.session != challenge.session
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, client, challenge, handlers.mailed_code())  # a spent session is not replayed
    third = respond(pool, client, second, wrong)
    with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
        respond(pool, client, third, wrong)  # Define's third strike: failAuthentication
    assert not ChallengeSession.objects.exists()
    failures = AuthEvent.objects.filter(user=alice, success=False)
    assert failures.filter(reason="wrong custom challenge answer").count() == 3
    assert failures.filter(reason="custom authentication failed").count() == 1


def test_a_right_answer_after_a_wrong_one_signs_in(pool, client, alice):
    handlers.install(pool)
    challenge = start(pool, client)
    code = handlers.mailed_code()
    again = respond(pool, client, challenge, "x" + code)
    assert len(mail.outbox) == 1  # the same code, not a new mail
    assert isinstance(respond(pool, client, again, code), Authenticated)


def test_fail_authentication_at_once(pool, client, alice):
    handlers.install(pool, DefineAuthChallenge="define_that_fails_at_once")
    with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
        start(pool, client)
    assert not ChallengeSession.objects.exists()


def test_the_round_limit_ends_a_sign_in_define_never_ends(pool, client, alice):
    handlers.install(pool, DefineAuthChallenge="define_that_never_ends")
    challenge = start(pool, client)
    for _ in range(custom_auth.MAX_ROUNDS - 1):
        challenge = respond(pool, client, challenge, "nope")
    with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
        respond(pool, client, challenge, "nope")
    assert not ChallengeSession.objects.exists()


def test_private_parameters_are_encrypted_in_the_session(pool, client, alice):
    handlers.install(pool)
    challenge = start(pool, client)
    code = handlers.mailed_code()
    row = ChallengeSession.objects.get()
    assert code not in row.data["private"]
    assert "secretLoginCode" not in row.data["private"]
    assert code not in str(challenge.parameters)


def test_pool_without_the_triggers_is_refused(pool, client, alice):
    trigger_config.set_trigger(
        pool=pool, kind="DefineAuthChallenge", python=HANDLERS + "define_auth_challenge"
    )
    with pytest.raises(InvalidParameterException, match="Custom auth lambda trigger"):
        start(pool, client)


def test_the_flow_must_be_enabled_for_the_client(pool, alice):
    handlers.install(pool)
    other = factories.make_client(pool)
    with pytest.raises(InvalidParameterException, match="CUSTOM_AUTH flow not enabled"):
        start(pool, other)
    assert handlers.SEEN == []


def test_a_throwing_define_is_user_lambda_validation(pool, client, alice):
    handlers.install(pool, DefineAuthChallenge="define_that_refuses")
    with pytest.raises(UserLambdaValidationException) as refused:
        start(pool, client)
    assert str(refused.value.message) == (
        "DefineAuthChallenge failed with error no custom sign-in today."
    )
    assert not ChallengeSession.objects.exists()


def test_a_failing_verify_leaves_the_session_usable(pool, client, alice):
    """Nothing half-written: the answer's session survives a Verify that failed."""
    handlers.install(pool)
    challenge = start(pool, client)
    trigger_config.set_trigger(
        pool=pool, kind="VerifyAuthChallengeResponse", python=HANDLERS + "define_that_refuses"
    )
    with pytest.raises(UserLambdaValidationException, match="VerifyAuthChallengeResponse"):
        respond(pool, client, challenge, handlers.mailed_code())
    handlers.install(pool)
    assert isinstance(respond(pool, client, challenge, handlers.mailed_code()), Authenticated)


def test_unrecognizable_create_answer(pool, client, alice):
    handlers.install(pool, CreateAuthChallenge="create_with_numbers")
    with pytest.raises(InvalidLambdaResponseException):
        start(pool, client)
    assert not ChallengeSession.objects.exists()


def test_password_verifier_without_srp_a_is_refused_plainly(pool, client, alice):
    handlers.install(pool, DefineAuthChallenge="define_that_asks_for_srp")
    with pytest.raises(InvalidLambdaResponseException, match="right after SRP_A, only"):
        start(pool, client)  # PASSWORD_VERIFIER without the client's SRP_A


def test_unknown_user_goes_through_the_challenge_and_never_signs_in(pool, client):
    handlers.install(pool)
    challenge = start(pool, client, username="nobody")
    assert challenge.parameters["USERNAME"] == "nobody"
    assert handlers.SEEN[0]["request"]["userNotFound"] is True
    assert handlers.SEEN[0]["request"]["userAttributes"] == {}
    assert mail.outbox == []
    secret = handlers.SEEN[-1]["response"]["privateChallengeParameters"]["secretLoginCode"]
    with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
        respond(pool, client, challenge, secret, USERNAME="nobody")
    assert handlers.SEEN[-2]["request"]["userNotFound"] is True  # Verify


def test_unknown_user_without_prevention_is_user_not_found(pool, client):
    pool.prevent_user_existence_errors = False
    pool.save()
    handlers.install(pool)
    with pytest.raises(UserNotFoundException):
        start(pool, client, username="nobody")
    assert handlers.SEEN == []


def test_username_in_the_answer_must_be_the_sessions(pool, client, alice):
    factories.make_user(pool, "bob")
    handlers.install(pool)
    challenge = start(pool, client)
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, client, challenge, handlers.mailed_code(), USERNAME="bob")


def test_an_empty_answer_is_an_invalid_parameter(pool, client, alice):
    handlers.install(pool)
    challenge = start(pool, client)
    with pytest.raises(InvalidParameterException, match="ANSWER"):
        respond(pool, client, challenge, "")
    assert isinstance(respond(pool, client, challenge, handlers.mailed_code()), Authenticated)


@pytest.fixture
def receiver():
    found, server = hooks.serve()
    yield found
    server.shutdown()
    server.server_close()


def test_a_webhook_verify(pool, client, alice, receiver):
    """Verify as a webhook: the signed event carries the private parameters to the pool's own
    endpoint (never to the client), and its answerCorrect decides."""
    handlers.install(pool)
    trigger_config.set_trigger(
        pool=pool, kind="VerifyAuthChallengeResponse", webhook=receiver.url, secret=hooks.SECRET
    )
    receiver.answer = lambda event: (
        200,
        {
            **event,
            "response": {
                "answerCorrect": event["request"]["challengeAnswer"]
                == event["request"]["privateChallengeParameters"]["secretLoginCode"]
            },
        },
    )
    challenge = start(pool, client)
    code = handlers.mailed_code()
    again = respond(pool, client, challenge, "nope")
    assert isinstance(again, Challenge)
    assert isinstance(respond(pool, client, again, code), Authenticated)
    first, second = receiver.received
    assert first.signed_correctly() and second.signed_correctly()
    assert first.event["triggerSource"] == "VerifyAuthChallengeResponse_Authentication"
    assert second.event["request"]["privateChallengeParameters"] == {"secretLoginCode": code}


def test_client_metadata_of_the_answer_reaches_verify_and_define(pool, client, alice):
    handlers.install(pool)
    challenge = start(pool, client)
    authenticate.respond_to_challenge(
        pool=pool,
        client=client,
        challenge_name="CUSTOM_CHALLENGE",
        session=challenge.session,
        responses={"ANSWER": handlers.mailed_code()},
        context=RequestContext(source="api", client_metadata={"device": "kiosk"}),
    )
    verify, define = handlers.SEEN[-2:]
    assert verify["request"]["clientMetadata"] == {"device": "kiosk"}
    assert define["request"]["clientMetadata"] == {"device": "kiosk"}
    assert "clientMetadata" not in handlers.SEEN[0]["request"]  # InitiateAuth's never does


def test_a_session_is_bound_to_its_client(pool, client, alice):
    handlers.install(pool)
    challenge = start(pool, client)
    other = factories.make_client(pool, explicit_auth_flows=["ALLOW_CUSTOM_AUTH"])
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, other, challenge, handlers.mailed_code())
    assert isinstance(respond(pool, client, challenge, handlers.mailed_code()), Authenticated)


def test_issued_tokens_still_pass_the_users_mfa(pool, client, alice):
    """issueTokens proves the first factor only: the user's MFA comes next, as after a
    password (sign_in.complete_first_factor)."""
    UserPool.objects.filter(pk=pool.pk).update(
        mfa_configuration=UserPool.Mfa.OPTIONAL, mfa_methods=["EMAIL_OTP"]
    )
    pool.refresh_from_db()  # .update() keeps config_version: a save would replace it
    pool.refresh_from_db()
    mfa.set_preference(user=alice, email=True, preferred="EMAIL_OTP")
    handlers.install(pool)
    challenge = start(pool, client)
    next_step = respond(pool, client, challenge, handlers.mailed_code())
    assert isinstance(next_step, Challenge)
    assert next_step.name == "EMAIL_OTP"


# ------------------------------------------------------------------- SRP inside CUSTOM_AUTH


def srp_start(pool, client, aws, username="alice"):
    return authenticate.custom_auth(
        pool=pool,
        client=client,
        username=username,
        context=CTX,
        challenge_name="SRP_A",
        srp_a=aws.get_auth_params()["SRP_A"],
    )


def answer_verifier(pool, client, aws, challenge):
    timestamp = AWSSRP.get_cognito_formatted_timestamp(clock.now())
    return authenticate.respond_to_challenge(
        pool=pool,
        client=client,
        challenge_name="PASSWORD_VERIFIER",
        session="",
        responses=helpers.srp_claim(aws, challenge.parameters, timestamp),
        context=CTX,
    )


def test_srp_then_a_custom_challenge_signs_in(pool, client, alice):
    """AWS's Define example: SRP_A, PASSWORD_VERIFIER (srp_auth's own), then a question."""
    handlers.install(
        pool,
        DefineAuthChallenge="define_password_then_challenge",
        CreateAuthChallenge="create_question",
        VerifyAuthChallengeResponse="verify_question",
    )
    aws = helpers.srp_client(pool, client, "alice", factories.PASSWORD)
    verifier = srp_start(pool, client, aws)
    assert verifier.name == "PASSWORD_VERIFIER"
    assert handlers.SEEN[0]["request"]["session"] == [
        {"challengeName": "SRP_A", "challengeResult": True, "challengeMetadata": None}
    ]
    question = answer_verifier(pool, client, aws, verifier)
    assert question.name == "CUSTOM_CHALLENGE"
    assert question.parameters == {"question": "What is 2 + 3?", "USERNAME": "alice"}
    assert [entry["challengeName"] for entry in handlers.SEEN[-2]["request"]["session"]] == [
        "SRP_A",
        "PASSWORD_VERIFIER",
    ]
    done = respond(pool, client, question, "5")
    assert isinstance(done, Authenticated) and done.user == alice
    assert not ChallengeSession.objects.exists()


def test_srp_inside_custom_auth_with_a_wrong_password_is_refused(pool, client, alice):
    handlers.install(
        pool,
        DefineAuthChallenge="define_password_then_challenge",
        CreateAuthChallenge="create_question",
        VerifyAuthChallengeResponse="verify_question",
    )
    aws = helpers.srp_client(pool, client, "alice", "not-the-password-1A!")
    verifier = srp_start(pool, client, aws)
    with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
        answer_verifier(pool, client, aws, verifier)
    assert len(handlers.SEEN) == 1  # Define is not asked again: the password failed


def test_challenge_name_other_than_srp_a_is_an_invalid_parameter(pool, client, alice):
    handlers.install(pool)
    with pytest.raises(InvalidParameterException, match="CHALLENGE_NAME"):
        authenticate.custom_auth(
            pool=pool, client=client, username="alice", challenge_name="SMS_MFA"
        )
    assert handlers.SEEN == []


def test_missing_username_is_an_invalid_parameter_and_fires_nothing(pool, client):
    handlers.install(pool)
    with pytest.raises(InvalidParameterException, match="USERNAME"):
        start(pool, client, username="")
    assert handlers.SEEN == []
