"""A client that does not list COGNITO in SupportedIdentityProviders: its hosted pages of the
pool's own accounts (sign-in, sign-up, confirmation, password reset) show only the provider
buttons and refuse every POST with nothing changed, as Cognito's managed login."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core import mail

from pool.models import AuthEvent, User, UserStatus
from pool.services import identity_providers as idp_service
from pool.services import passwords
from tests import factories
from tests.hostedui.conftest import authorize_url

pytestmark = pytest.mark.django_db

PAGES = ("login", "signup", "confirm", "forgotPassword", "confirmForgotPassword")


@pytest.fixture
def provider(pool):
    return idp_service.create_identity_provider(
        pool=pool,
        provider_name="Corp",
        provider_type="OIDC",
        details={
            "client_id": "upstream-client",
            "client_secret": "upstream-secret",
            "attributes_request_method": "GET",
            "oidc_issuer": "https://idp.example.com",
            "authorize_scopes": "openid email",
        },
    )


@pytest.fixture
def corp_only(pool, provider):
    pool.allow_self_sign_up = True
    pool.save()
    return factories.make_client(pool, supported_identity_providers=["Corp"])


def page(pool, app, name: str) -> str:
    return f"/{pool.id}/{name}?{urlsplit(authorize_url(pool, app)).query}"


@pytest.mark.parametrize("name", PAGES)
def test_page_shows_only_the_provider_buttons(client, pool, corp_only, name):
    response = client.get(page(pool, corp_only, name))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sign in with Corp" in html and "identity_provider=Corp" in html
    assert 'name="password"' not in html and 'name="username"' not in html


@pytest.mark.parametrize("name", PAGES)
def test_same_page_shows_the_form_when_the_client_lists_cognito(client, pool, provider, name):
    both = factories.make_client(pool, supported_identity_providers=["COGNITO", "Corp"])
    pool.allow_self_sign_up = True
    pool.save()
    html = client.get(page(pool, both, name)).content.decode()
    assert 'name="username"' in html


def test_client_with_neither_cognito_nor_a_provider_says_so(client, pool):
    bare = factories.make_client(pool, supported_identity_providers=[])
    response = client.get(page(pool, bare, "login"))
    assert response.status_code == 200
    assert "offers no way to sign in here" in response.content.decode()


def test_sign_in_post_is_refused_and_signs_nobody_in(client, pool, corp_only, user):
    response = client.post(
        page(pool, corp_only, "login"), {"username": "alice", "password": factories.PASSWORD}
    )
    assert response.status_code == 403
    assert "Sign in with Corp" in response.content.decode()
    assert not AuthEvent.objects.filter(user=user).exists()
    assert f"hostedui:{pool.id}" not in client.session


def test_sign_up_post_is_refused_and_creates_nobody(client, pool, corp_only):
    response = client.post(
        page(pool, corp_only, "signup"),
        {"username": "dora", "email": "dora@example.com", "password": factories.PASSWORD},
    )
    assert response.status_code == 403
    assert not User.objects.filter(pool=pool, username="dora").exists()
    assert mail.outbox == []


def test_confirm_post_is_refused_and_confirms_nobody(client, pool, corp_only):
    waiting = factories.make_user(pool, "dora", status=UserStatus.UNCONFIRMED)
    response = client.post(page(pool, corp_only, "confirm"), {"username": "dora", "code": "1"})
    assert response.status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == UserStatus.UNCONFIRMED


def test_forgot_password_post_is_refused_and_sends_nothing(client, pool, corp_only, user):
    response = client.post(page(pool, corp_only, "forgotPassword"), {"username": "alice"})
    assert response.status_code == 403
    assert mail.outbox == []


def test_confirm_forgot_password_post_is_refused_and_keeps_the_password(
    client, pool, corp_only, user
):
    new = "Brand-New-Pass-7"
    response = client.post(
        page(pool, corp_only, "confirmForgotPassword"),
        {"username": "alice", "code": "123456", "password": new, "password2": new},
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert passwords.verify(user, factories.PASSWORD)


def test_custom_sign_in_post_is_refused(client, pool, corp_only, user):
    response = client.post(page(pool, corp_only, "customSignIn"), {"username": "alice"})
    assert response.status_code == 403
