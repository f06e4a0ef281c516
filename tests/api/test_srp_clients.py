"""USER_SRP_AUTH against a live Cognate, from the clients that use it: pycognito's `Cognito`
(authenticate, its own token verification against our JWKS, renew_access_token, check_token,
new_password_challenge) and boto3 with pycognito's AWSSRP, positive and negative."""

from __future__ import annotations

import datetime as dt

import jwt as pyjwt
import pytest
from botocore.config import Config
from pycognito import Cognito
from pycognito.aws_srp import AWSSRP

from api.principals import secret_hash
from pool import clock
from pool.models import ChallengeSession, UserPool, UserStatus
from tests import factories
from tests.api.conftest import REGION, UNSIGNED
from tests.api.shape_check import assert_fits
from tests.pool.helpers import srp_claim

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

PASSWORD = factories.PASSWORD
SRP_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
# Unsigned calls (InitiateAuth, RespondToAuthChallenge) need no credentials; these keep boto3
# from looking for any.


@pytest.fixture
def pool(db):
    return factories.make_pool(name="srp", mfa_configuration=UserPool.Mfa.OFF)


def make_client(pool, **fields):
    """A client as CreateUserPoolClient makes it by default: SRP and refresh allowed, refresh
    tokens not rotated (pycognito refreshes with REFRESH_TOKEN_AUTH)."""
    fields.setdefault("explicit_auth_flows", SRP_FLOWS)
    return factories.make_client(pool, refresh_token_rotation=False, **fields)


@pytest.fixture
def app(pool):
    return make_client(pool)


@pytest.fixture
def confidential(pool):
    return make_client(pool, secret="")


@pytest.fixture
def alice(pool):
    return factories.make_user(pool, "alice")


def pycognito_user(server, pool, app, username="alice", **options) -> Cognito:
    """pycognito's Cognito pointed at the live server: its user_pool_url (the issuer it
    verifies and where it fetches the JWKS) is then `{endpoint}/{pool id}`."""
    return Cognito(
        pool.id,
        app.client_id,
        user_pool_region=REGION,
        username=username,
        botocore_config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        boto3_client_kwargs={"endpoint_url": server, **UNSIGNED},
        **options,
    )


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def message(error) -> str:
    return error.value.response["Error"]["Message"]


def initiate(app_caller, app, username="alice", **parameters):
    aws = AWSSRP(username, PASSWORD, app.pool_id, app.client_id, client=app_caller)
    return app_caller.initiate_auth(
        ClientId=app.client_id,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters={**aws.get_auth_params(), **parameters},
    )


# --------------------------------------------------------------------------------- pycognito


def test_pycognito_authenticates_and_verifies_our_tokens(server, pool, app, alice):
    user = pycognito_user(server, pool, app)
    user.authenticate(password=PASSWORD)  # _set_tokens verifies both tokens against our JWKS
    assert user.token_type == "Bearer" and user.refresh_token
    user.verify_tokens()
    assert user.access_claims["username"] == "alice"
    assert user.access_claims["iss"] == f"{server}/{pool.id}"
    assert user.id_claims["aud"] == app.client_id
    assert user.id_claims["cognito:username"] == "alice"


def test_pycognito_renews_the_access_token(server, pool, app, alice):
    user = pycognito_user(server, pool, app)
    user.authenticate(password=PASSWORD)
    first = user.access_token
    user.renew_access_token()  # REFRESH_TOKEN_AUTH, verified again against the JWKS
    assert user.access_token != first
    assert claims(user.access_token)["username"] == "alice"


def test_pycognito_check_token_keeps_a_live_token(server, pool, app, alice):
    user = pycognito_user(server, pool, app)
    user.authenticate(password=PASSWORD)
    token = user.access_token
    assert user.check_token() is False
    assert user.access_token == token


def test_pycognito_check_token_renews_an_expired_one(server, pool, app, alice):
    # Signed in two hours ago (the server's clock): the access token has expired since.
    user = pycognito_user(server, pool, app)
    clock.freeze(clock.now() - dt.timedelta(hours=2))
    aws = AWSSRP("alice", PASSWORD, pool.id, app.client_id, client=user.client)
    challenge = user.client.initiate_auth(
        ClientId=app.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=aws.get_auth_params()
    )
    # Signed at the server's clock (pycognito's process_challenge signs at the wall clock).
    timestamp = AWSSRP.get_cognito_formatted_timestamp(clock.now())
    responses = srp_claim(aws, challenge["ChallengeParameters"], timestamp)
    result = user.client.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
    )["AuthenticationResult"]
    clock.unfreeze()
    user.access_token = expired = result["AccessToken"]
    user.refresh_token = result["RefreshToken"]

    assert user.check_token() is True  # expired: renewed with the refresh token
    assert user.access_token != expired
    user.verify_token(user.access_token, "access_token", "access")


