"""boto3's cognito-idp client against a live Cognate: the admin pool actions, positive and
negative, with botocore's exception classes and every answer checked against its output shape."""

from __future__ import annotations

import datetime as dt

import pytest

from pool.models import CustomAttribute, UserPool
from tests import factories
from tests.api.conftest import REGION, make_boto3_client
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]


def test_create_user_pool_with_cognitos_defaults(cognito, recorder):
    pool = cognito.create_user_pool(PoolName="shop users")["UserPool"]
    assert pool["Id"].startswith(f"{REGION}_")
    assert pool["Arn"].endswith(f":userpool/{pool['Id']}")
    assert pool["MfaConfiguration"] == "OFF"
    assert pool["UsernameConfiguration"] == {"CaseSensitive": True}
    assert "AutoVerifiedAttributes" not in pool
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    required = [a["Name"] for a in pool["SchemaAttributes"] if a["Required"]]
    assert required == ["sub"]
    assert isinstance(pool["CreationDate"], dt.datetime)
    stored = UserPool.objects.get(pk=pool["Id"])
    assert (stored.region, stored.case_sensitive, stored.required_attributes) == (REGION, True, [])
    assert_fits(recorder)


def test_create_user_pool_with_settings_and_schema(cognito, recorder):
    pool = cognito.create_user_pool(
        PoolName="full",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireSymbols": False,
                "TemporaryPasswordValidityDays": 3,
            }
        },
        AutoVerifiedAttributes=["email"],
        UsernameAttributes=["email"],
        MfaConfiguration="OPTIONAL",
        UsernameConfiguration={"CaseSensitive": False},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        AccountRecoverySetting={
            "RecoveryMechanisms": [
                {"Priority": 2, "Name": "verified_phone_number"},
                {"Priority": 1, "Name": "verified_email"},
            ]
        },
        Schema=[
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
            {
                "Name": "tier",
                "AttributeDataType": "String",
                "Mutable": True,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "16"},
            },
            {
                "Name": "age",
                "AttributeDataType": "Number",
                "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "150"},
            },
        ],
        DeletionProtection="ACTIVE",
    )["UserPool"]
    stored = UserPool.objects.get(pk=pool["Id"])
    assert stored.password_min_length == 12 and not stored.password_require_symbols
    assert stored.temporary_password_validity_days == 3
    assert stored.username_attributes == ["email"] and stored.required_attributes == ["email"]
    assert stored.mfa_configuration == "OPTIONAL" and not stored.case_sensitive
    assert not stored.allow_self_sign_up and stored.deletion_protection
    assert stored.account_recovery == ["verified_email", "verified_phone_number"]
    tier = CustomAttribute.objects.get(pool=stored, name="tier")
    assert (tier.min_length, tier.max_length) == (1, 16)
    names = [a["Name"] for a in pool["SchemaAttributes"]]
    assert "custom:tier" in names and "custom:age" in names
    assert_fits(recorder)


def test_create_user_pool_refuses_what_the_service_refuses(cognito):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="exclusive"):
        cognito.create_user_pool(
            PoolName="both", UsernameAttributes=["email"], AliasAttributes=["phone_number"]
        )
    assert not UserPool.objects.exists()


def test_create_user_pool_refuses_a_setting_cognate_does_not_have(cognito):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="LambdaConfig"):
        cognito.create_user_pool(
            PoolName="lambda",
            LambdaConfig={"PreSignUp": "arn:aws:lambda:eu-west-1:123456789012:function:f"},
        )
    assert not UserPool.objects.exists()


def test_create_user_pool_refuses_a_custom_attribute_that_is_required(cognito):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="required"):
        cognito.create_user_pool(
            PoolName="req", Schema=[{"Name": "x", "AttributeDataType": "String", "Required": True}]
        )
    assert not UserPool.objects.exists()


def test_model_violations_are_refused_by_the_server_too(server, access_key):
    """botocore checks parameters before sending; with that off, the server says the same."""
    client = make_boto3_client(
        server,
        key_id=access_key.access_key_id,
        secret=access_key.secret_access_key,
        parameter_validation=False,
    )
    with pytest.raises(client.exceptions.InvalidParameterException, match="maxResults"):
        client.list_user_pools(MaxResults=61)


def test_describe_user_pool(cognito, recorder):
    pool = factories.make_pool(name="described")
    described = cognito.describe_user_pool(UserPoolId=pool.id)["UserPool"]
    assert (described["Id"], described["Name"]) == (pool.id, "described")
    assert described["EstimatedNumberOfUsers"] == 0
    assert_fits(recorder)


def test_describe_an_unknown_pool_is_resource_not_found(cognito):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException, match="does not exist"):
        cognito.describe_user_pool(UserPoolId="eu-west-1_Nope12345")


