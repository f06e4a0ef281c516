"""Resource servers: the APIs whose custom scopes (`identifier/scope`) clients may be allowed."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from pool.errors import LimitExceededException
from pool.models import AppClient, ResourceServer, UserPool
from pool.services.validation import invalid

# Quotas (reference §6).
MAX_RESOURCE_SERVERS = 25
MAX_SCOPES_PER_RESOURCE_SERVER = 100

_RS_IDENTIFIER = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]{1,256}$")
_RS_NAME = re.compile(r"^[\w +=,.@-]{1,256}$")
_SCOPE_NAME = re.compile(r"^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}$")


def _clean_scopes(scopes: Any) -> list[dict[str, str]]:
    if not isinstance(scopes, list | tuple):
        raise invalid("scopes must be a list.", "scopes")
    if len(scopes) > MAX_SCOPES_PER_RESOURCE_SERVER:
        raise invalid(f"At most {MAX_SCOPES_PER_RESOURCE_SERVER} scopes.", "scopes")
    clean: list[dict[str, str]] = []
    for scope in scopes:
        if isinstance(scope, str):
            scope = {"name": scope, "description": scope}
        if not isinstance(scope, dict):
            raise invalid("Each scope is a name or {name, description}.", "scopes")
        name = scope.get("name")
        description = scope.get("description") or name
        if not isinstance(name, str) or not _SCOPE_NAME.match(name):
            raise invalid(
                f"Scope name {name!r} must be 1-256 printable characters without spaces, "
                "'/', '\"' or '\\'.",
                "scopes",
            )
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise invalid("Scope descriptions are 1-256 characters.", "scopes")
        if any(existing["name"] == name for existing in clean):
            raise invalid(f"Scope {name!r} is listed twice.", "scopes")
        clean.append({"name": name, "description": description})
    return clean


def _clean_rs_name(name: Any) -> str:
    if not isinstance(name, str) or not _RS_NAME.match(name):
        raise invalid("name must be 1-256 letters, digits, spaces or + = , . @ - _.", "name")
    return name


def _drop_client_scopes(pool: UserPool, removed: set[str]) -> None:
    """Keep clients consistent: a scope that no longer exists is no longer allowed."""
    if not removed:
        return
    for client in AppClient.objects.filter(pool=pool).select_for_update():
        kept = [s for s in client.allowed_oauth_scopes if s not in removed]
        if kept != client.allowed_oauth_scopes:
            client.allowed_oauth_scopes = kept
            client.save(update_fields=["allowed_oauth_scopes", "updated_at"])


def create_resource_server(
    *, pool: UserPool, identifier: str, name: str, scopes: list | tuple = ()
) -> ResourceServer:
    """Declare an API whose custom scopes (`identifier/scope`) clients may be allowed."""
    if not isinstance(identifier, str) or not _RS_IDENTIFIER.match(identifier):
        raise invalid(
            "identifier must be 1-256 printable characters without spaces, '\"' or '\\'.",
            "identifier",
        )
    name = _clean_rs_name(name)
    clean = _clean_scopes(list(scopes))
    with transaction.atomic():
        UserPool.objects.select_for_update().filter(pk=pool.pk).first()
        existing = ResourceServer.objects.filter(pool=pool)
        if existing.filter(identifier=identifier).exists():
            raise invalid(f"A resource server {identifier!r} already exists.", "identifier")
        if existing.count() >= MAX_RESOURCE_SERVERS:
            raise LimitExceededException(
                f"A pool can have at most {MAX_RESOURCE_SERVERS} resource servers."
            )
        return ResourceServer.objects.create(
            pool=pool, identifier=identifier, name=name, scopes=clean
        )


def update_resource_server(
    *, server: ResourceServer, name: str | None = None, scopes: list | tuple | None = None
) -> ResourceServer:
    """Rename a resource server or replace its scopes (the identifier is fixed). Scopes taken
    away are also taken away from the clients that were allowed them."""
    with transaction.atomic():
        if name is not None:
            server.name = _clean_rs_name(name)
        if scopes is not None:
            before = set(server.full_scopes)
            server.scopes = _clean_scopes(list(scopes))
            _drop_client_scopes(server.pool, before - set(server.full_scopes))
        server.save()
    return server


def delete_resource_server(*, server: ResourceServer) -> None:
    """Delete a resource server; its scopes are taken away from every client."""
    with transaction.atomic():
        _drop_client_scopes(server.pool, set(server.full_scopes))
        server.delete()
