"""The token endpoint: codes (single use, bound, PKCE), refresh, client_credentials, client
authentication, RFC 6749 errors, no-store, CORS."""

from __future__ import annotations

import base64
from urllib.parse import quote, urlsplit

import pytest

from pool import clock
from pool.models import AppClient, AuthorizationCode, RefreshFamily
from tests import factories
from tests.hostedui.conftest import (
    CALLBACK,
    authorize_url,
    code_for,
    redirect_params,
    sign_in,
    token_request,
)
from tests.hostedui.conftest import exchange_code as exchange

pytestmark = pytest.mark.django_db


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote(client_id)}:{quote(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def test_code_exchange_returns_cognito_shaped_tokens(client, pool, app_client, user):
    response = exchange(client, pool, app_client, code_for(client, pool, app_client))
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "id_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"


def test_token_responses_are_not_stored(client, pool, app_client, user):
    response = exchange(client, pool, app_client, code_for(client, pool, app_client))
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_error_responses_are_not_stored(client, pool, app_client):
    response = exchange(client, pool, app_client, "nope")
    assert response.status_code == 400
    assert response["Cache-Control"] == "no-store"


def test_code_replay_is_invalid_grant_and_revokes_what_it_issued(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    first = exchange(client, pool, app_client, code).json()
    replay = exchange(client, pool, app_client, code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    refreshed = token_request(
        client,
        pool,
        {
            "grant_type": "refresh_token",
            "client_id": app_client.client_id,
            "refresh_token": first["refresh_token"],
        },
    )
    assert refreshed.json()["error"] == "invalid_grant"
    info = client.get(
        f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}"
    )
    assert info.status_code == 401


def test_code_is_stored_only_as_a_digest(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    assert not AuthorizationCode.objects.filter(digest=code).exists()
    assert AuthorizationCode.objects.count() == 1


def test_wrong_verifier_is_invalid_grant(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    response = exchange(client, pool, app_client, code, code_verifier="w" * 43)
    assert response.json()["error"] == "invalid_grant"


def test_missing_verifier_for_a_pkce_code_is_refused(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    response = exchange(client, pool, app_client, code, code_verifier=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_pkce_downgrade_is_refused(client, pool, confidential_client, user):
    """A verifier sent for a code issued without a challenge."""
    code = code_for(client, pool, confidential_client)
    response = exchange(
        client,
        pool,
        confidential_client,
        code,
        client_secret=confidential_client.plain_secret,
    )
    assert response.json()["error"] == "invalid_grant"


def test_confidential_client_without_pkce_exchanges_with_its_secret(
    client, pool, confidential_client, user
):
    code = code_for(client, pool, confidential_client)
    response = exchange(
        client,
        pool,
        confidential_client,
        code,
        code_verifier=None,
        client_secret=confidential_client.plain_secret,
    )
    assert response.status_code == 200


def test_expired_code_is_invalid_grant(client, pool, app_client, user):
    clock.freeze()
    code = code_for(client, pool, app_client)
    clock.advance(minutes=5, seconds=1)
    response = exchange(client, pool, app_client, code)
    assert response.json()["error"] == "invalid_grant"


def test_code_within_five_minutes_works(client, pool, app_client, user):
    clock.freeze()
    code = code_for(client, pool, app_client)
    clock.advance(minutes=4, seconds=59)
    assert exchange(client, pool, app_client, code).status_code == 200


def test_code_bound_to_redirect_uri(client, pool, user):
    app = factories.make_client(pool, callback_urls=[CALLBACK, "http://localhost:3000/other"])
    code = code_for(client, pool, app)
    response = exchange(client, pool, app, code, redirect_uri="http://localhost:3000/other")
    assert response.json()["error"] == "invalid_grant"


def test_code_bound_to_client(client, pool, app_client, user):
    other = factories.make_client(pool)
    code = code_for(client, pool, app_client)
    response = exchange(client, pool, other, code)
    assert response.json()["error"] == "invalid_grant"


def test_disabled_user_code_is_invalid_grant(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    user.enabled = False
    user.save()
    assert exchange(client, pool, app_client, code).json()["error"] == "invalid_grant"


def test_code_of_a_deleted_client_issues_nothing(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    app_client.delete()
    response = exchange(client, pool, app_client, code)
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()
    assert not RefreshFamily.objects.exists()


def test_code_from_before_global_sign_out_is_invalid_grant(client, pool, app_client, user):
    from pool.services import tokens

    clock.freeze()
    code = code_for(client, pool, app_client)
    clock.advance(seconds=1)
    tokens.revoke_user_sessions(user=user, reason="test")
    assert exchange(client, pool, app_client, code).json()["error"] == "invalid_grant"


def test_scope_in_code_is_what_the_app_asked_for(client, pool, app_client, user):
    code = code_for(client, pool, app_client, scope="openid")
    body = exchange(client, pool, app_client, code).json()
    info = client.get(
        f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}"
    ).json()
    assert "email" not in info


def test_code_without_openid_gets_no_id_token(client, pool, user):
    app = factories.make_client(pool, allowed_oauth_scopes=["openid", "phone", "custom/x"])
    code = code_for(client, pool, app, scope="custom/x")
    body = exchange(client, pool, app, code).json()
    assert "id_token" not in body


# ------------------------------------------------------------------------------ refresh


def test_refresh_rotates_and_a_revoked_family_stays_revoked(client, pool, app_client, user):
    first = exchange(client, pool, app_client, code_for(client, pool, app_client)).json()
    data = {"grant_type": "refresh_token", "client_id": app_client.client_id}
    second = token_request(client, pool, {**data, "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    replay = token_request(client, pool, {**data, "refresh_token": first["refresh_token"]})
    assert replay.json()["error"] == "invalid_grant"
    newest = token_request(client, pool, {**data, "refresh_token": second.json()["refresh_token"]})
    assert newest.json()["error"] == "invalid_grant"
    assert RefreshFamily.objects.get().revoked_at is not None


def test_refresh_retried_within_the_grace_period_gets_new_tokens(client, pool, user):
    app = factories.make_client(pool, refresh_token_retry_grace_seconds=10)
    clock.freeze()
    first = exchange(client, pool, app, code_for(client, pool, app)).json()
    data = {"grant_type": "refresh_token", "client_id": app.client_id}
    token_request(client, pool, {**data, "refresh_token": first["refresh_token"]})
    clock.advance(seconds=9)
    retry = token_request(client, pool, {**data, "refresh_token": first["refresh_token"]})
    assert retry.status_code == 200, retry.content
    assert retry.json()["access_token"] and retry.json()["refresh_token"]
    clock.advance(seconds=1)
    late = token_request(client, pool, {**data, "refresh_token": first["refresh_token"]})
    assert late.json()["error"] == "invalid_grant"
    assert RefreshFamily.objects.get().revoked_at is not None


def test_refresh_after_the_client_loses_refresh_token_auth_is_unauthorized_client(
    client, pool, app_client, user
):
    issued = exchange(client, pool, app_client, code_for(client, pool, app_client)).json()
    AppClient.objects.filter(pk=app_client.pk).update(explicit_auth_flows=["ALLOW_USER_SRP_AUTH"])
    data = {"grant_type": "refresh_token", "client_id": app_client.client_id}
    response = token_request(client, pool, {**data, "refresh_token": issued["refresh_token"]})
    assert response.status_code == 400
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "REFRESH_TOKEN_AUTH flow not enabled for this client",
    }


def test_refresh_without_token_is_invalid_request(client, pool, app_client):
    response = token_request(
        client, pool, {"grant_type": "refresh_token", "client_id": app_client.client_id}
    )
    assert response.json()["error"] == "invalid_request"


# ----------------------------------------------------------------------- client auth


def test_client_secret_basic(client, pool, confidential_client, user):
    code = code_for(client, pool, confidential_client)
    response = token_request(
        client,
        pool,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        HTTP_AUTHORIZATION=basic(confidential_client.client_id, confidential_client.plain_secret),
    )
    assert response.status_code == 200


def test_wrong_secret_with_basic_is_401_with_www_authenticate(client, pool, confidential_client):
    response = token_request(
        client,
        pool,
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK},
        HTTP_AUTHORIZATION=basic(confidential_client.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("app", "form"),
    [
        pytest.param(
            "confidential_client",
            {
                "grant_type": "authorization_code",
                "client_secret": "wrong",
                "code": "x",
                "redirect_uri": CALLBACK,
            },
            id="wrong-secret-with-post",
        ),
        pytest.param(
            "confidential_client",
            {"grant_type": "refresh_token", "refresh_token": "x"},
            id="confidential-client-without-a-secret",
        ),
        pytest.param(
            "app_client",
            {"grant_type": "refresh_token", "client_secret": "guess", "refresh_token": "x"},
            id="public-client-sending-a-secret",
        ),
    ],
)
def test_client_authentication_failures_are_invalid_client(request, client, pool, app, form):
    app_client = request.getfixturevalue(app)
    response = token_request(client, pool, {"client_id": app_client.client_id, **form})
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("grant", ["refresh_token", "client_credentials", "authorization_code"])
def test_malformed_basic_credentials_are_invalid_client_for_every_grant(
    client, pool, confidential_client, user, grant
):
    """The credentials are parsed once per request: a Basic header that does not parse is
    refused as such on every grant, even when the form names a real client and token."""
    code = code_for(client, pool, confidential_client)
    issued = exchange(
        client,
        pool,
        confidential_client,
        code,
        code_verifier=None,
        client_secret=confidential_client.plain_secret,
    )
    form = {
        "grant_type": grant,
        "client_id": confidential_client.client_id,
        "refresh_token": issued.json()["refresh_token"],
        "code": "x",
        "redirect_uri": CALLBACK,
    }
    response = token_request(client, pool, form, HTTP_AUTHORIZATION="Basic not*base64")
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Malformed Basic credentials.",
    }
    assert response["WWW-Authenticate"].startswith("Basic")


def test_two_authentication_methods_are_invalid_request(client, pool, confidential_client):
    response = token_request(
        client,
        pool,
        {
            "grant_type": "refresh_token",
            "client_secret": confidential_client.plain_secret,
            "refresh_token": "x",
        },
        HTTP_AUTHORIZATION=basic(confidential_client.client_id, confidential_client.plain_secret),
    )
    assert response.json()["error"] == "invalid_request"


def test_unknown_client_is_invalid_client(client, pool):
    response = token_request(
        client, pool, {"grant_type": "refresh_token", "client_id": "nope", "refresh_token": "x"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_missing_grant_type_is_invalid_request(client, pool, app_client):
    response = token_request(client, pool, {"client_id": app_client.client_id})
    assert response.json()["error"] == "invalid_request"


def test_unknown_grant_type_is_unsupported(client, pool, app_client):
    response = token_request(
        client, pool, {"grant_type": "password", "client_id": app_client.client_id}
    )
    assert response.json()["error"] == "unsupported_grant_type"


def test_code_grant_refused_to_a_client_without_the_code_flow(client, pool):
    app = factories.make_client(pool, allowed_oauth_flows=["implicit"])
    response = token_request(
        client,
        pool,
        {
            "grant_type": "authorization_code",
            "client_id": app.client_id,
            "code": "x",
            "redirect_uri": CALLBACK,
        },
    )
    assert response.json()["error"] == "unauthorized_client"


def test_get_is_not_allowed(client, pool):
    assert client.get(f"/{pool.id}/oauth2/token").status_code == 405


# ------------------------------------------------------------------ client_credentials


@pytest.fixture
def machine(pool):
    return factories.make_service_client(pool, scopes=("read", "write"), granted=("read",))


def test_client_credentials_issues_an_access_token_only(client, pool, machine):
    response = token_request(
        client,
        pool,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(machine.client_id, machine.plain_secret),
    )
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "token_type", "expires_in"}


def test_client_credentials_scope_escalation_is_invalid_scope(client, pool, machine):
    response = token_request(
        client,
        pool,
        {"grant_type": "client_credentials", "scope": "https://api.example/write"},
        HTTP_AUTHORIZATION=basic(machine.client_id, machine.plain_secret),
    )
    assert response.json()["error"] == "invalid_scope"


def test_client_credentials_refused_to_public_clients(client, pool, app_client):
    response = token_request(
        client, pool, {"grant_type": "client_credentials", "client_id": app_client.client_id}
    )
    assert response.json()["error"] == "unauthorized_client"


def test_client_credentials_refused_without_the_flow(client, pool, confidential_client):
    response = token_request(
        client,
        pool,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(confidential_client.client_id, confidential_client.plain_secret),
    )
    assert response.json()["error"] == "unauthorized_client"


# ------------------------------------------------------------------------------ CORS


def test_cors_preflight_on_token(client, pool):
    response = client.options(
        f"/{pool.id}/oauth2/token",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_cors_on_token_answers(client, pool, app_client):
    response = token_request(client, pool, {"client_id": app_client.client_id})
    assert response["Access-Control-Allow-Origin"] == "*"


# ---------------------------------------------------------------------------- implicit


def test_implicit_flow_returns_tokens_in_the_fragment(client, pool, user):
    app = factories.make_client(pool, allowed_oauth_flows=["code", "implicit"])
    response = sign_in(client, authorize_url(pool, app, response_type="token"))
    assert urlsplit(response["Location"]).query == ""
    params = redirect_params(response)
    assert params["access_token"] and params["id_token"]
    assert "refresh_token" not in params
    assert params["state"] == "st@te/ü 1"
    assert params["iss"].endswith(pool.id)


def test_client_credentials_v3_trigger_refusal_is_an_oauth_error(client, pool, machine):
    from pool.services import triggers as trigger_config
    from tests import triggers_support as hooks

    receiver, server = hooks.serve()
    try:
        trigger_config.set_trigger(
            pool=pool, kind="PreTokenGeneration", webhook=receiver.url, version="V3_0"
        )
        receiver.answer = hooks.refusing("no tokens today")
        response = token_request(
            client,
            pool,
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic(machine.client_id, machine.plain_secret),
        )
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"  # as the door maps a trigger's refusal
    assert receiver.last()["triggerSource"] == "TokenGeneration_ClientCredentials"
