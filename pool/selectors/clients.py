"""Reading app clients: the one check that a client a door names belongs to the pool it
addresses."""

from __future__ import annotations

import functools

from django.db.models import F

from pool.errors import ResourceNotFoundException
from pool.models import AppClient, UserPool
from pool.selectors import compiled
from pool.selectors.pools import cached_pool

# Cognito's message when a ClientId names no client of the pool.
CLIENT_NOT_FOUND = "User pool client does not exist."


def ensure_pool_client(pool: UserPool, client: AppClient | None) -> None:
    """Refuse a client of another pool as Cognito refuses an unknown ClientId. `None` (the
    console and commands acting for an operator) passes."""
    if client is not None and client.pool_id != pool.pk:
        raise ResourceNotFoundException(CLIENT_NOT_FOUND)


_CLIENT, _POOL = "\x01client", "\x01pool"


def _client_query():
    return AppClient.objects.filter(pool_id=_POOL, client_id=_CLIENT)


def pool_client(*, pool_id: str, client_id: str) -> AppClient | None:
    """The pool's app client `client_id`, or None: one query compiled once (the token and
    revocation endpoints' client authentication)."""
    built = compiled.query("pool-client", _client_query, {_CLIENT: "client", _POOL: "pool"}).fetch(
        {"client": client_id, "pool": pool_id}
    )
    return built[AppClient] if built is not None else None


def _client_version_query(*fields: str):
    """The client with the pool's config_version; with `fields`, only those columns (the
    others deferred: loaded when first used)."""
    query = AppClient.objects.filter(pool_id=_POOL, client_id=_CLIENT)
    if fields:
        query = query.only(*fields)
    return query.annotate(pool_version=F("pool__config_version"))[:1]


def _client_and_version(name: str, build, *, pool_id: str, client_id: str):
    """The client and pool version the compiled query `name` (built by `build`) finds, or
    None (no such client in that pool, or no such pool)."""
    read = compiled.query(name, build, {_CLIENT: "client", _POOL: "pool"})
    built = read.fetch({"client": client_id, "pool": pool_id})
    return (built[AppClient], built["pool_version"]) if built is not None else None


def pool_client_and_version(*, pool_id: str, client_id: str) -> tuple[AppClient, int] | None:
    """The pool's app client `client_id` with the pool's config_version, or None (no such
    client in that pool, or no such pool). One query compiled once: authorize's pool and
    client in one read."""
    return _client_and_version(
        "pool-client-version", _client_version_query, pool_id=pool_id, client_id=client_id
    )


# What the client_credentials grant uses of its client: authentication (the secret), the grant's
# checks (allowed flows, allowed scopes) and the token's lifetime. The other columns (URLs,
# attribute lists, branding, timestamps: six JSON decodes and two dozen conversions) are
# not read on that path; a deferred one is loaded when first used.
_CLIENT_CREDENTIALS_FIELDS = (
    "client_id",
    "pool_id",
    "secret",
    "allowed_oauth_flows",
    "allowed_oauth_scopes",
    "access_token_validity",
)
_client_credentials_query = functools.partial(_client_version_query, *_CLIENT_CREDENTIALS_FIELDS)


def client_credentials_client(*, pool_id: str, client_id: str) -> tuple[AppClient, int] | None:
    """pool_client_and_version for the client_credentials grant: the client with only the
    columns that grant uses, and the pool's config_version, or None. One query compiled once."""
    return _client_and_version(
        "client-credentials-client",
        _client_credentials_query,
        pool_id=pool_id,
        client_id=client_id,
    )


def _client_by_id_query():
    return AppClient.objects.filter(pk=_CLIENT).annotate(pool_version=F("pool__config_version"))[:1]


def client_with_pool(client_id: str) -> AppClient | None:
    """The app client `client_id` with its pool, or None. One query compiled once: the JSON
    API's ClientId actions (InitiateAuth on every password sign-in) name a client, not a pool,
    and building the query through the ORM cost more than running it. It reads the pool's
    config_version with the client, not the pool's wide row: the pool is the process's copy
    for that version (pool.selectors.pools.cached_pool), as current as the row."""
    built = compiled.query("client-by-id", _client_by_id_query, {_CLIENT: "client"}).fetch(
        {"client": client_id}
    )
    if built is None:
        return None
    client = built[AppClient]
    pool = cached_pool(client.pool_id, version=built["pool_version"])
    if pool is None:  # deleted meanwhile, with its clients
        return None
    client.pool = pool
    return client
