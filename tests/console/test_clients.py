"""App clients, resource servers, groups, signing keys and events through the console."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditEntry
from pool.models import AppClient, AuthEvent, Group, ResourceServer, SigningKey
from pool.services import events, keys
from tests import factories
from tests.console.helpers import last_audit

pytestmark = pytest.mark.django_db


def client_data(**overrides) -> dict:
    data = {
        "name": "web",
        "callback_urls": "https://app.example/callback\nhttp://localhost:3000/cb",
        "logout_urls": "https://app.example/",
        "allowed_oauth_flows": ["code"],
        "allowed_oauth_flows_user_pool_client": "on",
        "allowed_oauth_scopes": ["openid", "email"],
        "explicit_auth_flows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        "access_token_validity_0": "60",
        "access_token_validity_1": "60",
        "id_token_validity_0": "1",
        "id_token_validity_1": "3600",
        "refresh_token_validity_0": "30",
        "refresh_token_validity_1": "86400",
        "auth_session_validity_0": "3",
        "auth_session_validity_1": "60",
        "enable_token_revocation": "on",
        "refresh_token_rotation": "on",
        "refresh_token_retry_grace_seconds": "0",
        "require_pkce": "on",
        "supported_identity_providers": ["COGNITO"],
    }
    data.update(overrides)
    return data


# -------------------------------------------------------------------------------- app clients


def test_create_public_client(console, pool):
    response = console.post(reverse("console:client_create", args=[pool.id]), client_data())
    assert response.status_code == 201
    client = AppClient.objects.get(pool=pool, name="web")
    assert client.callback_urls == ["https://app.example/callback", "http://localhost:3000/cb"]
    assert (client.access_token_validity, client.refresh_token_validity) == (3600, 30 * 86400)
    assert not client.is_confidential
    assert last_audit("client.create").target_client == client.client_id


def test_client_secret_is_shown_once(console, pool):
    response = console.post(
        reverse("console:client_create", args=[pool.id]), client_data(generate_secret="on")
    )
    client = AppClient.objects.get(pool=pool, name="web")
    secret = response.context["secret"]
    assert client.check_secret(secret)
    assert secret in response.content.decode()
    detail = console.get(reverse("console:client", args=[pool.id, client.client_id]))
    assert secret not in detail.content.decode()
    assert secret not in str(last_audit("client.create").detail)


def test_create_client_shows_url_error_next_to_the_field(console, pool):
    data = client_data(callback_urls="http://app.example/callback")
    response = console.post(reverse("console:client_create", args=[pool.id]), data)
    assert response.status_code == 200
    assert "must use https" in response.context["form"].errors["callback_urls"][0]
    assert not AppClient.objects.exists()


def test_create_client_refuses_a_lifetime_out_of_range(console, pool):
    data = client_data(access_token_validity_0="2", access_token_validity_1="86400")
    response = console.post(reverse("console:client_create", args=[pool.id]), data)
    assert response.context["form"].errors["access_token_validity"]


def test_edit_client_urls_flows_scopes_and_lifetimes(console, app_client):
    pool = app_client.pool
    data = client_data(
        name=app_client.name,
        callback_urls="https://new.example/cb",
        allowed_oauth_flows=["code", "implicit"],
        allowed_oauth_scopes=["openid", "profile"],
        access_token_validity_0="2",
        access_token_validity_1="3600",
    )
    response = console.post(reverse("console:client", args=[pool.id, app_client.client_id]), data)
    assert response.status_code == 302
    app_client.refresh_from_db()
    assert app_client.callback_urls == ["https://new.example/cb"]
    assert app_client.allowed_oauth_flows == ["code", "implicit"]
    assert app_client.allowed_oauth_scopes == ["openid", "profile"]
    assert app_client.access_token_validity == 7200
    assert "callback_urls" in last_audit("client.update").detail["changed"]


def test_client_form_explains_why_pkce_is_required(console, pool):
    response = console.get(reverse("console:client_create", args=[pool.id]))
    page = response.content.decode()
    assert "Require PKCE from public clients" in page
    assert "Stricter than Cognito" in page
    assert response.context["form"]["require_pkce"].value() is True


def test_operator_switches_pkce_off_for_a_cognito_app(console, app_client):
    pool = app_client.pool
    data = client_data(name=app_client.name, require_pkce="")
    response = console.post(reverse("console:client", args=[pool.id, app_client.client_id]), data)
    assert response.status_code == 302
    app_client.refresh_from_db()
    assert app_client.require_pkce is False
    assert "require_pkce" in last_audit("client.update").detail["changed"]


def test_refresh_retry_grace_period_is_saved(console, app_client):
    pool = app_client.pool
    data = client_data(name=app_client.name, refresh_token_retry_grace_seconds="20")
    console.post(reverse("console:client", args=[pool.id, app_client.client_id]), data)
    app_client.refresh_from_db()
    assert app_client.refresh_token_retry_grace_seconds == 20


def test_refresh_retry_grace_period_over_sixty_is_shown_next_to_the_field(console, app_client):
    pool = app_client.pool
    data = client_data(name=app_client.name, refresh_token_retry_grace_seconds="61")
    url = reverse("console:client", args=[pool.id, app_client.client_id])
    response = console.post(url, data)
    assert response.status_code == 200
    assert (
        "between 0 and 60"
        in response.context["form"].errors["refresh_token_retry_grace_seconds"][0]
    )
    app_client.refresh_from_db()
    assert app_client.refresh_token_retry_grace_seconds == 0


def test_native_app_callback_is_accepted_in_the_console(console, pool):
    data = client_data(callback_urls="com.example.app:/callback\nhttp://127.0.0.1/callback")
    response = console.post(reverse("console:client_create", args=[pool.id]), data)
    assert response.status_code == 201
    client = AppClient.objects.get(pool=pool, name="web")
    assert client.callback_urls == ["com.example.app:/callback", "http://127.0.0.1/callback"]


def test_client_form_offers_resource_server_scopes(console, pool):
    ResourceServer.objects.create(
        pool=pool,
        identifier="https://api",
        name="api",
        scopes=[{"name": "read", "description": "r"}],
    )
    form = console.get(reverse("console:client_create", args=[pool.id])).context["form"]
    assert ("https://api/read", "https://api/read") in form.fields["allowed_oauth_scopes"].choices


def test_rotate_client_secret(console, confidential_client):
    pool = confidential_client.pool
    old = confidential_client.plain_secret
    response = console.post(
        reverse("console:client_rotate_secret", args=[pool.id, confidential_client.client_id])
    )
    confidential_client.refresh_from_db()
    new = response.context["secret"]
    assert new != old
    assert confidential_client.check_secret(new)
    assert not confidential_client.check_secret(old)
    assert last_audit("client.rotate_secret").target_client == confidential_client.client_id


def test_rotating_a_public_client_secret_is_refused_with_a_message(console, app_client):
    pool = app_client.pool
    response = console.post(
        reverse("console:client_rotate_secret", args=[pool.id, app_client.client_id]),
        follow=True,
    )
    assert "This app client has no secret" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_delete_client(console, app_client):
    pool = app_client.pool
    url = reverse("console:client_delete", args=[pool.id, app_client.client_id])
    response = console.post(url, {"confirm": app_client.name})
    assert response["Location"] == reverse("console:clients", args=[pool.id])
    assert not AppClient.objects.exists()
    assert last_audit("client.delete").target_client == app_client.client_id


def test_client_list(console, app_client):
    page = console.get(reverse("console:clients", args=[app_client.pool.id])).content.decode()
    assert app_client.client_id in page


# -------------------------------------------------------------------------- resource servers


def test_create_resource_server_with_scopes(console, pool):
    response = console.post(
        reverse("console:resource_servers", args=[pool.id]),
        {"identifier": "https://api.shop", "name": "Shop API", "scopes": "read Read orders\nwrite"},
    )
    assert response.status_code == 302
    server = ResourceServer.objects.get(pool=pool)
    assert server.scopes == [
        {"name": "read", "description": "Read orders"},
        {"name": "write", "description": "write"},
    ]
    assert last_audit("resource_server.create").detail == {"identifier": "https://api.shop"}


def test_resource_server_scope_error_is_shown(console, pool):
    response = console.post(
        reverse("console:resource_servers", args=[pool.id]),
        {"identifier": "https://api.shop", "name": "Shop API", "scopes": "bad/scope"},
    )
    assert response.context["form"].errors["scopes"]


def test_edit_resource_server_scopes(console, pool):
    server = ResourceServer.objects.create(
        pool=pool, identifier="https://api", name="api", scopes=[{"name": "a", "description": "a"}]
    )
    url = reverse("console:resource_server", args=[pool.id, server.pk])
    console.post(url, {"name": "renamed", "scopes": "b Bees"})
    server.refresh_from_db()
    assert (server.name, server.scopes) == ("renamed", [{"name": "b", "description": "Bees"}])


def test_delete_resource_server(console, pool):
    server = ResourceServer.objects.create(pool=pool, identifier="https://api", name="api")
    url = reverse("console:resource_server_delete", args=[pool.id, server.pk])
    console.post(url, {"confirm": "https://api"})
    assert not ResourceServer.objects.exists()


# ------------------------------------------------------------------------------------ groups


def test_create_group(console, pool):
    response = console.post(
        reverse("console:groups", args=[pool.id]),
        {"name": "admins", "description": "Admins", "precedence": 1},
    )
    assert response.status_code == 302
    group = Group.objects.get(pool=pool)
    assert (group.name, group.precedence) == ("admins", 1)
    assert last_audit("group.create").detail == {"group": "admins"}


def test_duplicate_group_name_is_shown_next_to_the_field(console, pool):
    Group.objects.create(pool=pool, name="admins")
    response = console.post(reverse("console:groups", args=[pool.id]), {"name": "admins"})
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "A group with this name already exists in the pool."
    ]


def test_edit_group_keeps_its_name(console, pool):
    group = Group.objects.create(pool=pool, name="team")
    url = reverse("console:group", args=[pool.id, group.pk])
    console.post(url, {"name": "renamed", "description": "The team", "precedence": 3})
    group.refresh_from_db()
    assert (group.name, group.description, group.precedence) == ("team", "The team", 3)


def test_group_page_lists_members(console, pool, user):
    group = Group.objects.create(pool=pool, name="team")
    user.groups.add(group)
    page = console.get(reverse("console:group", args=[pool.id, group.pk])).content.decode()
    assert user.username in page


def test_delete_group(console, pool):
    group = Group.objects.create(pool=pool, name="gone")
    console.post(reverse("console:group_delete", args=[pool.id, group.pk]), {"confirm": "gone"})
    assert not Group.objects.exists()
    assert last_audit("group.delete").detail == {"group": "gone"}


# ------------------------------------------------------------------------------- keys, events


def test_key_list_marks_the_active_key(console, pool):
    key = keys.rotate(pool=pool)
    page = console.get(reverse("console:keys", args=[pool.id])).content.decode()
    assert key.kid in page and "active" in page


def test_rotate_signing_key(console, pool):
    first = keys.rotate(pool=pool)
    console.post(reverse("console:keys_rotate", args=[pool.id]))
    first.refresh_from_db()
    assert first.status == SigningKey.Status.RETIRED
    active = SigningKey.objects.get(pool=pool, status=SigningKey.Status.ACTIVE)
    assert last_audit("keys.rotate").detail == {"kid": active.kid}


def test_events_page_lists_the_pools_events(console, pool, user):
    events.record(pool=pool, event_type=AuthEvent.Type.SIGN_IN, success=True, user=user)
    other = factories.make_pool()
    events.record(pool=other, event_type=AuthEvent.Type.SIGN_IN, success=True, username="stranger")
    response = console.get(reverse("console:events", args=[pool.id]))
    assert [event.username for event in response.context["rows"]] == [user.username]


def test_events_filter_failed_sign_ins(console, pool, user):
    events.record(pool=pool, event_type=AuthEvent.Type.SIGN_IN, success=True, user=user)
    events.record(pool=pool, event_type=AuthEvent.Type.SIGN_IN, success=False, user=user)
    response = console.get(reverse("console:events", args=[pool.id]), {"outcome": "failed"})
    assert [event.success for event in response.context["rows"]] == [False]


def test_events_page_older_link(console, pool):
    for _ in range(55):
        events.record(pool=pool, event_type=AuthEvent.Type.SIGN_IN, success=True, username="u")
    first = console.get(reverse("console:events", args=[pool.id]))
    assert len(first.context["rows"]) == 50
    before = first.context["next_before"]
    second = console.get(reverse("console:events", args=[pool.id]), {"before": before})
    assert len(second.context["rows"]) == 5


def test_lifetime_that_is_not_whole_minutes_survives_an_edit(console, pool):
    client = factories.make_client(pool, access_token_validity=3601)
    url = reverse("console:client", args=[pool.id, client.client_id])
    form = console.get(url).context["form"]
    assert form["access_token_validity"].value() == 3601
    rendered = str(form["access_token_validity"])
    assert 'value="3601"' in rendered and '<option value="1" selected>' in rendered


def test_client_id_with_a_nul_byte_is_a_404(console, pool):
    response = console.get(f"/console/pools/{pool.id}/clients/abc%00def/")
    assert response.status_code == 404
