"""The social presets (Google, Sign in with Apple, Facebook, Login with Amazon), each pointed
at a loopback stand-in through the endpoint keys of its ProviderDetails: what is sent to the
provider, and how its answer becomes the user's claims."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from joserfc import jwt
from joserfc.jwk import ECKey

from pool import jwt as pool_jwt
from pool.models import User
from pool.services import identity_providers as idp_service
from tests import factories
from tests.hostedui.conftest import authorize_url
from tests.hostedui.upstreams import (
    STANDIN_CLIENT_ID,
    STANDIN_SECRET,
    StandIn,
    back,
    to_app,
    tokens_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def standin():
    upstream = StandIn()
    yield upstream
    upstream.close()


def make(pool, standin, provider_type: str, details: dict, mapping: dict):
    idp_service.create_identity_provider(
        pool=pool,
        provider_name=provider_type,
        provider_type=provider_type,
        details=details,
        attribute_mapping=mapping,
    )
    return factories.make_client(pool, supported_identity_providers=[provider_type])


def go(client, pool, app, name: str) -> tuple[str, dict]:
    response = client.get(authorize_url(pool, app, identity_provider=name))
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    return location, dict(
        pair.split("=", 1) for pair in urlsplit(location).query.split("&") if "=" in pair
    )


def id_claims(client, pool, app, answer) -> dict:
    tokens = tokens_for(client, pool, app, answer["code"])
    return pool_jwt.verify(pool, tokens["id_token"], token_use="id")


def test_facebook_reads_the_graph_api_with_appsecret_proof(client, pool, standin):
    app = make(
        pool,
        standin,
        "Facebook",
        {
            "client_id": "fb-app",
            "client_secret": STANDIN_SECRET,
            "authorize_scopes": "public_profile,email",
            "authorize_url": f"{standin.issuer}/authorize",
            "token_url": f"{standin.issuer}/token",
            "attributes_url": f"{standin.issuer}/me?fields=",
        },
        {"email": "email", "name": "name"},
    )
    standin.profile = {"id": "10223", "email": "fay@example.com", "name": "Fay"}
    location, sent = go(client, pool, app, "Facebook")
    assert location.startswith(f"{standin.issuer}/authorize?") and "nonce" not in sent
    answer = to_app(back(client, pool, code="fb-code", state=standin.authorized(location)["state"]))
    seen = standin.profile_requests[-1]
    assert seen["appsecret_proof"] == [standin.appsecret_proof(STANDIN_SECRET)]
    assert set(seen["fields"][0].split(",")) == {"id", "email", "name"}
    assert seen["_authorization"] == ["Bearer standin-access-token"]
    claims = id_claims(client, pool, app, answer)
    assert claims["cognito:username"] == "Facebook_10223"
    assert claims["email"] == "fay@example.com"
    # Facebook never asserts that an email is verified.
    assert claims.get("email_verified") in (None, False)


def amazon_details(standin) -> dict[str, str]:
    return {
        "client_id": "amzn-app",
        "client_secret": STANDIN_SECRET,
        "authorize_scopes": "profile",
        "authorize_url": f"{standin.issuer}/authorize",
        "token_url": f"{standin.issuer}/token",
        "attributes_url": f"{standin.issuer}/user/profile",
    }


def test_login_with_amazon_reads_the_user_profile(client, pool, standin):
    app = make(
        pool,
        standin,
        "LoginWithAmazon",
        amazon_details(standin),
        {"email": "email", "name": "name"},
    )
    standin.profile = {"user_id": "amzn1.account.AF3", "email": "al@example.com", "name": "Al"}
    location, _ = go(client, pool, app, "LoginWithAmazon")
    answer = to_app(back(client, pool, code="c", state=standin.authorized(location)["state"]))
    assert standin.token_requests[-1]["client_secret"] == [STANDIN_SECRET]
    claims = id_claims(client, pool, app, answer)
    assert claims["cognito:username"] == "LoginWithAmazon_amzn1.account.AF3"
    assert claims["name"] == "Al"


def test_amazon_answer_without_user_id_goes_back_to_the_app(client, pool, standin):
    app = make(
        pool,
        standin,
        "LoginWithAmazon",
        amazon_details(standin),
        {},
    )
    standin.profile = {"name": "Nobody"}
    location, _ = go(client, pool, app, "LoginWithAmazon")
    answer = to_app(back(client, pool, code="c", state=standin.authorized(location)["state"]))
    assert answer["error"] == "invalid_request" and "code" not in answer


def google_details(standin, scopes: str) -> dict[str, str]:
    return {
        "client_id": STANDIN_CLIENT_ID,
        "client_secret": STANDIN_SECRET,
        "authorize_scopes": scopes,
        "oidc_issuer": standin.issuer,
        "authorize_url": f"{standin.issuer}/authorize",
        "token_url": f"{standin.issuer}/token",
        "jwks_uri": f"{standin.issuer}/jwks",
    }


def test_google_validates_the_id_token(client, pool, standin):
    app = make(
        pool,
        standin,
        "Google",
        google_details(standin, "openid email profile"),
        {"email": "email", "email_verified": "email_verified"},
    )
    standin.subject = "1098765"
    standin.claims = {"email": "gus@example.com", "email_verified": True}
    location, sent = go(client, pool, app, "Google")
    assert sent["scope"] == "openid+email+profile" and sent["nonce"]
    answer = to_app(back(client, pool, code="c", state=standin.authorized(location)["state"]))
    claims = id_claims(client, pool, app, answer)
    assert claims["cognito:username"] == "Google_1098765"
    assert claims["email_verified"] is True


def test_google_id_token_for_another_client_is_refused(client, pool, standin):
    app = make(
        pool,
        standin,
        "Google",
        google_details(standin, "openid email"),
        {},
    )
    location, _ = go(client, pool, app, "Google")
    standin.overrides = {"aud": "another-google-client"}
    answer = to_app(back(client, pool, code="c", state=standin.authorized(location)["state"]))
    assert "code" not in answer and "aud" in answer["error_description"]


@pytest.fixture
def apple_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def apple_app(pool, standin, apple_key):
    pem = apple_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return make(
        pool,
        standin,
        "SignInWithApple",
        {
            "client_id": STANDIN_CLIENT_ID,
            "team_id": "TEAM123456",
            "key_id": "KEY7654321",
            "private_key": pem,
            "authorize_scopes": "email name",
            "oidc_issuer": standin.issuer,
            "authorize_url": f"{standin.issuer}/authorize",
            "token_url": f"{standin.issuer}/token",
            "jwks_uri": f"{standin.issuer}/jwks",
        },
        {
            "email": "email",
            "email_verified": "email_verified",
            "given_name": "firstName",
            "family_name": "lastName",
        },
    )


def test_apple_posts_back_and_signs_the_client_secret(client, pool, standin, apple_app, apple_key):
    standin.subject = "001234.abcd"
    standin.claims = {"email": "ann@privaterelay.example", "email_verified": "true"}
    location, sent = go(client, pool, apple_app, "SignInWithApple")
    assert sent["response_mode"] == "form_post"
    state = standin.authorized(location)["state"]
    response = client.post(
        f"/{pool.id}/oauth2/idpresponse",
        {
            "code": "apple-code",
            "state": state,
            "user": '{"name": {"firstName": "Ann", "lastName": "Lee"}, "email": "x"}',
        },
    )
    answer = to_app(response)
    secret = standin.token_requests[-1]["client_secret"][0]
    public = ECKey.import_key(
        apple_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    token = jwt.decode(secret, public, algorithms=["ES256"])
    assert token.header["kid"] == "KEY7654321"
    assert token.claims["iss"] == "TEAM123456" and token.claims["sub"] == STANDIN_CLIENT_ID
    assert token.claims["aud"] == "https://appleid.apple.com"
    claims = id_claims(client, pool, apple_app, answer)
    assert claims["cognito:username"] == "SignInWithApple_001234.abcd"
    assert claims["given_name"] == "Ann" and claims["family_name"] == "Lee"
    assert claims["email_verified"] is True


def test_apple_form_post_without_the_session_cookie_is_relayed(pool, standin, apple_app):
    """Apple's cross-site POST carries no Lax cookie: our page posts the same fields again."""
    browser = Client()
    location, _ = go(browser, pool, apple_app, "SignInWithApple")
    state = standin.authorized(location)["state"]
    cross_site = Client()  # what the browser sends on the cross-site POST: no cookies
    relay = cross_site.post(f"/{pool.id}/oauth2/idpresponse", {"code": "c", "state": state})
    html = relay.content.decode()
    assert relay.status_code == 200 and 'id="relayForm"' in html and state in html
    assert standin.token_requests == []
    # The relayed POST, now same-site, comes with the session cookie and completes.
    fields = {"code": "c", "state": state, "_cognate_relayed": "1"}
    assert "code" in to_app(browser.post(f"/{pool.id}/oauth2/idpresponse", fields))
    assert User.objects.filter(pool=pool, username="SignInWithApple_standin-user-1").exists()
