"""The hot paths (token, userInfo, JWKS, discovery): how many queries each costs, and that what
they keep in memory (the pool row, the signing keys) never hides a change."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from django.core.cache import cache

from pool import config_generation
from pool.models import UserPool
from pool.selectors import pools as pool_rows
from pool.services import app_clients, keys
from pool.services import pools as pool_service
from tests import factories
from tests.hostedui.conftest import authorize_url, code_for, exchange_code, token_request

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


# Query counts: tests/perf/test_query_counts.py (exact, for every hot path).


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


def test_a_change_made_by_another_process_is_seen_through_the_pools_version(pool):
    """Another process saves the pool: its row changes with a new config_version (an update
    here sends no signal to this process's copy)."""
    pool_rows.cached_pool(pool.id)
    UserPool.objects.filter(pk=pool.pk).update(
        name="changed elsewhere", config_version=pool.config_version + 1
    )
    assert pool_rows.cached_pool(pool.id).name == "changed elsewhere"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_copy_is_checked_against_the_count_of_changes(
    pool, django_assert_num_queries
):
    """As in a server: no statement while pool.config_generation's count holds, and a change
    another process counted (its commit on a SQLite file, its notification on PostgreSQL) is
    read at once."""
    pool_rows.cached_pool(pool.id)
    with django_assert_num_queries(0):
        assert pool_rows.cached_pool(pool.id).name == pool.name
    UserPool.objects.filter(pk=pool.pk).update(
        name="changed elsewhere", config_version=pool.config_version + 1
    )
    config_generation.bump_after_commit()  # counted as the other process's commit is
    assert pool_rows.cached_pool(pool.id).name == "changed elsewhere"


def test_no_shared_cache_is_needed_to_see_a_change(pool):
    """The version lives in the database: a cleared (or absent) cache changes nothing."""
    pool_rows.cached_pool(pool.id)
    cache.clear()
    pool_service.update_pool(pool=pool, name="renamed")
    assert pool_rows.cached_pool(pool.id).name == "renamed"


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


def test_nested_json_values_of_the_copy_are_its_own(pool):
    pool.message_templates = {"verification": {"email_subject": "Hi", "tags": ["a"]}}
    pool.save()
    mine = pool_rows.cached_pool(pool.id)
    mine.message_templates["verification"]["email_subject"] = "changed in memory only"
    mine.message_templates["verification"]["tags"].append("b")
    again = pool_rows.cached_pool(pool.id)
    assert again.message_templates == {"verification": {"email_subject": "Hi", "tags": ["a"]}}
    assert again._state.fields_cache is not mine._state.fields_cache


def test_the_copys_model_state_is_its_own_and_says_stored(pool):
    mine = pool_rows.cached_pool(pool.id)
    mine._state.adding = True
    again = pool_rows.cached_pool(pool.id)
    assert again._state is not mine._state
    assert (again._state.adding, again._state.db) == (False, "default")


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


def test_a_setting_saved_by_another_process_applies_on_the_next_sign_in_page(
    client, pool, app_client
):
    """The sign-in page takes the process's copy of the pool for the version it reads with
    the app client: a save elsewhere (a new config_version) is applied at the next request."""
    page = client.get(authorize_url(pool, app_client))["Location"]
    assert "Username" in client.get(page).content.decode()  # the process holds the pool now
    UserPool.objects.filter(pk=pool.pk).update(
        username_attributes=["email"], config_version=pool.config_version + 1
    )
    assert "Email address" in client.get(page).content.decode()


def test_the_api_client_read_brings_the_pool_of_the_version_it_reads(pool, app_client):
    """InitiateAuth and the other ClientId actions read the client with the pool's
    config_version and take the process's copy for it: a save elsewhere (a new version) is
    applied at the next call, and each call has its own copy."""
    from pool.selectors.clients import client_with_pool

    first = client_with_pool(app_client.client_id)
    assert first.pool.pk == pool.pk and first.pool.name == pool.name
    assert client_with_pool(app_client.client_id).pool is not first.pool
    UserPool.objects.filter(pk=pool.pk).update(
        name="changed elsewhere", config_version=pool.config_version + 1
    )
    assert client_with_pool(app_client.client_id).pool.name == "changed elsewhere"
    assert client_with_pool("no-such-client") is None
