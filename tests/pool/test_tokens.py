"""Issuing, refreshing, revoking and checking tokens."""

from __future__ import annotations

import threading
import time
import uuid

import jwt as pyjwt
import pytest
from django.conf import settings
from django.db import OperationalError, connection

from pool import clock, jwt
from pool.errors import (
    InvalidOAuthFlowException,
    InvalidParameterException,
    NotAuthorizedException,
    RefreshTokenReuseException,
    UnauthorizedException,
    UnsupportedOperationException,
    UnsupportedTokenTypeException,
)
from pool.models import AppClient, Group, RefreshFamily, RefreshToken, User
from pool.services import tokens
from tests import factories

API = [tokens.ADMIN_SCOPE]
OIDC = ["openid", "email", "phone", "profile"]


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def sign_in(user, client, scopes=API, **kwargs):
    return tokens.issue(user=user, client=client, scopes=scopes, auth_time=clock.now(), **kwargs)


@pytest.fixture
def rich_user(pool):
    return factories.make_user(
        pool,
        "bob",
        name="Bob Builder",
        phone_number="+15551234567",
        phone_number_verified=False,
        attributes={"custom:tier": "gold", "locale": "en"},
    )


# ------------------------------------------------------------------------------------ claims


def test_id_token_claims_are_typed_as_cognito(rich_user, app_client):
    issued = sign_in(rich_user, app_client)
    c = claims(issued.id_token)
    assert c["sub"] == str(rich_user.sub)
    assert c["aud"] == app_client.client_id
    assert c["iss"] == f"{settings.PUBLIC_URL}/{rich_user.pool_id}"
    assert c["token_use"] == "id"
    assert c["cognito:username"] == "bob"
    assert all(isinstance(c[k], int) for k in ("iat", "exp", "auth_time"))
    assert c["exp"] - c["iat"] == app_client.id_token_validity
    for k in ("jti", "origin_jti", "event_id"):
        uuid.UUID(c[k])
    assert c["email"] == "bob@example.com" and c["email_verified"] is True
    assert c["phone_number"] == "+15551234567" and c["phone_number_verified"] is False
    assert c["name"] == "Bob Builder" and c["locale"] == "en"
    assert c["custom:tier"] == "gold"
    # Cognito puts at_hash only in the ID tokens of its OAuth endpoints, not the API's.
    assert "at_hash" not in c


def test_oidc_id_tokens_carry_at_hash(rich_user, app_client):
    issued = sign_in(rich_user, app_client, scopes=OIDC)
    assert claims(issued.id_token)["at_hash"] == jwt.at_hash(issued.access_token)
    assert "at_hash" not in claims(sign_in(rich_user, app_client).id_token)


def test_access_token_claims_are_cognito_shaped(rich_user, app_client):
    issued = sign_in(rich_user, app_client)
    c = claims(issued.access_token)
    assert set(c) == {
        "sub",
        "iss",
        "client_id",
        "origin_jti",
        "event_id",
        "token_use",
        "scope",
        "auth_time",
        "iat",
        "exp",
        "jti",
        "username",
        "version",
    }
    assert c["client_id"] == app_client.client_id and "aud" not in c
    assert c["token_use"] == "access" and c["version"] == 2
    assert c["scope"] == "aws.cognito.signin.user.admin"
    assert c["username"] == "bob"
    assert issued.expires_in == 3600 and issued.token_type == "Bearer"


def test_access_and_id_token_share_origin_jti_and_event_id(user, app_client):
    issued = sign_in(user, app_client)
    a, i = claims(issued.access_token), claims(issued.id_token)
    assert a["origin_jti"] == i["origin_jti"] and a["event_id"] == i["event_id"]
    assert a["jti"] != i["jti"]
    # The event id is the family's UUIDv5 in the tokens' namespace, the same on every refresh.
    expected = uuid.uuid5(uuid.UUID("5d6f0a8e-7f55-4f0c-9d1e-5b1b0f3c8a21"), a["origin_jti"])
    assert a["event_id"] == str(expected)


def test_scope_is_space_separated(user, app_client):
    issued = sign_in(user, app_client, scopes=["openid", "email", "api/read"])
    assert claims(issued.access_token)["scope"] == "openid email api/read"


def test_groups_roles_and_preferred_role(pool, user, app_client):
    admins = Group.objects.create(pool=pool, name="admins", precedence=1, role_arn="arn:a")
    staff = Group.objects.create(pool=pool, name="staff", precedence=5, role_arn="arn:s")
    user.groups.add(staff, admins)
    issued = sign_in(user, app_client)
    idc, ac = claims(issued.id_token), claims(issued.access_token)
    assert idc["cognito:groups"] == ["admins", "staff"] == ac["cognito:groups"]
    assert idc["cognito:roles"] == ["arn:a", "arn:s"]
    assert idc["cognito:preferred_role"] == "arn:a"


