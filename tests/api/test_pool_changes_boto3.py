"""boto3 against a live Cognate: UpdateUserPool adding an alias and turning case sensitivity off
on a pool with users in every status, then USER_PASSWORD_AUTH by the new names.

botocore checks requests against Cognito's model, where UpdateUserPool has no AliasAttributes;
`cognate_members` is the two-hook way a boto3 user sends them (README, "Changing a pool")."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from pool.models import UserPool
from tests import factories
from tests.factories import PASSWORD

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

MEMBERS = (
    "AliasAttributes",
    "UsernameAttributes",
    "UsernameConfiguration",
    "Schema",
    "CognateSchemaChanges",
    "CognateDryRun",
)


def cognate_members(client) -> None:
    """Take Cognate's extra UpdateUserPool members out before botocore validates the call, and
    put them into the JSON body before it is signed."""

    def take(params, context, **_):
        context["cognate"] = {name: params.pop(name) for name in MEMBERS if name in params}

    def put(params, context, **_):
        extra = context.get("cognate")
        if extra:
            body = json.loads(params["body"] or b"{}")
            params["body"] = json.dumps({**body, **extra}).encode()

    client.meta.events.register("before-parameter-build.cognito-idp.UpdateUserPool", take)
    client.meta.events.register("before-call.cognito-idp.UpdateUserPool", put)


@pytest.fixture
def pool():
    pool = factories.make_pool(case_sensitive=True)
    factories.make_users_in_every_status(pool)
    return pool


def password_auth(app_caller, client, name):
    return app_caller.initiate_auth(
        ClientId=client.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
    )


def test_boto3_adds_an_alias_and_signs_in_by_it(cognito, app_caller, pool, recorder):
    client = factories.make_client(pool)
    cognate_members(cognito)
    with pytest.raises(ClientError) as before:
        password_auth(app_caller, client, "ALICE@example.com")
    assert before.value.response["Error"]["Code"] == "NotAuthorizedException"

    dry = cognito.update_user_pool(
        UserPoolId=pool.id,
        AliasAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        CognateDryRun=True,
    )
    assert dry["ResponseMetadata"]["HTTPStatusCode"] == 200
    # boto3 parses only Cognito's members; the report is in the raw answer.
    report = recorder.last["CognatePoolChange"]
    assert (report["Applied"], report["Users"], report["Problems"]) == (False, 6, [])
    assert UserPool.objects.get(pk=pool.id).alias_attributes == []

    cognito.update_user_pool(
        UserPoolId=pool.id,
        AliasAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
    )

    described = cognito.describe_user_pool(UserPoolId=pool.id)["UserPool"]
    assert described["AliasAttributes"] == ["email"]
    assert described["UsernameConfiguration"] == {"CaseSensitive": False}
    tokens = password_auth(app_caller, client, "ALICE@example.com")["AuthenticationResult"]
    assert tokens["AccessToken"]
    assert password_auth(app_caller, client, "CAROL@example.com")["ChallengeName"] == (
        "NEW_PASSWORD_REQUIRED"
    )
    with pytest.raises(ClientError) as unverified:
        password_auth(app_caller, client, "bob@example.com")
    assert unverified.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_boto3_sees_a_blocked_change_as_alias_exists(cognito, pool):
    factories.make_user(pool, "zed", email="alice@example.com", email_verified=True)
    cognate_members(cognito)

    with pytest.raises(cognito.exceptions.AliasExistsException):
        cognito.update_user_pool(UserPoolId=pool.id, AliasAttributes=["email"])

    assert UserPool.objects.get(pk=pool.id).alias_attributes == []
