"""boto3 against a live Cognate: the passwordless email-code sign-in AWS documents for custom
authentication (its three handlers, ported to Python, run unchanged as the pool's triggers),
through InitiateAuth CUSTOM_AUTH and RespondToAuthChallenge CUSTOM_CHALLENGE; wrong answers,
failAuthentication, a trigger failure, and the private parameters never on the wire."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from pycognito.aws_srp import AWSSRP

from pool import clock
from pool.models import UserPool
from pool.services import triggers as trigger_config
from tests import custom_auth_handlers as handlers
from tests import factories
from tests.api.shape_check import assert_fits
from tests.pool import helpers

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

HANDLERS = "tests.custom_auth_handlers."


@pytest.fixture
def pool(db):
    return factories.make_pool(name="passwordless", mfa_configuration=UserPool.Mfa.OFF)


@pytest.fixture
def app(pool):
    return factories.make_client(
        pool, explicit_auth_flows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )


@pytest.fixture
def alice(pool):
    return factories.make_user(pool, "alice")


@pytest.fixture
def passwordless(pool):
    handlers.SEEN.clear()
    handlers.install(pool)


def start(cognito, app, username="alice"):
    return cognito.initiate_auth(
        ClientId=app.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": username}
    )


def respond(cognito, app, challenge, answer, username="alice"):
    return cognito.respond_to_auth_challenge(
        ClientId=app.client_id,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": username, "ANSWER": answer},
    )


def wire(recorder) -> str:
    """Every answer boto3 received, as the raw JSON text."""
    return json.dumps([body for _, _, body in recorder.bodies])


def test_passwordless_sign_in_through_boto3(cognito, recorder, pool, app, alice, passwordless):
    challenge = start(cognito, app)
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert challenge["ChallengeParameters"] == {
        "email": "alice@example.com",
        "question": "Enter the code we emailed you",
        "USERNAME": "alice",
    }
    code = handlers.mailed_code()
    done = respond(cognito, app, challenge, code)
    assert_fits(recorder)
    tokens = done["AuthenticationResult"]
    claims = pyjwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert claims["cognito:username"] == "alice"
    assert claims["aud"] == app.client_id
    # The private parameters (the code) and the metadata never reach the client.
    assert code not in wire(recorder)
    assert "secretLoginCode" not in wire(recorder)
    assert "CODE-" not in wire(recorder)


def test_wrong_answers_then_fail_authentication(cognito, recorder, app, alice, passwordless):
    challenge = start(cognito, app)
    wrong = "000000" if handlers.mailed_code() != "000000" else "111111"
    second = respond(cognito, app, challenge, wrong)
    assert second["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert second["Session"] != challenge["Session"]
    third = respond(cognito, app, second, wrong)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        respond(cognito, app, third, wrong)
    assert refused.value.response["Error"]["Message"] == "Incorrect username or password."
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        respond(cognito, app, third, handlers.mailed_code())  # the failed sign-in's session is gone
    assert handlers.mailed_code() not in wire(recorder)


def test_a_trigger_failure_is_cognitos_error(cognito, pool, app, alice, passwordless):
    trigger_config.set_trigger(
        pool=pool, kind="DefineAuthChallenge", python=HANDLERS + "define_that_refuses"
    )
    with pytest.raises(cognito.exceptions.UserLambdaValidationException) as refused:
        start(cognito, app)
    assert refused.value.response["Error"]["Message"] == (
        "DefineAuthChallenge failed with error no custom sign-in today."
    )


def test_unknown_user_gets_a_challenge_it_cannot_pass(cognito, recorder, app, passwordless):
    challenge = start(cognito, app, username="nobody")
    assert challenge["ChallengeName"] == "CUSTOM_CHALLENGE"
    secret = handlers.SEEN[-1]["response"]["privateChallengeParameters"]["secretLoginCode"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        respond(cognito, app, challenge, secret, username="nobody")
    assert refused.value.response["Error"]["Message"] == "Incorrect username or password."
    assert secret not in wire(recorder)


def test_srp_then_a_question_through_boto3(cognito, recorder, pool, app, alice):
    """CUSTOM_AUTH with SRP_A: Define asks PASSWORD_VERIFIER (pycognito's client math answers
    it), then a question; AWS's Define example."""
    handlers.SEEN.clear()
    for kind, name in {
        "DefineAuthChallenge": "define_password_then_challenge",
        "CreateAuthChallenge": "create_question",
        "VerifyAuthChallengeResponse": "verify_question",
    }.items():
        trigger_config.set_trigger(pool=pool, kind=kind, python=HANDLERS + name)
    aws = helpers.srp_client(pool, app, "alice", factories.PASSWORD)
    verifier = cognito.initiate_auth(
        ClientId=app.client_id,
        AuthFlow="CUSTOM_AUTH",
        AuthParameters={**aws.get_auth_params(), "CHALLENGE_NAME": "SRP_A"},
    )
    assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
    timestamp = AWSSRP.get_cognito_formatted_timestamp(clock.now())
    question = cognito.respond_to_auth_challenge(
        ClientId=app.client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=helpers.srp_claim(aws, verifier["ChallengeParameters"], timestamp),
    )
    assert question["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert question["ChallengeParameters"]["question"] == "What is 2 + 3?"
    done = respond(cognito, app, question, "5")
    assert done["AuthenticationResult"]["AccessToken"]
    assert '"answer"' not in wire(recorder)
    assert_fits(recorder)
