"""boto3 against a live Cognate: signing in through the JSON API (InitiateAuth,
RespondToAuthChallenge), positive and negative."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest

from pool.models import User, UserStatus
from tests import factories
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

PASSWORD = factories.PASSWORD


@pytest.fixture
def pool(db):
    return factories.make_pool(name="signin")


@pytest.fixture
def client(pool):
    return factories.make_client(pool)


@pytest.fixture
def alice(pool):
    return factories.make_user(pool, "alice")


def password_auth(cognito, client, username="alice", password=PASSWORD, **parameters):
    return cognito.initiate_auth(
        ClientId=client.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password, **parameters},
    )


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def test_password_sign_in_answers_api_tokens(cognito, recorder, pool, client, alice):
    result = password_auth(cognito, client)["AuthenticationResult"]
    assert result["TokenType"] == "Bearer" and result["ExpiresIn"] == client.access_token_validity
    access = claims(result["AccessToken"])
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["username"] == "alice" and access["client_id"] == client.client_id
    identity = claims(result["IdToken"])
    assert identity["cognito:username"] == "alice" and identity["email"] == alice.email
    assert identity["aud"] == client.client_id
    assert result["RefreshToken"]
    assert_fits(recorder)


def test_wrong_password_is_not_authorized(cognito, client, alice):
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        password_auth(cognito, client, password="Wrong-Horse-9")
    assert refused.value.response["Error"]["Message"] == "Incorrect username or password."


def test_missing_password_is_an_invalid_parameter(cognito, client, alice):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        cognito.initiate_auth(
            ClientId=client.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice"},
        )
    assert refused.value.response["Error"]["Message"] == "Missing required parameter PASSWORD"


def test_unknown_client_is_resource_not_found(cognito, alice):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.initiate_auth(
            ClientId="nosuchclient0000000000000",
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )


def test_new_password_required_then_tokens(cognito, recorder, pool, client):
    factories.make_user(pool, "bob", status=UserStatus.FORCE_CHANGE_PASSWORD)
    challenge = password_auth(cognito, client, username="bob")
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == "bob"
    assert json.loads(challenge["ChallengeParameters"]["requiredAttributes"]) == []
    answered = cognito.respond_to_auth_challenge(
        ClientId=client.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "bob", "NEW_PASSWORD": "Brand-New-Horse-7"},
    )
    assert claims(answered["AuthenticationResult"]["AccessToken"])["username"] == "bob"
    assert User.objects.get(username="bob").status == UserStatus.CONFIRMED
    assert password_auth(cognito, client, username="bob", password="Brand-New-Horse-7")[
        "AuthenticationResult"
    ]
    assert_fits(recorder)
