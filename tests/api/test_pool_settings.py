"""How Cognito's CreateUserPool / UpdateUserPool members reach the pool's settings, through the
door with Django's test client: what Cognate cannot do is refused, never dropped, and nothing is
written when a request is refused."""

from __future__ import annotations

import json

import pytest

from pool.models import UserPool
from tests import factories

pytestmark = pytest.mark.django_db


def refused(response) -> tuple[str, str]:
    body = json.loads(response.content)
    assert response.status_code == 400, body
    return body["__type"], body["message"]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"Policies": {"PasswordPolicy": {"PasswordHistorySize": 5}}}, "PasswordHistorySize"),
        (
            {"VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_WITH_LINK"}},
            "CONFIRM_WITH_LINK",
        ),
        ({"UserPoolTags": {"team": "auth"}}, "UserPoolTags"),
        ({"UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}, "UserPoolAddOns"),
        ({"EmailConfiguration": {"ReplyToEmailAddress": "a@example.com"}}, "ReplyTo"),
        (
            {"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}}},
            "AllowedFirstAuthFactors",
        ),
        (
            {"Schema": [{"Name": "email", "AttributeDataType": "String", "Mutable": False}]},
            "Mutable",
        ),
        ({"Schema": [{"Name": "email", "AttributeDataType": "Number"}]}, "String"),
        ({"Schema": [{"AttributeDataType": "String"}]}, "Name"),
    ],
)
def test_create_user_pool_refuses_what_cognate_cannot_do(api, access_key, extra, named):
    code, message = refused(api.post("CreateUserPool", {"PoolName": "p", **extra}))
    assert code == "InvalidParameterException"
    assert named in message
    assert not UserPool.objects.exists()


def test_empty_unsupported_members_are_accepted(api, access_key):
    """describe -> update round trips send LambdaConfig {} and the like."""
    body = {
        "PoolName": "p",
        "LambdaConfig": {},
        "UserPoolAddOns": {"AdvancedSecurityMode": "OFF"},
        "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": False},
        "UserPoolTags": {},
    }
    assert api.post("CreateUserPool", body).status_code == 200


def test_a_described_pool_can_be_sent_back_to_update(api, access_key):
    pool = factories.make_pool(
        name="round trip",
        mfa_configuration="ON",
        track_devices=True,
        device_only_remembered_on_user_prompt=True,
    )
    described = json.loads(api.post("DescribeUserPool", {"UserPoolId": pool.id}).content)
    update_members = {
        "Policies",
        "DeletionProtection",
        "LambdaConfig",
        "AutoVerifiedAttributes",
        "SmsVerificationMessage",
        "EmailVerificationMessage",
        "EmailVerificationSubject",
        "VerificationMessageTemplate",
        "SmsAuthenticationMessage",
        "MfaConfiguration",
        "EmailConfiguration",
        "AdminCreateUserConfig",
        "AccountRecoverySetting",
        "DeviceConfiguration",
    }
    body = {k: v for k, v in described["UserPool"].items() if k in update_members}
    response = api.post("UpdateUserPool", {"UserPoolId": pool.id, **body})
    assert response.status_code == 200, response.content
    after = json.loads(api.post("DescribeUserPool", {"UserPoolId": pool.id}).content)
    for member in update_members & set(described["UserPool"]):
        assert after["UserPool"][member] == described["UserPool"][member], member


def test_update_refuses_admin_only_recovery_with_another_and_changes_nothing(api, access_key):
    pool = factories.make_pool()
    body = {
        "UserPoolId": pool.id,
        "AccountRecoverySetting": {
            "RecoveryMechanisms": [
                {"Priority": 1, "Name": "admin_only"},
                {"Priority": 2, "Name": "verified_email"},
            ]
        },
    }
    code, message = refused(api.post("UpdateUserPool", body))
    assert code == "InvalidParameterException"
    assert "admin_only" in message
    pool.refresh_from_db()
    assert pool.account_recovery == ["verified_email", "verified_phone_number"]


def test_the_invitation_template_and_admin_only_sign_up_are_set(api, access_key):
    body = {
        "PoolName": "invites",
        "AdminCreateUserConfig": {
            "AllowAdminCreateUserOnly": True,
            "InviteMessageTemplate": {
                "EmailSubject": "Welcome",
                "EmailMessage": "Hi {username}, your code is {####}.",
            },
        },
    }
    pool_id = json.loads(api.post("CreateUserPool", body).content)["UserPool"]["Id"]
    pool = UserPool.objects.get(pk=pool_id)
    assert not pool.allow_self_sign_up
    assert pool.invitation_email_subject == "Welcome"
    assert pool.invitation_email_message == "Hi {username}, your code is {####}."


def test_a_service_message_names_every_field_as_the_api_does(api, access_key):
    body = {"PoolName": "p", "UsernameAttributes": ["email"], "AliasAttributes": ["email"]}
    code, message = refused(api.post("CreateUserPool", body))
    assert code == "InvalidParameterException"
    assert message == "UsernameAttributes and AliasAttributes are exclusive: choose one."


def test_a_pool_created_through_the_api_keeps_its_scopes_region(settings, api, access_key):
    settings.DEFAULT_REGION = "eu-central-1"
    response = api.post("CreateUserPool", {"PoolName": "Shop"}, region="sa-east-1")
    assert response.status_code == 200, response.content
    pool_id = json.loads(response.content)["UserPool"]["Id"]
    assert pool_id.startswith("sa-east-1_")
    assert UserPool.objects.get(pk=pool_id).region == "sa-east-1"
