"""userInfo, revoke, logout, discovery and JWKS."""

from __future__ import annotations

import pytest

from pool.models import User
from tests import factories
from tests.hostedui.conftest import CALLBACK, VERIFIER, authorize_url, code_for, token_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(client, pool, app_client, user) -> dict:
    code = code_for(client, pool, app_client)
    return token_request(
        client,
        pool,
        {
            "grant_type": "authorization_code",
            "client_id": app_client.client_id,
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": VERIFIER,
        },
    ).json()


def userinfo(client, pool, method="get", **kwargs):
    return getattr(client, method)(f"/{pool.id}/oauth2/userInfo", **kwargs)


# ------------------------------------------------------------------------------ userInfo


def test_userinfo_with_bearer(client, pool, issued, user):
    response = userinfo(client, pool, HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}")
    assert response.status_code == 200
    body = response.json()
    assert body["sub"] == str(user.sub)
    assert body["email_verified"] == "true"


def test_userinfo_by_post(client, pool, issued):
    response = userinfo(client, pool, "post", HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}")
    assert response.status_code == 200


def test_userinfo_without_token_is_401_with_bearer_challenge(client, pool):
    response = userinfo(client, pool)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_userinfo_with_a_non_bearer_header_is_invalid_request(client, pool):
    response = userinfo(client, pool, HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==")
    assert response.status_code == 400
    assert 'error="invalid_request"' in response["WWW-Authenticate"]


def test_userinfo_with_a_bad_token_is_invalid_token(client, pool):
    response = userinfo(client, pool, HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_userinfo_with_a_revoked_token_is_invalid_token(client, pool, app_client, issued):
    client.post(
        f"/{pool.id}/oauth2/revoke",
        {"token": issued["refresh_token"], "client_id": app_client.client_id},
    )
    response = userinfo(client, pool, HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}")
    assert response.status_code == 401


def test_userinfo_of_a_disabled_user_is_invalid_token(client, pool, issued, user):
    User.objects.filter(pk=user.pk).update(enabled=False)
    response = userinfo(client, pool, HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_userinfo_after_the_client_was_deleted_is_invalid_token(client, pool, app_client, issued):
    app_client.delete()
    response = userinfo(client, pool, HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_userinfo_of_another_pool_is_invalid_token(client, issued):
    other = factories.make_pool()
    response = userinfo(client, other, HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}")
    assert response.status_code == 401


def test_userinfo_allows_cors(client, pool, issued):
    response = userinfo(client, pool, HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}")
    assert response["Access-Control-Allow-Origin"] == "*"


# -------------------------------------------------------------------------------- revoke


def revoke(client, pool, **data):
    return client.post(f"/{pool.id}/oauth2/revoke", data)


def test_revoke_refresh_token_ends_the_family(client, pool, app_client, issued):
    assert (
        revoke(
            client, pool, token=issued["refresh_token"], client_id=app_client.client_id
        ).status_code
        == 200
    )
    refreshed = token_request(
        client,
        pool,
        {
            "grant_type": "refresh_token",
            "client_id": app_client.client_id,
            "refresh_token": issued["refresh_token"],
        },
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_revoke_unknown_token_is_200(client, pool, app_client):
    assert revoke(client, pool, token="unknown", client_id=app_client.client_id).status_code == 200


def test_revoke_access_token_is_unsupported_token_type(client, pool, app_client, issued):
    response = revoke(client, pool, token=issued["access_token"], client_id=app_client.client_id)
    assert response.json()["error"] == "unsupported_token_type"


def test_revoke_without_token_is_invalid_request(client, pool, app_client):
    response = revoke(client, pool, client_id=app_client.client_id)
    assert response.json()["error"] == "invalid_request"


def test_revoke_needs_client_authentication(client, pool, confidential_client):
    response = revoke(client, pool, token="x", client_id=confidential_client.client_id)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_revoke_when_the_client_disabled_revocation_is_invalid_request(
    client, pool, app_client, issued
):
    app_client.enable_token_revocation = False
    app_client.save()
    response = revoke(client, pool, token=issued["refresh_token"], client_id=app_client.client_id)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_revoke_another_clients_token_is_refused(client, pool, issued):
    other = factories.make_client(pool)
    response = revoke(client, pool, token=issued["refresh_token"], client_id=other.client_id)
    assert response.status_code == 400


# -------------------------------------------------------------------------------- logout


def test_logout_to_registered_url_clears_the_session(client, pool, app_client, issued):
    response = client.get(
        f"/{pool.id}/logout",
        {"client_id": app_client.client_id, "logout_uri": "http://localhost:3000/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "http://localhost:3000/"
    again = client.get(authorize_url(pool, app_client))
    assert f"/{pool.id}/login?" in again["Location"]


def test_logout_to_unregistered_url_is_an_error_page(client, pool, app_client, issued):
    response = client.get(
        f"/{pool.id}/logout",
        {"client_id": app_client.client_id, "logout_uri": "https://evil.example/"},
    )
    assert response.status_code == 400
    assert "Location" not in response
    still = client.get(authorize_url(pool, app_client))
    assert "code=" in still["Location"]


def test_logout_with_redirect_uri_goes_back_to_sign_in(client, pool, app_client, issued):
    response = client.get(
        f"/{pool.id}/logout",
        {
            "client_id": app_client.client_id,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"/{pool.id}/login?")


def test_logout_with_unregistered_redirect_uri_is_an_error_page(client, pool, app_client):
    response = client.get(
        f"/{pool.id}/logout",
        {
            "client_id": app_client.client_id,
            "redirect_uri": "https://evil.example/cb",
            "response_type": "code",
        },
    )
    assert response.status_code == 400


def test_logout_without_destination_shows_signed_out(client, pool, app_client):
    response = client.get(f"/{pool.id}/logout", {"client_id": app_client.client_id})
    assert response.status_code == 200
    assert b"signed out" in response.content


def test_logout_without_client_is_an_error_page(client, pool):
    response = client.get(f"/{pool.id}/logout", {"logout_uri": "http://localhost:3000/"})
    assert response.status_code == 400


# ------------------------------------------------------------------ discovery and JWKS


def test_discovery_issuer_is_public_url_and_pool(client, pool, settings):
    settings.PUBLIC_URL = "https://id.example.org"
    body = client.get(f"/{pool.id}/.well-known/openid-configuration").json()
    assert body["issuer"] == f"https://id.example.org/{pool.id}"
    assert body["jwks_uri"] == f"https://id.example.org/{pool.id}/.well-known/jwks.json"


def test_discovery_advertises_what_we_do(client, pool):
    body = client.get(f"/{pool.id}/.well-known/openid-configuration").json()
    assert body["authorization_response_iss_parameter_supported"] is True
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["revocation_endpoint"].endswith("/oauth2/revoke")
    assert body["end_session_endpoint"].endswith("/logout")


def test_discovery_is_cacheable_and_cross_origin(client, pool):
    response = client.get(f"/{pool.id}/.well-known/openid-configuration")
    assert "max-age" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_jwks_lists_rsa_keys(client, pool):
    response = client.get(f"/{pool.id}/.well-known/jwks.json")
    keys = response.json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in keys)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response["Cache-Control"]


def test_unknown_pool_discovery_is_404(client, db):
    assert client.get("/local_nope/.well-known/openid-configuration").status_code == 404


def test_unknown_pool_token_endpoint_is_404_json(client, db):
    response = client.post("/local_nope/oauth2/token", {"grant_type": "refresh_token"})
    assert response.status_code == 404
    assert response.json()["error"] == "invalid_request"