def test_pycognito_wrong_password_is_refused(server, pool, app, alice):
    user = pycognito_user(server, pool, app)
    with pytest.raises(user.client.exceptions.NotAuthorizedException) as refused:
        user.authenticate(password="Wrong-Horse-9")
    assert message(refused) == "Incorrect username or password."
    assert user.access_token is None


def test_pycognito_with_a_client_secret(server, pool, confidential, alice):
    user = pycognito_user(server, pool, confidential, client_secret=confidential.plain_secret)
    user.authenticate(password=PASSWORD)
    assert claims(user.access_token)["client_id"] == confidential.client_id
    user.renew_access_token()


def test_a_client_secret_must_be_proved(server, pool, confidential, alice):
    user = pycognito_user(server, pool, confidential)  # no client_secret: no SECRET_HASH
    with pytest.raises(user.client.exceptions.NotAuthorizedException) as refused:
        user.authenticate(password=PASSWORD)
    assert "SECRET_HASH was not received" in message(refused)


def test_pycognito_new_password_challenge(server, pool, app):
    factories.make_user(pool, "dave", status=UserStatus.FORCE_CHANGE_PASSWORD)
    user = pycognito_user(server, pool, app, username="dave")
    user.new_password_challenge(password=PASSWORD, new_password="Brand-New-Horse-7")
    assert claims(user.access_token)["username"] == "dave"
    again = pycognito_user(server, pool, app, username="dave")
    again.authenticate(password="Brand-New-Horse-7")


# ---------------------------------------------------------------------- boto3 + AWSSRP


def test_boto3_with_awssrp_signs_in(app_caller, recorder, pool, app, alice):
    aws = AWSSRP("alice", PASSWORD, pool.id, app.client_id, client=app_caller)
    tokens = aws.authenticate_user()
    assert claims(tokens["AuthenticationResult"]["IdToken"])["cognito:username"] == "alice"
    (_, status, challenge), (_, _, result) = recorder.bodies
    assert status == 200 and challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    assert "Session" not in challenge  # as Cognito: the SECRET_BLOCK carries the state
    assert set(challenge["ChallengeParameters"]) == {
        "SALT",
        "SRP_B",
        "SECRET_BLOCK",
        "USERNAME",
        "USER_ID_FOR_SRP",
    }
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == "alice"
    assert "AuthenticationResult" in result
    assert_fits(recorder)


def test_user_id_for_srp_is_the_username_not_the_alias(app_caller, recorder):
    pool = factories.make_pool(alias_attributes=["email"], mfa_configuration=UserPool.Mfa.OFF)
    app = make_client(pool)
    factories.make_user(pool, "bob", email="bob@example.com")
    aws = AWSSRP("bob@example.com", PASSWORD, pool.id, app.client_id, client=app_caller)
    tokens = aws.authenticate_user()
    assert claims(tokens["AuthenticationResult"]["AccessToken"])["username"] == "bob"
    assert recorder.bodies[0][2]["ChallengeParameters"]["USER_ID_FOR_SRP"] == "bob"
    assert_fits(recorder)


def test_replayed_answer_is_refused(app_caller, pool, app, alice):
    aws = AWSSRP("alice", PASSWORD, pool.id, app.client_id, client=app_caller)
    challenge = app_caller.initiate_auth(
        ClientId=app.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=aws.get_auth_params()
    )
    responses = aws.process_challenge(challenge["ChallengeParameters"], aws.get_auth_params())
    answer = {
        "ClientId": app.client_id,
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeResponses": responses,
    }
    assert "AuthenticationResult" in app_caller.respond_to_auth_challenge(**answer)
    with pytest.raises(app_caller.exceptions.NotAuthorizedException) as refused:
        app_caller.respond_to_auth_challenge(**answer)
    assert message(refused) == "Invalid session for the user."


def test_malformed_timestamp_is_a_parameter_error(app_caller, recorder, pool, app, alice):
    aws = AWSSRP("alice", PASSWORD, pool.id, app.client_id, client=app_caller)
    challenge = app_caller.initiate_auth(
        ClientId=app.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=aws.get_auth_params()
    )
    responses = aws.process_challenge(challenge["ChallengeParameters"], aws.get_auth_params())
    padded = clock.now().replace(day=5)
    responses["TIMESTAMP"] = padded.strftime("%a %b %d %H:%M:%S UTC %Y")  # "... Nov 05 ..."
    with pytest.raises(app_caller.exceptions.InvalidParameterException) as refused:
        app_caller.respond_to_auth_challenge(
            ClientId=app.client_id,
            ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=responses,
        )
    assert "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy" in message(refused)
    assert_fits(recorder)  # the challenge before it


