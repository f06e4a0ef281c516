"""Pre token generation V3_0 for client-credentials (M2M) access tokens:
TokenGeneration_ClientCredentials, against a real webhook receiver on loopback."""

from __future__ import annotations

import jwt as pyjwt
import pytest

from pool.errors import InvalidLambdaResponseException, UserLambdaValidationException
from pool.models import TriggerInvocation
from pool.services import tokens
from pool.services import triggers as trigger_config
from tests import factories
from tests import triggers_support as hooks


@pytest.fixture
def receiver():
    found, server = hooks.serve()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def machine(pool):
    return factories.make_service_client(pool, identifier="api", scopes=("read", "write"))


def hook(pool, receiver, version: str) -> None:
    trigger_config.set_trigger(
        pool=pool,
        kind="PreTokenGeneration",
        webhook=receiver.url,
        secret=hooks.SECRET,
        version=version,
    )


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def test_v3_event_and_its_claims_and_scopes_on_the_m2m_token(pool, machine, receiver):
    hook(pool, receiver, "V3_0")
    receiver.answer = hooks.responding(
        claimsAndScopeOverrideDetails={
            "idTokenGeneration": {"claimsToAddOrOverride": {"ignored": "no id token"}},
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"tenant": {"id": 7}, "sub": "forged", "zone": "x"},
                "claimsToSuppress": ["auth_time", "zone"],
                "scopesToAdd": ["api/audit"],
                "scopesToSuppress": ["api/write"],
            },
        }
    )
    issued = tokens.client_credentials(
        client=machine, scopes=["api/read", "api/write"], client_metadata={"job": "nightly"}
    )
    access = claims(issued.access_token)
    assert access["tenant"] == {"id": 7}
    assert access["sub"] == machine.client_id  # protected
    assert "auth_time" in access  # protected
    assert "zone" not in access  # suppression wins over the override
    assert access["scope"] == "api/read api/audit"
    assert "ignored" not in access
    [received] = receiver.received
    assert received.signed_correctly()
    event = received.event
    assert event["version"] == "3"
    assert event["triggerSource"] == "TokenGeneration_ClientCredentials"
    assert event["userPoolId"] == pool.id
    assert event["userName"] == machine.client_id
    assert event["callerContext"]["clientId"] == machine.client_id
    assert event["request"] == {
        "userAttributes": {},
        "scopes": ["api/read", "api/write"],
        "clientMetadata": {"job": "nightly"},
    }
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}


@pytest.mark.parametrize("version", ["V1_0", "V2_0"])
def test_v1_and_v2_are_not_called_for_m2m_tokens(pool, machine, receiver, version):
    hook(pool, receiver, version)
    access = claims(tokens.client_credentials(client=machine, scopes=[]).access_token)
    assert access["scope"] == "api/read api/write"
    assert receiver.received == []
    assert not TriggerInvocation.objects.exists()


def test_a_v3_refusal_issues_no_token(pool, machine, receiver):
    hook(pool, receiver, "V3_0")
    receiver.answer = hooks.refusing("not tonight")
    with pytest.raises(UserLambdaValidationException, match="PreTokenGeneration failed"):
        tokens.client_credentials(client=machine, scopes=[])


def test_a_v3_answer_of_the_wrong_shape_is_invalid(pool, machine, receiver):
    hook(pool, receiver, "V3_0")
    receiver.answer = hooks.responding(
        claimsAndScopeOverrideDetails={"accessTokenGeneration": {"scopesToAdd": "api/x"}}
    )
    with pytest.raises(InvalidLambdaResponseException):
        tokens.client_credentials(client=machine, scopes=[])


def test_v3_is_version_3_for_user_tokens_too(pool, app_client, user, receiver):
    from pool.services import authenticate
    from pool.services.results import RequestContext

    hook(pool, receiver, "V3_0")
    result = authenticate.password(
        pool=pool,
        client=app_client,
        username="alice",
        password=factories.PASSWORD,
        context=RequestContext(ip="127.0.0.1", user_agent="pytest", source="api"),
    )
    tokens.for_api_sign_in(result)
    event = receiver.last()
    assert event["version"] == "3"
    assert event["triggerSource"] == "TokenGeneration_Authentication"
    assert "scopes" in event["request"]


def test_lambda_config_takes_and_shows_v3(pool, receiver):
    trigger_config.replace_all(
        pool=pool,
        config={"PreTokenGenerationConfig": {"LambdaVersion": "V3_0", "LambdaArn": receiver.url}},
    )
    assert trigger_config.lambda_config(pool)["PreTokenGenerationConfig"] == {
        "LambdaVersion": "V3_0",
        "LambdaArn": receiver.url,
    }
