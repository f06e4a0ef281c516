"""User pool domains: Cognito's rules for prefixes and custom domains, one of each kind per pool,
each domain on one pool server-wide, and changes only by the owning pool."""

from __future__ import annotations

import pytest

from pool.errors import InvalidParameterException
from pool.models import UserPoolDomain
from pool.selectors import domains as domain_selectors
from pool.services import domains
from tests import factories

pytestmark = pytest.mark.django_db

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"


@pytest.fixture
def pool():
    return factories.make_pool(name="shop")


def test_a_prefix_is_created_with_cognitos_defaults(pool):
    row = domains.create_domain(pool=pool, domain="shop-login-1")
    assert (row.kind, row.certificate_arn, row.managed_login_version) == ("prefix", "", 1)
    assert domain_selectors.of_pool(pool) == {"prefix": row}


def test_a_custom_domain_keeps_its_certificate_arn(pool):
    row = domains.create_domain(pool=pool, domain="auth.example.com", certificate_arn=ARN)
    assert (row.kind, row.certificate_arn) == ("custom", ARN)
    assert domain_selectors.find("auth.example.com") == row


def test_a_pool_has_one_domain_of_each_kind(pool):
    domains.create_domain(pool=pool, domain="shop-login")
    domains.create_domain(pool=pool, domain="auth.example.com", certificate_arn=ARN)
    with pytest.raises(InvalidParameterException, match="already has a domain configured"):
        domains.create_domain(pool=pool, domain="shop-other")
    with pytest.raises(InvalidParameterException, match="already has a domain configured"):
        domains.create_domain(pool=pool, domain="login.example.com", certificate_arn=ARN)
    assert UserPoolDomain.objects.count() == 2


def test_a_domain_belongs_to_one_pool_on_the_server(pool):
    domains.create_domain(pool=pool, domain="shop-login")
    other = factories.make_pool(name="other")
    with pytest.raises(InvalidParameterException, match="another user pool"):
        domains.create_domain(pool=other, domain="shop-login")
    assert not UserPoolDomain.objects.filter(pool=other).exists()


@pytest.mark.parametrize(
    "prefix",
    ["Shop", "shop_login", "-shop", "shop-", "shop.login", "x" * 64, "", "shöp", "shop login"],
)
def test_a_malformed_prefix_is_refused(pool, prefix):
    with pytest.raises(InvalidParameterException) as refused:
        domains.create_domain(pool=pool, domain=prefix)
    assert refused.value.field == "domain"
    assert not UserPoolDomain.objects.exists()


@pytest.mark.parametrize(
    ("prefix", "word"),
    [("aws-login", "aws"), ("myamazonshop", "amazon"), ("login-cognito", "cognito")],
)
def test_a_prefix_with_a_reserved_word_is_refused_in_cognitos_words(pool, prefix, word):
    with pytest.raises(InvalidParameterException) as refused:
        domains.create_domain(pool=pool, domain=prefix)
    assert refused.value.message == f"Domain cannot contain reserved word: {word}"


@pytest.mark.parametrize(
    "domain", ["localhost", "auth..example.com", "-auth.example.com", "Auth.example.com"]
)
def test_a_malformed_custom_domain_is_refused(pool, domain):
    with pytest.raises(InvalidParameterException):
        domains.create_domain(pool=pool, domain=domain, certificate_arn=ARN)
    assert not UserPoolDomain.objects.exists()


def test_the_servers_own_host_is_not_a_custom_domain(pool, settings):
    settings.PUBLIC_URL = "https://id.example.org"
    with pytest.raises(InvalidParameterException, match="own host name"):
        domains.create_domain(pool=pool, domain="id.example.org", certificate_arn=ARN)


