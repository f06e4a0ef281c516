"""boto3's cognito-idp client against a live Cognate: SetUserPoolMfaConfig,
GetUserPoolMfaConfig and AddCustomAttributes, positive and negative, every answer checked
against its output shape."""

from __future__ import annotations

import pytest

from pool.models import CustomAttribute, UserPool
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

SMS_MESSAGE = "Your code is {####}."


def fresh(pool) -> UserPool:
    return UserPool.objects.get(pk=pool.pk)


def test_get_mfa_config(cognito, recorder, pool):
    answer = cognito.get_user_pool_mfa_config(UserPoolId=pool.id)
    assert answer["MfaConfiguration"] == pool.mfa_configuration
    assert answer["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert "SmsMfaConfiguration" not in answer and "EmailMfaConfiguration" not in answer
    assert_fits(recorder)


def test_set_mfa_config(cognito, recorder, pool):
    answer = cognito.set_user_pool_mfa_config(
        UserPoolId=pool.id,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MESSAGE},
        EmailMfaConfiguration={},
    )
    assert answer["MfaConfiguration"] == "ON"
    assert answer["SmsMfaConfiguration"] == {"SmsAuthenticationMessage": SMS_MESSAGE}
    assert answer["EmailMfaConfiguration"] == {}
    stored = fresh(pool)
    assert stored.mfa_configuration == "ON" and stored.mfa_message == SMS_MESSAGE
    assert sorted(stored.mfa_methods) == ["EMAIL_OTP", "SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    again = cognito.get_user_pool_mfa_config(UserPoolId=pool.id)
    assert again["SmsMfaConfiguration"] == answer["SmsMfaConfiguration"]
    assert_fits(recorder)


def test_a_method_left_out_is_turned_off(cognito, recorder, pool):
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool.id, SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MESSAGE}
    )
    assert fresh(pool).mfa_methods == ["SMS_MFA"]
    cognito.set_user_pool_mfa_config(UserPoolId=pool.id, MfaConfiguration="OFF")
    stored = fresh(pool)
    assert stored.mfa_configuration == "OFF" and stored.mfa_methods == []
    assert_fits(recorder)


def test_mfa_on_without_a_method_is_refused(cognito, pool):
    before = (pool.mfa_configuration, pool.mfa_methods)
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="at least one method"):
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool.id,
            MfaConfiguration="ON",
            SoftwareTokenMfaConfiguration={"Enabled": False},
        )
    stored = fresh(pool)
    assert (stored.mfa_configuration, stored.mfa_methods) == before


def test_an_sms_message_without_the_code_is_refused(cognito, pool):
    with pytest.raises(
        cognito.exceptions.InvalidParameterException, match="smsAuthenticationMessage"
    ):
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool.id,
            MfaConfiguration="OPTIONAL",
            SmsMfaConfiguration={"SmsAuthenticationMessage": "No code here"},
        )
    assert fresh(pool).mfa_methods == pool.mfa_methods


@pytest.mark.parametrize(
    "fields",
    [
        {"EmailMfaConfiguration": {"Message": "Code {####}", "Subject": "Your code"}},
        {
            "SmsMfaConfiguration": {
                "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns"}
            }
        },
        {"WebAuthnConfiguration": {"RelyingPartyId": "example.com"}},
    ],
)
def test_settings_cognate_does_not_have_are_refused(cognito, pool, fields):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="not supported"):
        cognito.set_user_pool_mfa_config(UserPoolId=pool.id, MfaConfiguration="OPTIONAL", **fields)


@pytest.mark.parametrize("operation", ["get_user_pool_mfa_config", "set_user_pool_mfa_config"])
def test_mfa_config_of_an_unknown_pool(cognito, db, operation):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        getattr(cognito, operation)(UserPoolId="eu-west-1_nothere1")


# --- AddCustomAttributes ----------------------------------------------------------------------


def test_add_custom_attributes(cognito, recorder, pool):
    cognito.add_custom_attributes(
        UserPoolId=pool.id,
        CustomAttributes=[
            {
                "Name": "tier",
                "AttributeDataType": "String",
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "16"},
            },
            {
                "Name": "custom:age",
                "AttributeDataType": "Number",
                "Mutable": False,
                "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "150"},
            },
        ],
    )
    tier = CustomAttribute.objects.get(pool=pool, name="tier")
    age = CustomAttribute.objects.get(pool=pool, name="age")
    assert (tier.min_length, tier.max_length, tier.mutable) == (1, 16, True)
    assert (age.data_type, age.max_value, age.mutable) == ("Number", 150, False)
    schema = cognito.describe_user_pool(UserPoolId=pool.id)["UserPool"]["SchemaAttributes"]
    assert {"custom:tier", "custom:age"} <= {a["Name"] for a in schema}
    assert_fits(recorder)


def test_add_an_existing_custom_attribute_adds_nothing(cognito, pool):
    CustomAttribute.objects.create(pool=pool, name="tier")
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="already exists"):
        cognito.add_custom_attributes(
            UserPoolId=pool.id, CustomAttributes=[{"Name": "plan"}, {"Name": "tier"}]
        )
    assert list(CustomAttribute.objects.filter(pool=pool).values_list("name", flat=True)) == [
        "tier"
    ]


@pytest.mark.parametrize(
    "attribute",
    [
        {"Name": "team", "Required": True},
        {"Name": "has space"},
        {
            "Name": "team",
            "AttributeDataType": "Number",
            "StringAttributeConstraints": {"MaxLength": "5"},
        },
        {
            "Name": "team",
            "StringAttributeConstraints": {"MinLength": "9", "MaxLength": "1"},
        },
    ],
)
def test_add_a_bad_custom_attribute(cognito, pool, attribute):
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.add_custom_attributes(UserPoolId=pool.id, CustomAttributes=[attribute])
    assert not CustomAttribute.objects.filter(pool=pool).exists()


def test_add_custom_attributes_to_an_unknown_pool(cognito, db):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.add_custom_attributes(
            UserPoolId="eu-west-1_nothere1", CustomAttributes=[{"Name": "tier"}]
        )
