"""Crafted USER_SRP_AUTH input through the door (Django's test client, no live server): every
one is refused in Cognito's error format, never a 5xx, and starts or spends nothing."""

from __future__ import annotations

import base64
import json

import pytest

from pool import clock, srp
from pool.models import ChallengeSession
from tests import factories
from tests.api.test_door import error_of
from tests.pool.helpers import srp_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(pool):
    return factories.make_client(pool, explicit_auth_flows=["ALLOW_USER_SRP_AUTH"])


def initiate(api, app, **parameters):
    return api.post(
        "InitiateAuth",
        {"ClientId": app.client_id, "AuthFlow": "USER_SRP_AUTH", "AuthParameters": parameters},
        sign=False,
    )


def respond(api, app, **responses):
    return api.post(
        "RespondToAuthChallenge",
        {
            "ClientId": app.client_id,
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": responses,
        },
        sign=False,
    )


@pytest.mark.parametrize(
    "parameters",
    [
        {"USERNAME": "alice"},
        {"SRP_A": "abc"},
        {"USERNAME": "alice", "SRP_A": "0"},
        {"USERNAME": "alice", "SRP_A": srp.N_HEX},
        {"USERNAME": "alice", "SRP_A": "g" * 10},
        {"USERNAME": "alice", "SRP_A": "\u0663" * 4},  # digits, but not hex ones
        {"USERNAME": "alice", "SRP_A": "1" * 5000},
        {"USERNAME": "al\x00ice", "SRP_A": ""},
    ],
)
def test_crafted_initiation_is_a_parameter_error(api, app, user, parameters):
    status, code, _ = error_of(initiate(api, app, **parameters))
    assert (status, code) == (400, "InvalidParameterException")
    assert not ChallengeSession.objects.exists()


def test_a_name_with_a_nul_byte_is_an_unknown_user(api, app, user):
    aws = srp_client(app.pool, app, "al\x00ice", "x")
    response = initiate(api, app, **aws.get_auth_params())
    assert response.status_code == 200
    assert json.loads(response.content)["ChallengeName"] == "PASSWORD_VERIFIER"


@pytest.fixture
def challenge(api, app, user) -> dict:
    aws = srp_client(app.pool, app, "alice", factories.PASSWORD)
    response = initiate(api, app, **aws.get_auth_params())
    assert response.status_code == 200
    return json.loads(response.content)["ChallengeParameters"]


VALID_TIMESTAMP = "Wed Apr 5 22:42:34 UTC 2017"


@pytest.mark.parametrize(
    ("block", "signature", "timestamp", "expected"),
    [
        ("", "c2ln", VALID_TIMESTAMP, "InvalidParameterException"),
        ("BLOCK", "", VALID_TIMESTAMP, "InvalidParameterException"),
        ("BLOCK", "c2ln", "", "InvalidParameterException"),
        ("BLOCK", "c2ln", "Wed Apr 05 22:42:34 UTC 2017", "InvalidParameterException"),
        ("not base64 at all", "c2ln", VALID_TIMESTAMP, "NotAuthorizedException"),
        (base64.b64encode(b"[1, 2]").decode(), "c2ln", VALID_TIMESTAMP, "NotAuthorizedException"),
        ("A" * 9000, "c2ln", VALID_TIMESTAMP, "NotAuthorizedException"),
        ("BLOCK", "\u00e9\U0001f600", "NOW", "NotAuthorizedException"),
    ],
)
def test_crafted_answers_are_refused_and_spend_nothing(
    api, app, challenge, block, signature, timestamp, expected
):
    block = challenge["SECRET_BLOCK"] if block == "BLOCK" else block
    timestamp = srp.format_timestamp(clock.now()) if timestamp == "NOW" else timestamp
    response = respond(
        api,
        app,
        USERNAME="alice",
        PASSWORD_CLAIM_SECRET_BLOCK=block,
        PASSWORD_CLAIM_SIGNATURE=signature,
        TIMESTAMP=timestamp,
    )
    status, code, _ = error_of(response)
    assert (status, code) == (400, expected)
    if block != challenge["SECRET_BLOCK"] or expected == "InvalidParameterException":
        assert ChallengeSession.objects.count() == 1
