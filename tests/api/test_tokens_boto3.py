"""boto3 against a live Cognate: refreshing and revoking tokens through the JSON API
(InitiateAuth REFRESH_TOKEN_AUTH, AdminInitiateAuth REFRESH_TOKEN_AUTH,
GetTokensFromRefreshToken, RevokeToken) with the client's refresh token rotation on and off,
and tokens shared with the OAuth door (one issuer and JWKS, revocation from either door)."""

from __future__ import annotations

import jwt as pyjwt
import pytest
import requests

from api.principals import secret_hash
from pool import clock
from pool.models import AppClient, RefreshFamily, User, UserPool
from tests import factories
from tests.api.shape_check import assert_fits
from tests.hostedui.conftest import code_for, exchange_code, token_request

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

PASSWORD = factories.PASSWORD
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"]
GRACE = 20


@pytest.fixture
def pool(db):
    return factories.make_pool(name="tokens", mfa_configuration=UserPool.Mfa.OFF)


@pytest.fixture
def steady(pool):
    """Rotation off (Cognito's default for new clients)."""
    return factories.make_client(pool, explicit_auth_flows=FLOWS, refresh_token_rotation=False)


@pytest.fixture
def rotating(pool):
    return factories.make_client(pool, explicit_auth_flows=FLOWS, refresh_token_rotation=True)


@pytest.fixture
def alice(pool):
    return factories.make_user(pool, "alice")


def sign_in(cognito, client, **parameters) -> dict:
    return cognito.initiate_auth(
        ClientId=client.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD, **parameters},
    )["AuthenticationResult"]


def refresh_auth(cognito, client, refresh_token, flow="REFRESH_TOKEN_AUTH", **parameters):
    return cognito.initiate_auth(
        ClientId=client.client_id,
        AuthFlow=flow,
        AuthParameters={"REFRESH_TOKEN": refresh_token, **parameters},
    )


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def message(error) -> str:
    return error.value.response["Error"]["Message"]


def family_revoked() -> bool:
    return RefreshFamily.objects.get().revoked_at is not None


# ------------------------------------------------------------------------ rotation off


@pytest.mark.parametrize("flow", ["REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"])
def test_without_rotation_refresh_token_auth_reuses_the_token(
    cognito, recorder, steady, alice, flow
):
    issued = sign_in(cognito, steady)
    for _ in range(2):
        answer = refresh_auth(cognito, steady, issued["RefreshToken"], flow)
        result = answer["AuthenticationResult"]
        assert "RefreshToken" not in result
        assert claims(result["AccessToken"])["username"] == "alice"
        assert claims(result["IdToken"])["auth_time"] == claims(issued["IdToken"])["auth_time"]
    assert_fits(recorder)


def test_without_rotation_get_tokens_gives_no_new_refresh_token(cognito, recorder, steady, alice):
    issued = sign_in(cognito, steady)
    for _ in range(2):
        result = cognito.get_tokens_from_refresh_token(
            ClientId=steady.client_id, RefreshToken=issued["RefreshToken"]
        )["AuthenticationResult"]
        assert "RefreshToken" not in result and result["AccessToken"]
    assert not family_revoked()
    assert_fits(recorder)


def test_admin_initiate_auth_refreshes(cognito, recorder, pool, steady, alice):
    issued = sign_in(cognito, steady)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool.id,
        ClientId=steady.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": issued["RefreshToken"]},
    )["AuthenticationResult"]
    assert result["AccessToken"] and "RefreshToken" not in result
    assert_fits(recorder)


def test_refresh_flow_not_enabled_for_the_client(cognito, pool, alice):
    client = factories.make_client(
        pool, explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH"], refresh_token_rotation=False
    )
    issued = sign_in(cognito, client)
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        refresh_auth(cognito, client, issued["RefreshToken"])
    assert message(refused) == "REFRESH_TOKEN_AUTH flow not enabled for this client"


def test_an_unknown_refresh_token_is_not_authorized(cognito, steady, alice):
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        refresh_auth(cognito, steady, "not-a-refresh-token")
    assert message(refused) == "Invalid Refresh Token"
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_tokens_from_refresh_token(ClientId=steady.client_id, RefreshToken="nope")