def test_preferred_role_omitted_on_precedence_tie(pool, user, app_client):
    user.groups.add(
        Group.objects.create(pool=pool, name="a", precedence=1, role_arn="arn:a"),
        Group.objects.create(pool=pool, name="b", precedence=1, role_arn="arn:b"),
    )
    idc = claims(sign_in(user, app_client).id_token)
    assert "cognito:preferred_role" not in idc and len(idc["cognito:roles"]) == 2


def test_no_group_claims_without_groups(user, app_client):
    issued = sign_in(user, app_client)
    assert "cognito:groups" not in claims(issued.id_token)
    assert "cognito:groups" not in claims(issued.access_token)


def test_oauth_scopes_filter_id_token_attributes(rich_user, app_client):
    c = claims(sign_in(rich_user, app_client, scopes=["openid", "email"]).id_token)
    assert c["email"] == "bob@example.com" and c["email_verified"] is True
    assert "phone_number" not in c and "name" not in c
    assert c["custom:tier"] == "gold"


def test_profile_scope_releases_profile_attributes(rich_user, app_client):
    c = claims(sign_in(rich_user, app_client, scopes=["openid", "profile"]).id_token)
    assert c["name"] == "Bob Builder" and "email" not in c


def test_client_read_attributes_limit_id_token(rich_user, pool):
    client = factories.make_client(pool, read_attributes=["email", "email_verified"])
    c = claims(sign_in(rich_user, client).id_token)
    assert c["email"] == "bob@example.com" and "name" not in c and "custom:tier" not in c


def test_nonce_is_echoed(user, app_client):
    c = claims(sign_in(user, app_client, scopes=["openid"], nonce="n-0S6_WzA2Mj").id_token)
    assert c["nonce"] == "n-0S6_WzA2Mj"


def test_no_id_token_when_not_asked(user, app_client):
    issued = sign_in(user, app_client, scopes=["api/read"], id_token=False)
    assert issued.id_token is None and issued.access_token


def test_refresh_token_is_stored_only_as_digest(user, app_client):
    issued = sign_in(user, app_client)
    assert not RefreshToken.objects.filter(digest=issued.refresh_token).exists()
    assert RefreshToken.objects.count() == 1


def test_kid_of_issued_tokens_is_in_jwks(user, app_client):
    from pool.services import keys

    kid = pyjwt.get_unverified_header(sign_in(user, app_client).access_token)["kid"]
    assert kid in [k["kid"] for k in keys.jwks(user.pool)["keys"]]


# ---------------------------------------------------------------------------------- refresh


def test_refresh_keeps_origin_jti_and_auth_time(user, app_client):
    clock.freeze()
    issued = sign_in(user, app_client)
    clock.advance(minutes=10)
    again = tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    before, after = claims(issued.access_token), claims(again.access_token)
    assert after["origin_jti"] == before["origin_jti"]
    assert after["auth_time"] == before["auth_time"]
    assert after["iat"] == before["iat"] + 600
    assert claims(again.id_token)["auth_time"] == before["auth_time"]


def test_refresh_rotates_the_refresh_token(user, app_client):
    issued = sign_in(user, app_client)
    again = tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    assert again.refresh_token and again.refresh_token != issued.refresh_token
    third = tokens.refresh(client=app_client, refresh_token=again.refresh_token)
    assert third.access_token


def test_reusing_a_rotated_refresh_token_revokes_the_family(user, app_client):
    issued = sign_in(user, app_client)
    again = tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    with pytest.raises(RefreshTokenReuseException):
        tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    family = RefreshFamily.objects.get()
    assert family.revoked_at is not None and family.revoked_reason == "reuse"
    with pytest.raises(NotAuthorizedException):
        tokens.refresh(client=app_client, refresh_token=again.refresh_token)
    with pytest.raises(NotAuthorizedException, match="Access Token has been revoked"):
        tokens.verify_access_token(pool=user.pool, token=again.access_token)


def test_without_rotation_the_refresh_token_is_kept(pool, user):
    client = factories.make_client(pool, refresh_token_rotation=False)
    issued = sign_in(user, client)
    again = tokens.refresh(client=client, refresh_token=issued.refresh_token)
    assert again.refresh_token is None
    assert tokens.refresh(client=client, refresh_token=issued.refresh_token).access_token


