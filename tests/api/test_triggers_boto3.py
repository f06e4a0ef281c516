"""boto3 against a live Cognate: LambdaConfig (a webhook URL or python:dotted.path where Cognito
takes an ARN) and the triggers the JSON API's actions fire, with their ClientMetadata."""

from __future__ import annotations

import jwt as pyjwt
import pytest

from pool.models import Trigger, User, UserPool
from tests import factories
from tests import triggers_support as hooks

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]
AWS_HANDLER = "python:tests.triggers_support.aws_pre_sign_up_handler"


@pytest.fixture
def receiver():
    found, server = hooks.serve()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def pool(db):
    return factories.make_pool(name="triggers")


@pytest.fixture
def app_client(pool):
    return factories.make_client(pool)


def test_lambda_config_round_trip(cognito, pool, receiver):
    config = {
        "PreSignUp": receiver.url,
        "PostConfirmation": AWS_HANDLER,
        "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": receiver.url},
    }
    cognito.update_user_pool(UserPoolId=pool.id, LambdaConfig=config)
    described = cognito.describe_user_pool(UserPoolId=pool.id)["UserPool"]["LambdaConfig"]
    assert described == {**config, "PreTokenGeneration": receiver.url}
    assert Trigger.objects.get(kind="PreTokenGeneration").version == "V2_0"
    listed = cognito.list_user_pools(MaxResults=10)["UserPools"]
    assert listed[0]["LambdaConfig"]["PreSignUp"] == receiver.url
    # UpdateUserPool replaces the whole LambdaConfig: leaving it out clears it, as in Cognito.
    cognito.update_user_pool(UserPoolId=pool.id)
    assert cognito.describe_user_pool(UserPoolId=pool.id)["UserPool"]["LambdaConfig"] == {}


@pytest.mark.parametrize(
    "config",
    [
        {"PreSignUp": "http://example.com/not-loopback"},
        {"PreSignUp": "python:tests.triggers_support.missing"},
        {"KMSKeyID": "arn:aws:kms:eu-west-1:123456789012:key/abcd"},
        {
            "PreTokenGenerationConfig": {
                "LambdaVersion": "V9_0",
                "LambdaArn": "https://hooks.example/pre-token",
            }
        },
    ],
)
def test_create_user_pool_refuses_a_bad_lambda_config_and_creates_nothing(cognito, config):
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.create_user_pool(PoolName="with-triggers", LambdaConfig=config)
    assert not UserPool.objects.exists()


def test_create_user_pool_with_a_python_trigger(cognito):
    made = cognito.create_user_pool(PoolName="py", LambdaConfig={"PreSignUp": AWS_HANDLER})
    assert made["UserPool"]["LambdaConfig"] == {"PreSignUp": AWS_HANDLER}


def test_sign_up_refused_by_the_trigger(cognito, app_caller, pool, app_client, receiver):
    cognito.update_user_pool(UserPoolId=pool.id, LambdaConfig={"PreSignUp": receiver.url})
    receiver.answer = hooks.refusing("Registration from this domain is not allowed.")
    with pytest.raises(app_caller.exceptions.UserLambdaValidationException) as refused:
        app_caller.sign_up(
            ClientId=app_client.client_id,
            Username="dora",
            Password=factories.PASSWORD,
            UserAttributes=[{"Name": "email", "Value": "dora@blocked.example"}],
            ValidationData=[{"Name": "captcha", "Value": "ok"}],
            ClientMetadata={"invite": "xyz"},
        )
    assert refused.value.response["Error"]["Message"] == (
        "PreSignUp failed with error Registration from this domain is not allowed.."
    )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert not User.objects.exists()
    request = receiver.last()["request"]
    assert request["validationData"] == {"captcha": "ok"}
    assert request["clientMetadata"] == {"invite": "xyz"}


def test_the_aws_handler_auto_confirms_through_the_api(cognito, app_caller, pool, app_client):
    cognito.add_custom_attributes(
        UserPoolId=pool.id,
        CustomAttributes=[{"Name": "domain", "AttributeDataType": "String"}],
    )
    cognito.update_user_pool(UserPoolId=pool.id, LambdaConfig={"PreSignUp": AWS_HANDLER})
    answer = app_caller.sign_up(
        ClientId=app_client.client_id,
        Username="ann",
        Password=factories.PASSWORD,
        UserAttributes=[
            {"Name": "email", "Value": "ann@acme.example"},
            {"Name": "custom:domain", "Value": "acme.example"},
        ],
    )
    assert answer["UserConfirmed"] is True


def test_sign_in_fires_pre_auth_with_validation_data_and_pre_token(
    cognito, app_caller, pool, app_client, receiver
):
    factories.make_user(pool, "alice")
    cognito.update_user_pool(
        UserPoolId=pool.id,
        LambdaConfig={"PreAuthentication": receiver.url, "PreTokenGeneration": receiver.url},
    )

    def answer(event):
        if event["triggerSource"].startswith("TokenGeneration"):
            event["response"] = {"claimsOverrideDetails": {"claimsToAddOrOverride": {"t": "1"}}}
        return 200, event

    receiver.answer = answer
    result = app_caller.initiate_auth(
        ClientId=app_client.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": factories.PASSWORD},
        ClientMetadata={"from": "kiosk"},
    )["AuthenticationResult"]
    assert pyjwt.decode(result["IdToken"], options={"verify_signature": False})["t"] == "1"
    pre_auth = receiver.last("PreAuthentication")
    assert pre_auth["request"]["validationData"] == {"from": "kiosk"}
    token_event = receiver.last("TokenGeneration")
    assert token_event["triggerSource"] == "TokenGeneration_Authentication"
    # InitiateAuth's ClientMetadata reaches no trigger but pre-authentication (Cognito's rule).
    assert "clientMetadata" not in token_event["request"]


def test_an_unreachable_trigger_is_unexpected_lambda(cognito, app_caller, pool, app_client):
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"
    cognito.update_user_pool(UserPoolId=pool.id, LambdaConfig={"PreSignUp": url})
    with pytest.raises(app_caller.exceptions.UnexpectedLambdaException):
        app_caller.sign_up(
            ClientId=app_client.client_id,
            Username="dora",
            Password=factories.PASSWORD,
            UserAttributes=[{"Name": "email", "Value": "dora@example.com"}],
        )
    assert not User.objects.exists()
