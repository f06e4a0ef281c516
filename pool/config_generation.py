"""A count of committed configuration changes, shared by every process on one database, that
a process reads from memory.

Processes keep answers derived from a pool's configuration (config.front's JWKS and discovery,
pool.selectors.pools' copies of pool rows) and check them against the pool's `config_version`.
That check is one indexed read per request; in a threaded server it costs more than the rest of
such an answer (on SQLite the GIL changes hands around each sqlite3 call, on PostgreSQL it is a
round trip). Every commit that changes a pool's config_version (pool.models.pool: UserPool.save,
bump_config_version, a pool's deletion) moves a count (`bump_after_commit`). A reader that noted
the count when it last read a version may skip reading the version again while the count has not
moved (`current`). The count moves after the commit and before the changing call returns, and a
reader notes it BEFORE reading the version: a request that starts after a change returned sees
the change (on PostgreSQL: in the changing process; see below for the others).

- A SQLite file: all the processes that can change the configuration share the file, so they
  share a file next to it too: `<database file>.config-generation` holds an 8-byte counter,
  mapped into each process's memory once (`current`: a memory read, no system call). The file
  is created when missing and never deleted (a process mapping a deleted file would not see
  later counts).
- PostgreSQL (several hosts share it; none would see another's file): LISTEN/NOTIFY. The
  changing transaction also runs `SELECT pg_notify(CHANNEL, <the process's token>)`, which
  PostgreSQL delivers to every listening session when (and only if) it commits; the changing
  process moves its own count once it commits (and skips its own notification coming back).
  Each process (per pid: gunicorn forks) keeps one autocommit connection of its own that
  LISTENs (`Listener`); `current` drains what arrived on it without blocking (libpq's
  consume-input and notifies: a non-blocking recv(), no round trip, no thread) and adds it to
  the process's count. The one weaker edge: another process or host sees a change once the
  notification reaches its listening connection (normally well under a millisecond after the
  commit), where reading the version sees it at the commit itself; a request that starts in
  that moment may still get the answer kept before the change. When
  that connection is not up (not yet connected, broken, its reconnection failing: retried
  after RETRY_SECONDS, not on every request) `current` is None and callers read the version:
  a listener that died never makes an answer stale. A notification sent while it was down is
  lost, so the count moves once it is listening again (callers read the version once more).
  A connection cut without the host learning it (a network partition that drops packets
  silently) is noticed by TCP keepalives (LISTEN_OPTIONS: about 11 s); until then the process
  keeps its answers. settings.CONFIG_LISTEN_URL (DATABASE_LISTEN_URL) names where to listen
  when DATABASE_URL goes through a pooler in transaction mode (which cannot keep a LISTEN),
  or `off`: then `current` is None on PostgreSQL and every request reads the version.
- An in-memory SQLite database, or a connection inside a transaction (whose own changes are
  counted only when it commits): `current` is None and the caller reads the version as before.
- Changes made without this code (a backup restored under running servers, SQL typed by hand)
  are not counted: restart the servers after them (on PostgreSQL, `NOTIFY
  cognate_config_changed` once committed does as well).
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import secrets
import struct
import threading
import time
from collections.abc import Callable

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from pool import sidecar

SUFFIX = ".config-generation"
CHANNEL = "cognate_config_changed"
RETRY_SECONDS = 5.0  # between attempts to (re)connect the listening connection
# The listening connection's own libpq options (the database's OPTIONS win): a bounded wait to
# connect (one request thread waits; the others read versions meanwhile), and TCP keepalives on
# the idle connection, so that a peer gone silently is noticed after about keepalives_idle +
# count x interval seconds (no effect over a Unix socket).
LISTEN_OPTIONS = {
    "connect_timeout": 3,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}
_COUNT = struct.Struct("<Q")
_WRAP = 1 << 64


class Counter:
    """The mapped counter file of one database file."""

    def __init__(self, path: str, mode: int = 0o666) -> None:
        self.path = path
        self.mode = mode
        fd = self._open()
        try:
            if os.fstat(fd).st_size < _COUNT.size:
                os.ftruncate(fd, _COUNT.size)  # never shrinks one another process filled
            self._map = mmap.mmap(fd, _COUNT.size, mmap.MAP_SHARED)
        finally:
            os.close(fd)  # the mapping stays

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, self.mode)

    def value(self) -> int:
        return _COUNT.unpack_from(self._map)[0]

    def increment(self) -> None:
        """One more, under an exclusive lock on a descriptor of its own (a lock held through a
        descriptor inherited across fork would not keep the other process out)."""
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _COUNT.pack_into(self._map, 0, (self.value() + 1) % _WRAP)
        finally:
            os.close(fd)  # releases the lock


class Listener:
    """One process's LISTEN connection to a PostgreSQL database, and the count of
    notifications it received (plus this process's own committed changes). `value` never
    blocks on the network except to (re)connect, which one thread at a time tries, the others
    reading the version meanwhile."""

    def __init__(self, connect: Callable[[], psycopg.Connection]) -> None:
        self._connect = connect
        self._connection: psycopg.Connection | None = None
        self._count = 0
        self._retry_at = 0.0  # time.monotonic() before which no reconnection is tried
        self._lock = threading.Lock()  # guards the connection and the count
        self._connecting = threading.Lock()
        # What this process's notifications carry: it counts its own changes at their commit,
        # not again (and a little later) when they come back to it.
        self.sender = secrets.token_hex(8).encode()

    def value(self) -> int | None:
        with self._lock:
            connection = self._connection
            if connection is not None:
                try:
                    pgconn = connection.pgconn
                    pgconn.consume_input()  # what arrived, without waiting for more
                    while (notice := pgconn.notifies()) is not None:
                        if notice.extra != self.sender:  # its own: counted at its commit
                            self._count += 1
                    if pgconn.status == psycopg.pq.ConnStatus.OK:
                        return self._count
                except psycopg.Error:
                    pass
                self._drop(connection)
                return None
        return self._reconnect()

    def _reconnect(self) -> int | None:
        if time.monotonic() < self._retry_at or not self._connecting.acquire(blocking=False):
            return None
        try:
            if self._connection is not None:  # another thread connected meanwhile
                return None
            try:
                connection = self._connect()
                connection.execute(f"LISTEN {CHANNEL}")
            except Exception:  # noqa: BLE001 (any failure: read versions, try again later)
                self._retry_at = time.monotonic() + RETRY_SECONDS
                return None
            with self._lock:
                self._connection = connection
                # Whatever was committed while nobody listened went unannounced: move the
                # count so that every kept answer is checked once more.
                self._count += 1
                return self._count
        finally:
            self._connecting.release()

    def _drop(self, connection: psycopg.Connection) -> None:
        self._connection = None
        self._retry_at = time.monotonic() + RETRY_SECONDS
        with contextlib.suppress(psycopg.Error):  # already broken
            connection.close()

    def increment(self) -> None:
        """This process's own change, committed: seen by its next request at once."""
        with self._lock:
            self._count += 1

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._retry_at = 0.0


# database NAME -> its counter (None: none kept); PostgreSQL's per process id (a forked child
# never uses its parent's connection)
_counters: dict[object, Counter | Listener | None] = {}
_lock = threading.Lock()


def _counter(connection) -> Counter | Listener | None:
    name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        name = (name, os.getpid())
    try:
        return _counters[name]
    except KeyError:
        pass
    with _lock:
        if name not in _counters:
            _counters[name] = _new_counter(connection)
        return _counters[name]


def _new_counter(connection) -> Counter | Listener | None:
    if connection.vendor == "postgresql":
        return _new_listener(connection)
    place = sidecar.next_to_database(connection, SUFFIX)
    return Counter(*place) if place is not None else None


def _new_listener(connection) -> Listener | None:
    url = settings.CONFIG_LISTEN_URL
    if url.lower() == "off":
        return None
    if url:
        return Listener(lambda: psycopg.connect(url, autocommit=True, **LISTEN_OPTIONS))
    params = connection.get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    params = {**LISTEN_OPTIONS, **params}  # the database's own OPTIONS win
    return Listener(lambda: psycopg.connect(autocommit=True, **params))


def current() -> int | None:
    """The count of configuration changes committed to this database, or None when it does
    not tell (see the module's docstring): then read the version itself."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        return None
    counter = _counter(connection)
    return counter.value() if counter is not None else None


def bump_after_commit() -> None:
    """Count a configuration change once the caller's transaction commits (at once outside
    one); nothing when it rolls back."""
    connection = connections[DEFAULT_DB_ALIAS]
    counter = _counter(connection)
    if connection.vendor == "postgresql":
        sender = counter.sender.decode() if isinstance(counter, Listener) else ""
        with connection.cursor() as cursor:  # delivered by PostgreSQL at the commit
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, sender])
    if counter is not None:
        transaction.on_commit(counter.increment)


def stop_listening() -> None:
    """Close this process's listening connections (before their database is dropped: the
    test run's end); the next `current` connects again."""
    with _lock:
        for counter in _counters.values():
            if isinstance(counter, Listener):
                counter.close()