@pytest.mark.parametrize("flow", ["REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"])
def test_initiate_auth_refresh_is_refused_when_the_client_rotates(user, app_client, flow):
    """Cognito: REFRESH_TOKEN_AUTH cannot be used by a client with refresh token rotation (it
    never returns the successor); GetTokensFromRefreshToken and the token endpoint can."""
    assert app_client.refresh_token_rotation
    issued = sign_in(user, app_client)
    with pytest.raises(InvalidParameterException, match="GetTokensFromRefreshToken") as refused:
        tokens.refresh(client=app_client, refresh_token=issued.refresh_token, flow=flow)
    assert refused.value.field == "AuthFlow"
    assert RefreshToken.objects.get().rotated_at is None
    assert tokens.refresh(client=app_client, refresh_token=issued.refresh_token).refresh_token


def test_initiate_auth_refresh_without_rotation_keeps_the_token(pool, user):
    client = factories.make_client(pool, refresh_token_rotation=False)
    issued = sign_in(user, client)
    for _ in range(2):
        again = tokens.refresh(
            client=client, refresh_token=issued.refresh_token, flow="REFRESH_TOKEN_AUTH"
        )
        assert again.refresh_token is None and again.id_token


def test_initiate_auth_refresh_needs_the_flow_enabled(pool, user):
    client = factories.make_client(
        pool, refresh_token_rotation=False, explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH"]
    )
    issued = sign_in(user, client)
    with pytest.raises(InvalidParameterException, match="REFRESH_TOKEN flow not enabled"):
        tokens.refresh(client=client, refresh_token=issued.refresh_token, flow="REFRESH_TOKEN")


def test_refresh_token_owner(pool, user, app_client):
    issued = sign_in(user, app_client)
    owner = tokens.refresh_token_owner(client=app_client, refresh_token=issued.refresh_token)
    assert owner == user
    other = factories.make_client(pool)
    assert tokens.refresh_token_owner(client=other, refresh_token=issued.refresh_token) is None
    assert tokens.refresh_token_owner(client=app_client, refresh_token="nope") is None
    assert tokens.refresh_token_owner(client=app_client, refresh_token=None) is None


def test_refresh_by_another_client_is_refused(pool, user, app_client):
    issued = sign_in(user, app_client)
    with pytest.raises(NotAuthorizedException, match="Invalid Refresh Token"):
        tokens.refresh(client=factories.make_client(pool), refresh_token=issued.refresh_token)


def test_unknown_refresh_token_is_refused(app_client):
    with pytest.raises(NotAuthorizedException, match="Invalid Refresh Token"):
        tokens.refresh(client=app_client, refresh_token="nope")


def test_expired_refresh_family_is_refused(user, app_client):
    clock.freeze()
    issued = sign_in(user, app_client)
    clock.advance(seconds=app_client.refresh_token_validity + 1)
    with pytest.raises(NotAuthorizedException, match="Invalid Refresh Token"):
        tokens.refresh(client=app_client, refresh_token=issued.refresh_token)


def test_refresh_refused_for_disabled_user(user, app_client):
    issued = sign_in(user, app_client)
    User.objects.filter(pk=user.pk).update(enabled=False)
    with pytest.raises(NotAuthorizedException, match="User is disabled."):
        tokens.refresh(client=app_client, refresh_token=issued.refresh_token)


def test_refresh_refused_for_deleted_user(user, app_client):
    issued = sign_in(user, app_client)
    user.delete()
    with pytest.raises(NotAuthorizedException):
        tokens.refresh(client=app_client, refresh_token=issued.refresh_token)


def without_refresh_flow(client):
    flows = [flow for flow in client.explicit_auth_flows if flow != "ALLOW_REFRESH_TOKEN_AUTH"]
    AppClient.objects.filter(pk=client.pk).update(explicit_auth_flows=flows)
    return AppClient.objects.get(pk=client.pk)


def test_refresh_refused_once_the_client_loses_refresh_token_auth(user, app_client):
    """Checked at refresh time: a token issued while the flow was allowed stops working."""
    issued = sign_in(user, app_client)
    client = without_refresh_flow(app_client)
    with pytest.raises(
        InvalidParameterException, match=r"^REFRESH_TOKEN_AUTH flow not enabled for this client$"
    ):
        tokens.refresh(client=client, refresh_token=issued.refresh_token)
    assert RefreshFamily.objects.get().revoked_at is None  # refused, not revoked
    AppClient.objects.filter(pk=client.pk).update(
        explicit_auth_flows=app_client.explicit_auth_flows
    )
    client.refresh_from_db()
    assert tokens.refresh(client=client, refresh_token=issued.refresh_token).access_token


