"""Reading app clients: the one check that a client a door names belongs to the pool it
addresses."""

from __future__ import annotations

from pool.errors import ResourceNotFoundException
from pool.models import AppClient, UserPool
from pool.selectors import compiled

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