def test_a_refresh_token_of_another_client_is_refused(cognito, pool, steady, alice):
    issued = sign_in(cognito, steady)
    other = factories.make_client(pool, explicit_auth_flows=FLOWS, refresh_token_rotation=False)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        refresh_auth(cognito, other, issued["RefreshToken"])


def test_refresh_of_a_disabled_user_is_refused(cognito, steady, alice):
    issued = sign_in(cognito, steady)
    User.objects.filter(pk=alice.pk).update(enabled=False)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        refresh_auth(cognito, steady, issued["RefreshToken"])
    assert message(refused) == "User is disabled."


# ------------------------------------------------------------------------- rotation on


def test_with_rotation_refresh_token_auth_is_refused(cognito, rotating, alice):
    issued = sign_in(cognito, rotating)
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        refresh_auth(cognito, rotating, issued["RefreshToken"])
    assert "GetTokensFromRefreshToken" in message(refused)
    assert not family_revoked()


def test_with_rotation_get_tokens_rotates_and_reuse_revokes(cognito, recorder, rotating, alice):
    issued = sign_in(cognito, rotating)
    first = cognito.get_tokens_from_refresh_token(
        ClientId=rotating.client_id, RefreshToken=issued["RefreshToken"]
    )["AuthenticationResult"]
    assert first["RefreshToken"] and first["RefreshToken"] != issued["RefreshToken"]
    second = cognito.get_tokens_from_refresh_token(
        ClientId=rotating.client_id, RefreshToken=first["RefreshToken"]
    )["AuthenticationResult"]
    assert second["RefreshToken"] not in (first["RefreshToken"], issued["RefreshToken"])
    assert_fits(recorder)

    with pytest.raises(cognito.exceptions.RefreshTokenReuseException):
        cognito.get_tokens_from_refresh_token(
            ClientId=rotating.client_id, RefreshToken=issued["RefreshToken"]
        )
    assert family_revoked()
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_tokens_from_refresh_token(
            ClientId=rotating.client_id, RefreshToken=second["RefreshToken"]
        )


def test_with_a_grace_period_a_retry_still_refreshes(cognito, rotating, alice):
    AppClient.objects.filter(pk=rotating.pk).update(refresh_token_retry_grace_seconds=GRACE)
    clock.freeze()
    issued = sign_in(cognito, rotating)

    def refresh():
        return cognito.get_tokens_from_refresh_token(
            ClientId=rotating.client_id, RefreshToken=issued["RefreshToken"]
        )["AuthenticationResult"]

    first = refresh()
    clock.advance(seconds=GRACE - 1)
    retry = refresh()
    assert retry["RefreshToken"] != first["RefreshToken"]
    assert not family_revoked()
    clock.advance(seconds=1)
    with pytest.raises(cognito.exceptions.RefreshTokenReuseException):
        refresh()
    assert family_revoked()


# ---------------------------------------------------------------------- client secrets


@pytest.fixture
def confidential(pool):
    return factories.make_client(
        pool, secret="", explicit_auth_flows=FLOWS, refresh_token_rotation=False
    )


def signed_in_confidential(cognito, confidential) -> dict:
    proof = secret_hash(confidential.plain_secret, "alice", confidential.client_id)
    return sign_in(cognito, confidential, SECRET_HASH=proof)


def test_refresh_secret_hash_over_the_username_or_the_sub(cognito, confidential, alice):
    issued = signed_in_confidential(cognito, confidential)
    for name in ("alice", str(alice.sub)):
        proof = secret_hash(confidential.plain_secret, name, confidential.client_id)
        answer = refresh_auth(cognito, confidential, issued["RefreshToken"], SECRET_HASH=proof)
        assert answer["AuthenticationResult"]["AccessToken"]


def test_refresh_without_or_with_a_wrong_secret_hash_is_refused(cognito, confidential, alice):
    issued = signed_in_confidential(cognito, confidential)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as missing:
        refresh_auth(cognito, confidential, issued["RefreshToken"])
    assert "SECRET_HASH was not received" in message(missing)
    wrong = secret_hash(confidential.plain_secret, "mallory", confidential.client_id)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        refresh_auth(cognito, confidential, issued["RefreshToken"], SECRET_HASH=wrong)
    assert message(refused) == f"Unable to verify secret hash for client {confidential.client_id}"