def test_refresh_refused_after_tokens_valid_after(user, app_client):
    clock.freeze()
    issued = sign_in(user, app_client)
    clock.advance(seconds=5)
    User.objects.filter(pk=user.pk).update(tokens_valid_after=clock.now())
    with pytest.raises(NotAuthorizedException):
        tokens.refresh(client=app_client, refresh_token=issued.refresh_token)


def _refresh_waiting_for_writers(client, refresh_token):
    """On PostgreSQL (and a file SQLite database, whose busy timeout waits) a second writer
    simply waits for the first. pytest-django's SQLite test database is in memory with a shared
    cache, where a busy writer is told "table is locked" at once instead of waiting: wait here
    as the busy timeout would. Any other database error fails the test."""
    while True:
        try:
            return tokens.refresh(client=client, refresh_token=refresh_token)
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            time.sleep(0.01)


def _race(client, refresh_token, n):
    outcomes, barrier = [], threading.Barrier(n)

    def attempt():
        try:
            barrier.wait()
            _refresh_waiting_for_writers(client, refresh_token)
            outcomes.append("won")
        except (NotAuthorizedException, RefreshTokenReuseException):
            outcomes.append("refused")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_of_one_token_exactly_one_wins():
    pool = factories.make_pool()
    client = factories.make_client(pool)
    user = factories.make_user(pool, "racer")
    issued = sign_in(user, client)
    outcomes = _race(client, issued.refresh_token, 6)
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]
    assert RefreshToken.objects.filter(rotated_at__isnull=False).count() == 1


@pytest.mark.django_db(transaction=True)
def test_losers_of_a_refresh_race_are_treated_as_replay():
    """The server cannot tell a double-fired refresh from a stolen token: the family goes."""
    pool = factories.make_pool()
    client = factories.make_client(pool)
    issued = sign_in(factories.make_user(pool, "racer"), client)
    _race(client, issued.refresh_token, 3)
    family = RefreshFamily.objects.get()
    assert family.revoked_at is not None and family.revoked_reason == "reuse"


# ------------------------------------------------------------------------ client credentials


@pytest.fixture
def m2m_client(pool):
    return factories.make_service_client(
        pool,
        identifier="api",
        scopes=("read", "write"),
        allowed_oauth_scopes=["api/read", "api/write", "openid"],
    )


def test_client_credentials_token_claims(m2m_client):
    issued = tokens.client_credentials(client=m2m_client, scopes=["api/read"])
    c = claims(issued.access_token)
    assert c["sub"] == c["client_id"] == m2m_client.client_id
    assert c["token_use"] == "access" and c["scope"] == "api/read"
    assert "username" not in c and "origin_jti" not in c
    assert issued.id_token is None and issued.refresh_token is None


def test_client_credentials_default_scopes_are_resource_server_scopes(m2m_client):
    c = claims(tokens.client_credentials(client=m2m_client, scopes=[]).access_token)
    assert c["scope"] == "api/read api/write"


def test_client_credentials_refuses_oidc_scopes(m2m_client):
    with pytest.raises(InvalidParameterException) as raised:
        tokens.client_credentials(client=m2m_client, scopes=["openid"])
    assert raised.value.field == "scope"


def test_client_credentials_needs_the_flow(pool):
    client = factories.make_client(pool, secret="")
    with pytest.raises(InvalidOAuthFlowException):
        tokens.client_credentials(client=client, scopes=[])


def test_client_credentials_needs_a_secret(pool):
    client = factories.make_client(pool, allowed_oauth_flows=["client_credentials"])
    with pytest.raises(InvalidOAuthFlowException):
        tokens.client_credentials(client=client, scopes=[])


def test_client_credentials_token_verifies(m2m_client):
    issued = tokens.client_credentials(client=m2m_client, scopes=["api/write"])
    verified = tokens.verify_access_token(
        pool=m2m_client.pool, token=issued.access_token, required_scope="api/write"
    )
    assert verified["client_id"] == m2m_client.client_id


# ----------------------------------------------------------------------------------- revoke


def test_revoke_revokes_family_and_its_access_tokens(user, app_client):
    issued = sign_in(user, app_client)
    tokens.revoke(client=app_client, token=issued.refresh_token)
    assert RefreshFamily.objects.get().revoked_at is not None
    with pytest.raises(NotAuthorizedException, match="Access Token has been revoked"):
        tokens.verify_access_token(pool=user.pool, token=issued.access_token)
    with pytest.raises(NotAuthorizedException):
        tokens.refresh(client=app_client, refresh_token=issued.refresh_token)


def test_revoke_unknown_token_is_not_an_error(app_client):
    assert tokens.revoke(client=app_client, token="unknown") is None


