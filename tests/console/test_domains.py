"""A pool's domains in the console: shown on the pool page, added (prefix or custom) and removed
through pool/services/domains.py, audited, refused to read-only operators."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditEntry
from pool.models import UserPoolDomain
from pool.services import domains
from tests import factories
from tests.console.helpers import last_audit

pytestmark = pytest.mark.django_db

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"


@pytest.fixture
def pool():
    return factories.make_pool(name="shop")


def add(console, pool, **data):
    return console.post(reverse("console:pool_add_domain", args=[pool.id]), data)


def test_the_pool_page_shows_its_domains(console, pool):
    domains.create_domain(pool=pool, domain="shop-login")
    domains.create_domain(pool=pool, domain="auth.example.com", certificate_arn=ARN)
    page = console.get(reverse("console:pool", args=[pool.id])).content.decode()
    assert "shop-login" in page and "auth.example.com" in page and ARN in page


def test_the_pool_page_shows_where_each_domain_serves_the_hosted_pages(console, pool, settings):
    settings.PUBLIC_URL = "https://cognate.example.net"
    domains.create_domain(pool=pool, domain="shop-login")
    domains.create_domain(pool=pool, domain="auth.example.com", certificate_arn=ARN)
    page = console.get(reverse("console:pool", args=[pool.id])).content.decode()
    assert "https://auth.example.com/login" in page
    assert "https://shop-login.auth.cognate.example.net/login" in page
    assert f"https://cognate.example.net/{pool.id}" in page  # the issuer, unchanged


def test_adding_a_prefix_is_audited(console, pool):
    response = add(console, pool, domain="shop-login", certificate_arn="")
    assert response.status_code == 302
    row = UserPoolDomain.objects.get()
    assert (row.pool, row.kind) == (pool, "prefix")
    entry = last_audit("pool.add_domain")
    assert entry.target_pool == pool.id
    assert entry.detail == {"domain": "shop-login", "certificate_arn": None}


def test_a_certificate_arn_makes_a_custom_domain(console, pool):
    add(console, pool, domain="auth.example.com", certificate_arn=ARN)
    row = UserPoolDomain.objects.get()
    assert (row.kind, row.certificate_arn) == ("custom", ARN)


def test_a_refused_domain_shows_the_services_message_and_changes_nothing(console, pool):
    response = add(console, pool, domain="aws-shop", certificate_arn="")
    assert response.status_code == 400
    assert "Domain cannot contain reserved word: aws" in response.content.decode()
    assert not UserPoolDomain.objects.exists()
    assert not AuditEntry.objects.filter(action="pool.add_domain").exists()


def test_removing_a_domain_is_audited(console, pool):
    domains.create_domain(pool=pool, domain="shop-login")
    url = reverse("console:pool_delete_domain", args=[pool.id, "shop-login"])
    assert console.post(url).status_code == 302
    assert not UserPoolDomain.objects.exists()
    assert last_audit("pool.delete_domain").detail == {"domain": "shop-login"}


def test_removing_another_pools_domain_is_refused(console, pool):
    other = factories.make_pool(name="other")
    domains.create_domain(pool=other, domain="other-login")
    url = reverse("console:pool_delete_domain", args=[pool.id, "other-login"])
    response = console.post(url, follow=True)
    assert "No such domain or user pool exists." in response.content.decode()
    assert UserPoolDomain.objects.get().pool == other


def test_read_only_operators_cannot_add_or_remove(readonly_console, pool):
    domains.create_domain(pool=pool, domain="shop-login")
    assert add(readonly_console, pool, domain="shop-two").status_code == 403
    url = reverse("console:pool_delete_domain", args=[pool.id, "shop-login"])
    assert readonly_console.post(url).status_code == 403
    assert list(UserPoolDomain.objects.values_list("domain", flat=True)) == ["shop-login"]


def test_adding_a_domain_needs_the_csrf_token(csrf_console, pool):
    assert add(csrf_console, pool, domain="shop-login").status_code == 403
    assert not UserPoolDomain.objects.exists()
