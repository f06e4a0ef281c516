"""The hot paths (token, userInfo, JWKS, discovery): how many queries each costs, and that what
they keep in memory (the pool row, the signing keys) never hides a change."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from django.core.cache import cache

from pool.models import UserPool
from pool.selectors import pools as pool_rows
from pool.services import app_clients, keys
from pool.services import pools as pool_service
from tests import factories
from tests.hostedui.conftest import code_for, exchange_code, token_request

pytestmark = pytest.mark.django_db


def _refresh(client, pool, app_client, refresh_token):
    return token_request(
        client,
        pool,
        {
            "grant_type": "refresh_token",
            "client_id": app_client.client_id,
            "refresh_token": refresh_token,
        },
    )


def _warm(client, pool):
    """One JWKS and one discovery request: the process now holds the pool row, its signing
    keys and where its domain (if any) serves the endpoints."""
    assert client.get(f"/{pool.id}/.well-known/jwks.json").status_code == 200
    assert client.get(f"/{pool.id}/.well-known/openid-configuration").status_code == 200


# ------------------------------------------------------------------------------ query counts


def test_refresh_is_one_read_one_write_and_the_groups(
    client, pool, app_client, user, django_assert_max_num_queries
):
    tokens = exchange_code(client, pool, app_client, code_for(client, pool, app_client)).json()
    _warm(client, pool)
    # client, BEGIN, token+family+user (locked), rotate, successor, COMMIT, groups
    with django_assert_max_num_queries(7):
        response = _refresh(client, pool, app_client, tokens["refresh_token"])
    assert response.status_code == 200
    assert response.json()["refresh_token"] != tokens["refresh_token"]


def test_code_exchange_is_one_write_transaction(
    client, pool, app_client, user, django_assert_max_num_queries
):
    code = code_for(client, pool, app_client)
    _warm(client, pool)
    # client, BEGIN, code+user (locked), family, refresh token, code used, COMMIT, groups
    with django_assert_max_num_queries(8):
        response = exchange_code(client, pool, app_client, code)
    assert response.status_code == 200
    assert set(response.json()) >= {"access_token", "id_token", "refresh_token"}


def test_user_info_is_one_query(client, pool, app_client, user, django_assert_max_num_queries):
    tokens = exchange_code(client, pool, app_client, code_for(client, pool, app_client)).json()
    _warm(client, pool)
    with django_assert_max_num_queries(1):
        response = client.get(
            f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
        )
    assert response.status_code == 200
    assert response.json()["username"] == user.username


def test_jwks_and_discovery_are_answered_from_memory(client, pool, django_assert_max_num_queries):
    _warm(client, pool)
    with django_assert_max_num_queries(0):
        jwks = client.get(f"/{pool.id}/.well-known/jwks.json")
        discovery = client.get(f"/{pool.id}/.well-known/openid-configuration")
    assert jwks.json()["keys"][0]["kid"] == keys.active_key(pool).kid
    assert discovery.json()["issuer"].endswith(f"/{pool.id}")


# ----------------------------------------------------------------- what is cached stays true


def test_a_rotated_key_signs_and_is_published_at_once(client, pool, app_client, user):
    tokens = exchange_code(client, pool, app_client, code_for(client, pool, app_client)).json()
    _warm(client, pool)
    new = keys.rotate(pool=pool)
    refreshed = _refresh(client, pool, app_client, tokens["refresh_token"]).json()
    assert pyjwt.get_unverified_header(refreshed["access_token"])["kid"] == new.kid
    published = [
        key["kid"] for key in client.get(f"/{pool.id}/.well-known/jwks.json").json()["keys"]
    ]
    assert new.kid in published


def test_a_pool_change_is_seen_at_once(pool):
    assert pool_rows.cached_pool(pool.id).name == pool.name
    pool_service.update_pool(pool=pool, name="renamed")
    assert pool_rows.cached_pool(pool.id).name == "renamed"


def test_a_change_made_by_another_process_is_seen_through_the_shared_version(pool):
    """Another process saves the pool: its row changes and it replaces the shared version."""
    pool_rows.cached_pool(pool.id)
    UserPool.objects.filter(pk=pool.pk).update(name="changed elsewhere")
    cache.set(pool_rows._version_key(pool.pk), "set by another process", timeout=None)
    assert pool_rows.cached_pool(pool.id).name == "changed elsewhere"


def test_a_cleared_cache_makes_every_process_reload(pool):
    """The version is a random token: after the cache lost it, no old copy counts as current."""
    pool_rows.cached_pool(pool.id)
    UserPool.objects.filter(pk=pool.pk).update(name="changed while the cache was lost")
    cache.clear()
    assert pool_rows.cached_pool(pool.id).name == "changed while the cache was lost"


def test_a_deleted_pool_is_gone_from_its_public_endpoints(client, pool):
    _warm(client, pool)
    pool_service.delete_pool(pool=pool)
    assert client.get(f"/{pool.id}/.well-known/jwks.json").status_code == 404
    assert client.get(f"/{pool.id}/.well-known/openid-configuration").status_code == 404


def test_a_new_pool_is_found_right_after_a_miss(client):
    pool_id = "local_AbCdEfGh1"
    assert client.get(f"/{pool_id}/.well-known/jwks.json").status_code == 404
    factories.make_pool(id=pool_id)
    assert client.get(f"/{pool_id}/.well-known/jwks.json").status_code == 200


def test_callers_get_their_own_copy_of_the_pool(pool):
    mine = pool_rows.cached_pool(pool.id)
    mine.name = "changed in memory only"
    mine.username_attributes.append("email")
    again = pool_rows.cached_pool(pool.id)
    assert again.name == pool.name
    assert again.username_attributes == []


def test_a_rotated_client_secret_is_refused_at_once(client, pool, user):
    app = factories.make_client(pool, secret="", allowed_oauth_flows=["code"])
    _warm(client, pool)
    old = app.plain_secret
    app_clients.rotate_client_secret(client=app)
    response = token_request(
        client,
        pool,
        {
            "grant_type": "refresh_token",
            "client_id": app.client_id,
            "client_secret": old,
            "refresh_token": "x",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
