"""Reading app clients: the one check that a client a door names belongs to the pool it
addresses."""

from __future__ import annotations

from pool.errors import ResourceNotFoundException
from pool.models import AppClient, UserPool

# Cognito's message when a ClientId names no client of the pool.
CLIENT_NOT_FOUND = "User pool client does not exist."


def ensure_pool_client(pool: UserPool, client: AppClient | None) -> None:
    """Refuse a client of another pool as Cognito refuses an unknown ClientId. `None` (the
    console and commands acting for an operator) passes."""
    if client is not None and client.pool_id != pool.pk:
        raise ResourceNotFoundException(CLIENT_NOT_FOUND)
