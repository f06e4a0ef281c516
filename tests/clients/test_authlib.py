"""Authlib's OAuth2Session (a client we did not write, over real HTTP with requests) against a
live Cognate: code + PKCE with sign-in through the real HTML form, ID token validated with
authlib.jose against the JWKS and issuer from discovery, userInfo, refresh, revoke; and
client_credentials with both client authentication methods."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken

from tests import factories

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]
CALLBACK = "http://localhost:3000/callback"


@pytest.fixture
def server(live_server, settings):
    """The live server, with PUBLIC_URL pointing at it so that issuers match."""
    settings.PUBLIC_URL = live_server.url
    return live_server.url


@pytest.fixture
def oidc(server, pool) -> dict:
    response = requests.get(f"{server}/{pool.id}/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    return response.json()


def sign_in_through_the_form(authorization_url: str, username: str, password: str) -> str:
    """Be the browser: follow authorize to the sign-in page, post the form with its CSRF token,
    and return the redirect back to the app."""
    browser = requests.Session()
    to_login = browser.get(authorization_url, allow_redirects=False, timeout=10)
    assert to_login.status_code == 302
    login_url = urljoin(authorization_url, to_login.headers["Location"])
    page = browser.get(login_url, timeout=10)
    assert 'id="signInFormUsername"' in page.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = browser.post(
        login_url,
        data={
            "csrfmiddlewaretoken": csrf,
            "username": username,
            "password": password,
            "signInSubmitButton": "Sign in",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert done.status_code == 302, done.text[:500]
    return done.headers["Location"]


def validate_id_token(oidc: dict, id_token: str, *, client_id: str, nonce: str) -> dict:
    jwks = requests.get(oidc["jwks_uri"], timeout=10).json()
    claims = JsonWebToken(["RS256"]).decode(
        id_token,
        JsonWebKey.import_key_set(jwks),
        claims_options={
            "iss": {"essential": True, "value": oidc["issuer"]},
            "aud": {"essential": True, "value": client_id},
            "nonce": {"essential": True, "value": nonce},
            "sub": {"essential": True},
        },
    )
    claims.validate()
    return claims


@pytest.fixture
def public_app(pool):
    return factories.make_client(pool, callback_urls=[CALLBACK])


def test_code_pkce_userinfo_refresh_revoke(server, pool, oidc, public_app, user):
    assert oidc["issuer"] == f"{server}/{pool.id}"
    session = OAuth2Session(
        public_app.client_id,
        redirect_uri=CALLBACK,
        scope="openid email profile",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier, nonce = generate_token(64), generate_token(20)
    url, state = session.create_authorization_url(
        oidc["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = sign_in_through_the_form(url, "alice", factories.PASSWORD)
    returned = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert returned["state"] == state
    assert returned["iss"] == oidc["issuer"]

    token = session.fetch_token(
        oidc["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    claims = validate_id_token(oidc, token["id_token"], client_id=public_app.client_id, nonce=nonce)
    assert claims["sub"] == str(user.sub)
    assert claims["cognito:username"] == "alice"

    info = session.get(oidc["userinfo_endpoint"], timeout=10)
    assert info.status_code == 200
    assert info.json()["email"] == "alice@example.com"

    first_refresh = token["refresh_token"]
    refreshed = session.refresh_token(oidc["token_endpoint"], refresh_token=first_refresh)
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != first_refresh

    revoked = session.revoke_token(
        oidc["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200
    with pytest.raises(OAuthError) as failure:
        session.refresh_token(oidc["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert failure.value.error == "invalid_grant"
    assert session.get(oidc["userinfo_endpoint"], timeout=10).status_code == 401


def test_wrong_verifier_is_refused(server, pool, oidc, public_app, user):
    session = OAuth2Session(
        public_app.client_id,
        redirect_uri=CALLBACK,
        scope="openid",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = generate_token(64)
    url, _ = session.create_authorization_url(
        oidc["authorization_endpoint"], code_verifier=verifier
    )
    callback = sign_in_through_the_form(url, "alice", factories.PASSWORD)
    with pytest.raises(OAuthError) as failure:
        session.fetch_token(
            oidc["token_endpoint"],
            authorization_response=callback,
            code_verifier=generate_token(64),
        )
    assert failure.value.error == "invalid_grant"


@pytest.fixture
def machine(pool):
    return factories.make_service_client(pool)


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials(server, pool, oidc, machine, auth_method):
    session = OAuth2Session(
        machine.client_id,
        machine.plain_secret,
        scope="https://api.example/read",
        token_endpoint_auth_method=auth_method,
    )
    token = session.fetch_token(oidc["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert "refresh_token" not in token and "id_token" not in token
    jwks = requests.get(oidc["jwks_uri"], timeout=10).json()
    claims = JsonWebToken(["RS256"]).decode(token["access_token"], JsonWebKey.import_key_set(jwks))
    assert claims["client_id"] == machine.client_id
    assert claims["scope"] == "https://api.example/read"
    assert claims["iss"] == oidc["issuer"]
