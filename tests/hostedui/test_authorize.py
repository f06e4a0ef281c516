"""The authorization endpoint's rules (security.md, "Authorization endpoint")."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests import factories
from tests.hostedui.conftest import CALLBACK, authorize_url, redirect_params

pytestmark = pytest.mark.django_db


def issuer(pool) -> str:
    return f"http://localhost:8000/{pool.id}"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_URL = "http://localhost:8000"


def test_unknown_client_gets_the_error_page_not_a_redirect(client, pool):
    response = client.get(f"/{pool.id}/oauth2/authorize?client_id=nope&redirect_uri={CALLBACK}")
    assert response.status_code == 400
    assert b"invalid_client" in response.content


def test_missing_client_id_gets_the_error_page(client, pool):
    response = client.get(f"/{pool.id}/oauth2/authorize?response_type=code")
    assert response.status_code == 400
    assert "Location" not in response


def test_client_of_another_pool_is_unknown_here(client, pool):
    other = factories.make_client(factories.make_pool())
    response = client.get(authorize_url(pool, other))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:3000/callback/",
        "http://LOCALHOST:3000/callback",
        "http://localhost:3001/callback",
        "http://localhost:3000/callback?x=1",
        "http://localhost:3000/callback#frag",
        "http://localhost:3000/Callback",
        "http://localhost:3000@evil.example/callback",
        "http://localhost:3000.evil.example/callback",
        "http://localhost:3000/callback/..;/evil",
        "https://localhost:3000/callback",
        "",
    ],
)
def test_redirect_uri_must_match_a_callback_exactly(client, pool, app_client, redirect_uri):
    response = client.get(authorize_url(pool, app_client, redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert "Location" not in response


def test_redirect_mismatch_with_prompt_none_is_still_an_error_page(client, pool, app_client):
    response = client.get(
        authorize_url(pool, app_client, redirect_uri="https://evil.example/cb", prompt="none")
    )
    assert response.status_code == 400
    assert "Location" not in response


def test_repeated_redirect_uri_is_an_error_page(client, pool, app_client):
    url = authorize_url(pool, app_client) + "&" + urlencode({"redirect_uri": CALLBACK})
    response = client.get(url)
    assert response.status_code == 400


def test_missing_response_type_redirects_invalid_request_with_state_and_iss(
    client, pool, app_client
):
    params = redirect_params(client.get(authorize_url(pool, app_client, response_type=None)))
    assert params["error"] == "invalid_request"
    assert params["state"] == "st@te/ü 1"
    assert params["iss"] == issuer(pool)


def test_unsupported_response_type(client, pool, app_client):
    params = redirect_params(client.get(authorize_url(pool, app_client, response_type="id_token")))
    assert params["error"] == "unsupported_response_type"


def test_implicit_refused_unless_allowed(client, pool, app_client):
    response = client.get(authorize_url(pool, app_client, response_type="token"))
    params = redirect_params(response)
    assert params["error"] == "unauthorized_client"
    assert "#" in response["Location"]


def test_code_flow_refused_when_client_lacks_it(client, pool):
    implicit_only = factories.make_client(pool, allowed_oauth_flows=["implicit"])
    params = redirect_params(client.get(authorize_url(pool, implicit_only)))
    assert params["error"] == "unauthorized_client"


def test_scope_beyond_the_client_is_invalid_scope(client, pool, app_client):
    params = redirect_params(
        client.get(authorize_url(pool, app_client, scope="openid aws.cognito.signin.user.admin"))
    )
    assert params["error"] == "invalid_scope"
    assert params["state"] == "st@te/ü 1"


def test_email_scope_without_openid_is_invalid_scope(client, pool, app_client):
    params = redirect_params(client.get(authorize_url(pool, app_client, scope="email")))
    assert params["error"] == "invalid_scope"


def test_public_client_without_pkce_is_refused(client, pool, app_client):
    url = authorize_url(pool, app_client, code_challenge=None, code_challenge_method=None)
    params = redirect_params(client.get(url))
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]


def test_pkce_plain_is_refused(client, pool, app_client):
    url = authorize_url(pool, app_client, code_challenge="a" * 43, code_challenge_method="plain")
    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_pkce_challenge_without_method_is_refused(client, pool, app_client):
    url = authorize_url(pool, app_client, code_challenge_method=None)
    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_pkce_malformed_challenge_is_refused(client, pool, app_client):
    url = authorize_url(pool, app_client, code_challenge="short")
    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_repeated_parameter_is_invalid_request(client, pool, app_client):
    url = authorize_url(pool, app_client) + "&state=second"
    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_invalid_prompt_combination(client, pool, app_client):
    url = authorize_url(pool, app_client, prompt="none login")
    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_invalid_max_age(client, pool, app_client):
    url = authorize_url(pool, app_client, max_age="-5")
    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_unknown_parameters_are_ignored(client, pool, app_client):
    response = client.get(authorize_url(pool, app_client, foo="bar", lang="fr"))
    assert response.status_code == 302
    assert "/login?" in response["Location"]
    assert "foo" not in response["Location"]


def test_valid_request_without_session_goes_to_sign_in(client, pool, app_client):
    response = client.get(authorize_url(pool, app_client))
    assert response.status_code == 302
    assert response["Location"].startswith(f"/{pool.id}/login?")


def test_no_cors_on_authorize(client, pool, app_client):
    response = client.get(authorize_url(pool, app_client), HTTP_ORIGIN="https://app.example")
    assert "Access-Control-Allow-Origin" not in response


def test_unknown_pool_gets_the_error_page(client, db):
    response = client.get("/local_nope/oauth2/authorize?client_id=x")
    assert response.status_code == 400
    assert b"There is no such user pool" in response.content
