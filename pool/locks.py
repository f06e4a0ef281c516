"""The lock that orders a pool change against the creation of users, on PostgreSQL.

A pool change (pool/services/pool_changes.py) rewrites every user's sign-in keys under the new
rules; a user created meanwhile must not claim keys under the old ones. Each user creation
holds the pool's advisory lock shared (creations never wait for each other), a pool change holds
it exclusive: it waits for creations in flight, and creations that start meanwhile wait for it,
then read the rules it committed. An advisory lock, not a lock on the pool row: code that locks
a user together with its pool row (`select_for_update().select_related("pool")`) would deadlock
with creations holding the row. Transaction-scoped; SQLite's write transactions are serial
already, so there it does nothing.
"""

from __future__ import annotations

import zlib

from django.db import connection

# The first key of the two-key advisory lock: this lock's namespace.
_NAMESPACE = 0x636F67  # "cog"


def _key(pool_id: str) -> int:
    return zlib.crc32(pool_id.encode()) - 2**31  # a signed 32-bit int


def _take(function: str, pool_id: str) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [_NAMESPACE, _key(pool_id)])  # noqa: S608


def creating_users(pool_id: str) -> None:
    """Held by each user creation (call inside its transaction)."""
    _take("pg_advisory_xact_lock_shared", pool_id)


def changing_pool(pool_id: str) -> None:
    """Held by a pool change (call inside its transaction, before any row lock)."""
    _take("pg_advisory_xact_lock", pool_id)