def test_revoke_token_of_another_client_is_refused(pool, user, app_client):
    issued = sign_in(user, app_client)
    with pytest.raises(UnauthorizedException):
        tokens.revoke(client=factories.make_client(pool), token=issued.refresh_token)
    assert RefreshFamily.objects.get().revoked_at is None


def test_revoke_when_the_client_disabled_revocation_is_unsupported(pool, user):
    client = factories.make_client(pool, enable_token_revocation=False)
    issued = sign_in(user, client)
    with pytest.raises(UnsupportedOperationException):
        tokens.revoke(client=client, token=issued.refresh_token)
    assert RefreshFamily.objects.get().revoked_at is None


def test_revoke_access_token_is_unsupported(user, app_client):
    issued = sign_in(user, app_client)
    with pytest.raises(UnsupportedTokenTypeException):
        tokens.revoke(client=app_client, token=issued.access_token)


def test_global_sign_out_revokes_every_family(user, app_client):
    first, second = sign_in(user, app_client), sign_in(user, app_client)
    assert tokens.revoke_user_sessions(user=user, reason="global sign-out") == 2
    user.refresh_from_db()
    assert user.tokens_valid_after is not None
    for issued in (first, second):
        with pytest.raises(NotAuthorizedException, match="Access Token has been revoked"):
            tokens.verify_access_token(pool=user.pool, token=issued.access_token)
        with pytest.raises(NotAuthorizedException):
            tokens.refresh(client=app_client, refresh_token=issued.refresh_token)


def test_tokens_issued_after_global_sign_out_work(user, app_client):
    clock.freeze()
    tokens.revoke_user_sessions(user=user, reason="global sign-out")
    clock.advance(seconds=1)
    issued = sign_in(user, app_client)
    assert tokens.verify_access_token(pool=user.pool, token=issued.access_token)["username"]


# ------------------------------------------------------------------------ access token check


def test_verify_access_token_returns_claims(user, app_client):
    issued = sign_in(user, app_client)
    c = tokens.verify_access_token(pool=user.pool, token=issued.access_token)
    assert c["sub"] == str(user.sub)


def test_verify_access_token_expired_message(user, app_client):
    clock.freeze()
    issued = sign_in(user, app_client)
    clock.advance(seconds=app_client.access_token_validity + jwt.LEEWAY + 1)
    with pytest.raises(NotAuthorizedException, match="^Access Token has expired$"):
        tokens.verify_access_token(pool=user.pool, token=issued.access_token)


def test_id_token_is_not_an_access_token(user, app_client):
    issued = sign_in(user, app_client)
    with pytest.raises(NotAuthorizedException, match="Invalid Access Token"):
        tokens.verify_access_token(pool=user.pool, token=issued.id_token)


def test_verify_access_token_required_scope(user, app_client):
    issued = sign_in(user, app_client, scopes=["openid"])
    with pytest.raises(NotAuthorizedException, match="required scopes"):
        tokens.verify_access_token(
            pool=user.pool, token=issued.access_token, required_scope=tokens.ADMIN_SCOPE
        )


def test_verify_access_token_refuses_disabled_user(user, app_client):
    issued = sign_in(user, app_client)
    User.objects.filter(pk=user.pk).update(enabled=False)
    with pytest.raises(NotAuthorizedException, match="User is disabled."):
        tokens.verify_access_token(pool=user.pool, token=issued.access_token)


def test_access_token_user(user, app_client):
    issued = sign_in(user, app_client)
    assert tokens.access_token_user(pool=user.pool, token=issued.access_token) == user


# --------------------------------------------------------------------------------- userInfo


def test_user_info_booleans_are_strings(rich_user, app_client):
    issued = sign_in(rich_user, app_client, scopes=OIDC)
    body = tokens.user_info(pool=rich_user.pool, access_token=issued.access_token)
    assert body["sub"] == str(rich_user.sub) and body["username"] == "bob"
    assert body["email_verified"] == "true" and body["phone_number_verified"] == "false"
    assert body["custom:tier"] == "gold" and body["name"] == "Bob Builder"


def test_user_info_is_scope_filtered(rich_user, app_client):
    issued = sign_in(rich_user, app_client, scopes=["openid", "email"])
    body = tokens.user_info(pool=rich_user.pool, access_token=issued.access_token)
    assert set(body) == {"sub", "username", "email", "email_verified", "custom:tier"}


def test_user_info_needs_openid_scope(user, app_client):
    issued = sign_in(user, app_client)
    with pytest.raises(NotAuthorizedException):
        tokens.user_info(pool=user.pool, access_token=issued.access_token)
