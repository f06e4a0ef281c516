"""boto3 against a live Cognate: the user pool domain actions, positive and negative."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from pool.models import UserPoolDomain
from tests import factories
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"


@pytest.fixture
def pool(db):
    return factories.make_pool(name="shop")


def test_prefix_domain_lifecycle(cognito, recorder, pool, server):
    created = cognito.create_user_pool_domain(UserPoolId=pool.id, Domain="shop-login")
    assert "CloudFrontDomain" not in created
    assert created["ManagedLoginVersion"] == 1
    described = cognito.describe_user_pool_domain(Domain="shop-login")["DomainDescription"]
    assert described["UserPoolId"] == pool.id
    assert described["Domain"] == "shop-login"
    assert described["Status"] == "ACTIVE"
    assert described["CloudFrontDistribution"] == urlparse(server).hostname
    assert "CustomDomainConfig" not in described
    assert len(described["Version"]) == 14 and described["Version"].isdigit()
    pool_answer = cognito.describe_user_pool(UserPoolId=pool.id)["UserPool"]
    assert pool_answer["Domain"] == "shop-login" and "CustomDomain" not in pool_answer
    updated = cognito.update_user_pool_domain(
        UserPoolId=pool.id, Domain="shop-login", ManagedLoginVersion=2
    )
    assert updated["ManagedLoginVersion"] == 2
    cognito.delete_user_pool_domain(UserPoolId=pool.id, Domain="shop-login")
    assert not UserPoolDomain.objects.exists()
    assert cognito.describe_user_pool_domain(Domain="shop-login")["DomainDescription"] == {}
    assert_fits(recorder)


def test_custom_domain_lifecycle(cognito, recorder, pool, server):
    created = cognito.create_user_pool_domain(
        UserPoolId=pool.id, Domain="auth.example.com", CustomDomainConfig={"CertificateArn": ARN}
    )
    assert created["CloudFrontDomain"] == urlparse(server).hostname
    described = cognito.describe_user_pool_domain(Domain="auth.example.com")["DomainDescription"]
    assert described["CustomDomainConfig"] == {"CertificateArn": ARN}
    new_arn = ARN.replace("EXAMPLE22222", "EXAMPLE33333")
    cognito.update_user_pool_domain(
        UserPoolId=pool.id,
        Domain="auth.example.com",
        CustomDomainConfig={"CertificateArn": new_arn},
    )
    described = cognito.describe_user_pool_domain(Domain="auth.example.com")["DomainDescription"]
    assert described["CustomDomainConfig"] == {"CertificateArn": new_arn}
    assert cognito.describe_user_pool(UserPoolId=pool.id)["UserPool"]["CustomDomain"] == (
        "auth.example.com"
    )
    assert_fits(recorder)


def test_a_reserved_word_is_refused_as_cognito_refuses_it(cognito, pool):
    with pytest.raises(
        cognito.exceptions.InvalidParameterException,
        match="Domain cannot contain reserved word: cognito",
    ):
        cognito.create_user_pool_domain(UserPoolId=pool.id, Domain="my-cognito-login")
    assert not UserPoolDomain.objects.exists()


def test_a_malformed_domain_is_refused(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="Domain"):
        cognito.create_user_pool_domain(UserPoolId=pool.id, Domain="Shop_Login")
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.create_user_pool_domain(UserPoolId=pool.id, Domain="x" * 64)
    assert not UserPoolDomain.objects.exists()


def test_a_taken_domain_and_a_second_prefix_are_refused(cognito, pool):
    cognito.create_user_pool_domain(UserPoolId=pool.id, Domain="shop-login")
    with pytest.raises(
        cognito.exceptions.InvalidParameterException, match="already has a domain configured"
    ):
        cognito.create_user_pool_domain(UserPoolId=pool.id, Domain="shop-other")
    other = factories.make_pool(name="other")
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="another user pool"):
        cognito.create_user_pool_domain(UserPoolId=other.id, Domain="shop-login")
    assert list(UserPoolDomain.objects.values_list("domain", flat=True)) == ["shop-login"]


def test_a_custom_domain_needs_a_well_formed_certificate(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.create_user_pool_domain(
            UserPoolId=pool.id,
            Domain="auth.example.com",
            CustomDomainConfig={"CertificateArn": "arn:aws:acm:us-east-1:nope:certificate"},
        )
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="SecurityPolicy"):
        cognito.create_user_pool_domain(
            UserPoolId=pool.id,
            Domain="auth.example.com",
            CustomDomainConfig={"CertificateArn": ARN, "SecurityPolicy": "TLS_V1_2_2021"},
        )
    assert not UserPoolDomain.objects.exists()


def test_an_unknown_pool_or_domain_is_refused(cognito, pool):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.create_user_pool_domain(UserPoolId="eu-west-1_Nope12345", Domain="shop")
    with pytest.raises(
        cognito.exceptions.InvalidParameterException, match="No such domain or user pool exists"
    ):
        cognito.delete_user_pool_domain(UserPoolId=pool.id, Domain="shop")
    cognito.create_user_pool_domain(UserPoolId=pool.id, Domain="shop")
    other = factories.make_pool(name="other")
    with pytest.raises(
        cognito.exceptions.InvalidParameterException, match="No such domain or user pool exists"
    ):
        cognito.update_user_pool_domain(UserPoolId=other.id, Domain="shop", ManagedLoginVersion=2)
    assert UserPoolDomain.objects.get().managed_login_version == 1


def test_domain_actions_need_a_signature(server, pool):
    from tests.api.conftest import make_boto3_client

    unsigned = make_boto3_client(server, key_id="AKIAUNKNOWNKEY000000", secret="x" * 40)
    with pytest.raises(unsigned.exceptions.ClientError, match="UnrecognizedClient"):
        unsigned.create_user_pool_domain(UserPoolId=pool.id, Domain="shop")
    assert not UserPoolDomain.objects.exists()