def test_secret_hash_over_the_typed_name_and_the_username(app_caller, pool, confidential, alice):
    """SECRET_HASH at InitiateAuth is over the name typed; at the answer over USERNAME."""
    aws = AWSSRP(
        "ALICE",
        PASSWORD,
        pool.id,
        confidential.client_id,
        client=app_caller,
        client_secret=confidential.plain_secret,
    )
    tokens = aws.authenticate_user()
    assert claims(tokens["AuthenticationResult"]["AccessToken"])["username"] == "alice"
    challenge = app_caller.initiate_auth(
        ClientId=confidential.client_id,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters=aws.get_auth_params(),
    )
    responses = aws.process_challenge(challenge["ChallengeParameters"], aws.get_auth_params())
    assert responses["SECRET_HASH"] == secret_hash(
        confidential.plain_secret, "alice", confidential.client_id
    )
    responses["SECRET_HASH"] = secret_hash(
        confidential.plain_secret, "ALICE", confidential.client_id
    )
    with pytest.raises(app_caller.exceptions.NotAuthorizedException) as refused:
        app_caller.respond_to_auth_challenge(
            ClientId=confidential.client_id,
            ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=responses,
        )
    assert "Unable to verify secret hash" in message(refused)


# ------------------------------------------------------------------------------ refusals


def test_flow_must_be_enabled(app_caller, recorder, pool, alice):
    app = make_client(pool, explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH"])
    with pytest.raises(app_caller.exceptions.InvalidParameterException) as refused:
        initiate(app_caller, app)
    assert message(refused) == "USER_SRP_AUTH flow not enabled for this client"


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"SRP_A": "0"}, "SRP_A"),
        ({"SRP_A": "zz-not-hex"}, "SRP_A"),
        ({"SRP_A": ""}, "Missing required parameter SRP_A"),
        ({"USERNAME": ""}, "Missing required parameter USERNAME"),
    ],
)
def test_bad_parameters_are_refused_and_change_nothing(
    app_caller, recorder, pool, app, alice, parameters, expected
):
    with pytest.raises(app_caller.exceptions.InvalidParameterException) as refused:
        initiate(app_caller, app, **parameters)
    assert expected in message(refused)
    assert not ChallengeSession.objects.exists()


def test_unknown_user_is_refused_at_the_answer_when_existence_is_hidden(
    app_caller, recorder, pool, app
):
    aws = AWSSRP("nobody", PASSWORD, pool.id, app.client_id, client=app_caller)
    with pytest.raises(app_caller.exceptions.NotAuthorizedException) as refused:
        aws.authenticate_user()
    assert message(refused) == "Incorrect username or password."
    assert recorder.bodies[0][2]["ChallengeName"] == "PASSWORD_VERIFIER"
    assert_fits(recorder)


def test_unknown_user_is_not_found_when_existence_is_shown(app_caller, pool, app):
    UserPool.objects.filter(pk=pool.pk).update(prevent_user_existence_errors=False)
    with pytest.raises(app_caller.exceptions.UserNotFoundException):
        initiate(app_caller, app, USERNAME="nobody")


def test_lockout_answers_password_attempts_exceeded(app_caller, pool, app, alice):
    clock.freeze()
    for _ in range(5):
        aws = AWSSRP("alice", "Wrong-Horse-9", pool.id, app.client_id, client=app_caller)
        with pytest.raises(app_caller.exceptions.NotAuthorizedException):
            _answer_at_clock(app_caller, app, aws)
    aws = AWSSRP("alice", PASSWORD, pool.id, app.client_id, client=app_caller)
    with pytest.raises(app_caller.exceptions.NotAuthorizedException) as refused:
        _answer_at_clock(app_caller, app, aws)
    assert message(refused) == "Password attempts exceeded"


def _answer_at_clock(app_caller, app, aws: AWSSRP):
    """An SRP sign-in whose TIMESTAMP is the server's (frozen) clock."""
    challenge = app_caller.initiate_auth(
        ClientId=app.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=aws.get_auth_params()
    )
    timestamp = AWSSRP.get_cognito_formatted_timestamp(clock.now())
    return app_caller.respond_to_auth_challenge(
        ClientId=app.client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=srp_claim(aws, challenge["ChallengeParameters"], timestamp),
    )