@pytest.mark.parametrize("arn", ["", "not-an-arn-but-long-enough", "arn:aws:acm:us-east-1:x:y"])
def test_a_custom_domain_needs_a_certificate_arn(pool, arn):
    with pytest.raises(InvalidParameterException) as refused:
        domains.create_domain(pool=pool, domain="auth.example.com", certificate_arn=arn)
    assert refused.value.field == "certificate_arn"


@pytest.mark.parametrize("version", [0, 3, True, "2"])
def test_managed_login_version_is_1_or_2(pool, version):
    with pytest.raises(InvalidParameterException):
        domains.create_domain(pool=pool, domain="shop", managed_login_version=version)


def test_update_changes_the_certificate_and_the_version(pool):
    domains.create_domain(pool=pool, domain="auth.example.com", certificate_arn=ARN)
    new_arn = ARN.replace("EXAMPLE22222", "EXAMPLE33333")
    row = domains.update_domain(pool_id=pool.id, domain="auth.example.com", certificate_arn=new_arn)
    assert (row.certificate_arn, row.managed_login_version) == (new_arn, 1)
    row = domains.update_domain(pool_id=pool.id, domain="auth.example.com", managed_login_version=2)
    assert (row.certificate_arn, row.managed_login_version) == (new_arn, 2)


def test_a_prefix_takes_no_certificate(pool):
    domains.create_domain(pool=pool, domain="shop")
    with pytest.raises(InvalidParameterException):
        domains.update_domain(pool_id=pool.id, domain="shop", certificate_arn=ARN)
    assert UserPoolDomain.objects.get().certificate_arn == ""


def test_only_the_owning_pool_changes_or_deletes_a_domain(pool):
    domains.create_domain(pool=pool, domain="shop")
    other = factories.make_pool(name="other")
    for call in (domains.update_domain, domains.delete_domain):
        with pytest.raises(InvalidParameterException) as refused:
            call(pool_id=other.id, domain="shop")
        assert refused.value.message == "No such domain or user pool exists."
    assert UserPoolDomain.objects.get().pool == pool


@pytest.mark.parametrize("domain", ["sh\x00op", "shop\x00"])
def test_a_nul_byte_names_no_domain(pool, domain):
    """PostgreSQL cannot compare text holding NUL: the answer is the unknown domain's, not a 500."""
    domains.create_domain(pool=pool, domain="shop")
    with pytest.raises(InvalidParameterException, match="No such domain"):
        domains.delete_domain(pool_id=pool.id, domain=domain)
    with pytest.raises(InvalidParameterException, match="No such domain"):
        domains.update_domain(pool_id=pool.id + "\x00", domain="shop", managed_login_version=2)
    assert domain_selectors.find(domain) is None
    assert UserPoolDomain.objects.get().managed_login_version == 1


def test_a_deleted_domain_is_free_again(pool):
    domains.create_domain(pool=pool, domain="shop")
    domains.delete_domain(pool_id=pool.id, domain="shop")
    other = factories.make_pool(name="other")
    assert domains.create_domain(pool=other, domain="shop").pool == other


def test_deleting_a_pool_deletes_its_domains(pool):
    domains.create_domain(pool=pool, domain="shop")
    pool.delete()
    assert domain_selectors.find("shop") is None


@pytest.mark.parametrize("name", ["127.0.0.1", "10.0.0.8", "shop.auth.localhost", "auth.localhost"])
def test_a_custom_domain_is_neither_an_ip_address_nor_under_the_prefix_suffix(pool, name, settings):
    settings.PUBLIC_URL = "http://localhost:8000"
    with pytest.raises(InvalidParameterException):
        domains.create_domain(pool=pool, domain=name, certificate_arn=ARN)
    assert not UserPoolDomain.objects.exists()


def test_a_custom_domain_is_not_one_of_the_servers_own_names(pool, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "cognate.example.net"]
    with pytest.raises(InvalidParameterException, match="ALLOWED_HOSTS"):
        domains.create_domain(pool=pool, domain="cognate.example.net", certificate_arn=ARN)
    assert not UserPoolDomain.objects.exists()