def test_get_tokens_needs_the_client_secret(cognito, confidential, alice):
    issued = signed_in_confidential(cognito, confidential)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_tokens_from_refresh_token(
            ClientId=confidential.client_id, RefreshToken=issued["RefreshToken"]
        )
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_tokens_from_refresh_token(
            ClientId=confidential.client_id,
            RefreshToken=issued["RefreshToken"],
            ClientSecret="wrong" + confidential.plain_secret[5:],
        )
    result = cognito.get_tokens_from_refresh_token(
        ClientId=confidential.client_id,
        RefreshToken=issued["RefreshToken"],
        ClientSecret=confidential.plain_secret,
    )["AuthenticationResult"]
    assert result["AccessToken"]


# ------------------------------------------------------------------------------ revoking


def test_revoke_token_ends_the_refresh_family(cognito, recorder, steady, alice):
    issued = sign_in(cognito, steady)
    assert cognito.revoke_token(ClientId=steady.client_id, Token=issued["RefreshToken"])
    assert recorder.last == {}
    assert family_revoked()
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        refresh_auth(cognito, steady, issued["RefreshToken"])
    # Revoking again, or a token Cognate never issued, is not an error (RFC 7009).
    cognito.revoke_token(ClientId=steady.client_id, Token=issued["RefreshToken"])
    cognito.revoke_token(ClientId=steady.client_id, Token="unknown-token")


def test_revoke_token_refusals(cognito, pool, steady, confidential, alice):
    issued = sign_in(cognito, steady)
    with pytest.raises(cognito.exceptions.UnsupportedTokenTypeException):
        cognito.revoke_token(ClientId=steady.client_id, Token=issued["AccessToken"])
    with pytest.raises(cognito.exceptions.UnauthorizedException):
        cognito.revoke_token(
            ClientId=confidential.client_id,
            ClientSecret=confidential.plain_secret,
            Token=issued["RefreshToken"],
        )
    with pytest.raises(cognito.exceptions.UnauthorizedException):
        cognito.revoke_token(ClientId=confidential.client_id, Token="whatever")
    AppClient.objects.filter(pk=steady.pk).update(enable_token_revocation=False)
    with pytest.raises(cognito.exceptions.UnsupportedOperationException):
        cognito.revoke_token(ClientId=steady.client_id, Token=issued["RefreshToken"])
    assert not family_revoked()


# --------------------------------------------------------------- one issuer, every door


def test_an_api_token_verifies_with_the_pools_jwks_and_issuer(cognito, server, pool, steady, alice):
    issued = sign_in(cognito, steady)
    configuration = requests.get(f"{server}/{pool.id}/.well-known/openid-configuration").json()
    keys = pyjwt.PyJWKClient(configuration["jwks_uri"])
    for token in (issued["AccessToken"], issued["IdToken"]):
        key = keys.get_signing_key_from_jwt(token)
        verified = pyjwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=configuration["issuer"],
            options={"verify_aud": False},
        )
        assert verified["sub"] == str(alice.sub)


def test_user_info_refuses_api_tokens_as_cognito_does(cognito, server, pool, steady, alice):
    """Cognito documents that userInfo needs the `openid` scope, which tokens from InitiateAuth
    do not carry: they are refused as invalid_token, not accepted."""
    issued = sign_in(cognito, steady)
    answer = requests.get(
        f"{server}/{pool.id}/oauth2/userInfo",
        headers={"Authorization": f"Bearer {issued['AccessToken']}"},
    )
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_revoke_token_revokes_a_hosted_ui_token(cognito, client, pool, alice):
    """A refresh token from the hosted UI's code flow, revoked through the JSON API: the token
    endpoint refuses it and userInfo refuses the access token issued with it."""
    browser_app = factories.make_client(pool)
    issued = exchange_code(client, pool, browser_app, code_for(client, pool, browser_app)).json()
    assert (
        client.get(
            f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}"
        ).json()["username"]
        == "alice"
    )

    cognito.revoke_token(ClientId=browser_app.client_id, Token=issued["refresh_token"])

    refreshed = token_request(
        client,
        pool,
        {
            "grant_type": "refresh_token",
            "client_id": browser_app.client_id,
            "refresh_token": issued["refresh_token"],
        },
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    info = client.get(
        f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}"
    )
    assert info.status_code == 401