def test_list_user_pools_pages_with_next_token(cognito, recorder):
    created = {factories.make_pool(name=f"p{i}").id for i in range(5)}
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"MaxResults": 2} | ({"NextToken": token} if token else {})
        answer = cognito.list_user_pools(**kwargs)
        seen += [p["Id"] for p in answer["UserPools"]]
        pages += 1
        token = answer.get("NextToken")
        if not token:
            break
    assert set(seen) == created and len(seen) == 5 and pages == 3
    assert_fits(recorder)


def test_list_user_pools_with_botocores_paginator(cognito):
    for i in range(3):
        factories.make_pool(name=f"q{i}")
    paginator = cognito.get_paginator("list_user_pools")
    pools = [p for page in paginator.paginate(MaxResults=1) for p in page["UserPools"]]
    assert len(pools) == 3


def test_a_forged_next_token_is_invalid_parameter(cognito):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="pagination"):
        cognito.list_user_pools(MaxResults=5, NextToken="local_AAAAAAAAA")


def test_update_user_pool_sets_what_it_names_and_resets_the_rest(cognito, recorder):
    pool = factories.make_pool(name="before", mfa_configuration="OPTIONAL")
    cognito.update_user_pool(
        UserPoolId=pool.id,
        PoolName="after",
        Policies={"PasswordPolicy": {"MinimumLength": 10}},
        AutoVerifiedAttributes=["email"],
        EmailConfiguration={"From": "auth@example.com"},
    )
    pool.refresh_from_db()
    assert (pool.name, pool.password_min_length, pool.email_from) == (
        "after",
        10,
        "auth@example.com",
    )
    assert pool.mfa_configuration == "OFF"  # left out: Cognito's default again
    assert_fits(recorder)


def test_update_user_pool_refuses_a_bad_value_and_changes_nothing(cognito):
    pool = factories.make_pool(name="kept")
    with pytest.raises(
        cognito.exceptions.InvalidParameterException, match="smsVerificationMessage"
    ):
        cognito.update_user_pool(UserPoolId=pool.id, SmsVerificationMessage="no code here")
    pool.refresh_from_db()
    assert pool.name == "kept" and pool.mfa_configuration == "OPTIONAL"


def test_update_an_unknown_pool_is_resource_not_found(cognito):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.update_user_pool(UserPoolId="eu-west-1_Nope12345")


def test_delete_user_pool(cognito, recorder):
    pool = factories.make_pool()
    cognito.delete_user_pool(UserPoolId=pool.id)
    assert not UserPool.objects.filter(pk=pool.id).exists()
    assert_fits(recorder)


def test_delete_a_protected_pool_is_refused(cognito):
    pool = factories.make_pool(deletion_protection=True)
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="deletion protection"):
        cognito.delete_user_pool(UserPoolId=pool.id)
    assert UserPool.objects.filter(pk=pool.id).exists()


def test_delete_an_unknown_pool_is_resource_not_found(cognito):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.delete_user_pool(UserPoolId="eu-west-1_Nope12345")


def test_a_wrong_secret_raises_botocores_client_error(server, access_key):
    from botocore.exceptions import ClientError

    client = make_boto3_client(server, key_id=access_key.access_key_id, secret="x" * 40)
    with pytest.raises(ClientError) as raised:
        client.list_user_pools(MaxResults=1)
    assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_an_unknown_key_raises_unrecognized_client(server, db):
    from botocore.exceptions import ClientError

    client = make_boto3_client(server, key_id="AKIANOTAKEY000000000", secret="x" * 40)
    with pytest.raises(ClientError) as raised:
        client.list_user_pools(MaxResults=1)
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_get_signing_certificate_is_the_pools_signing_key(cognito, recorder):
    """A self-signed certificate over the key that signs the pool's tokens: the same key as the
    JWKS publishes, the same certificate on every call until the key rotates."""
    import base64

    from cryptography import x509

    from pool.services import keys

    pool = factories.make_pool()
    answer = cognito.get_signing_certificate(UserPoolId=pool.pk)["Certificate"]
    certificate = x509.load_der_x509_certificate(base64.b64decode(answer))
    jwk = keys.jwks(pool)["keys"][0]
    numbers = certificate.public_key().public_numbers()
    n = int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=="), "big")
    assert numbers.n == n and numbers.e == 65537
    assert certificate.subject.rfc4514_string() == f"CN={pool.pk}"
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime.days == 3652
    assert cognito.get_signing_certificate(UserPoolId=pool.pk)["Certificate"] == answer
    keys.rotate(pool=pool)
    assert cognito.get_signing_certificate(UserPoolId=pool.pk)["Certificate"] != answer
    assert_fits(recorder)


def test_get_signing_certificate_of_an_unknown_pool(cognito):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.get_signing_certificate(UserPoolId="us-east-1_Nothere12")
