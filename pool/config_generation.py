"""A count of committed configuration changes, shared by every process on one SQLite database
file, that a process reads from memory.

Processes keep answers derived from a pool's configuration (config.front's JWKS and discovery)
and check them against the pool's `config_version` (pool.selectors.pools). That check is one
indexed read per request; in a threaded server it costs more than the rest of such an answer
(the GIL changes hands around each sqlite3 call). On SQLite all the processes that can change
the configuration share the database file, so they can share a file next to it too:
`<database file>.config-generation` holds an 8-byte counter, mapped into each process's memory
once. Every commit that changes a pool's config_version (pool.models.pool: UserPool.save,
bump_config_version, a pool's deletion) adds one to it once it is committed (`bump_after_commit`).
A reader that noted the count when it last read a version may skip reading the version again
while the count has not moved (`current`: a memory read, no system call). The count moves after
the commit and before the changing call returns, and a reader notes it BEFORE reading the
version: a request that starts after a change returned sees the change.

- PostgreSQL (several hosts share it; none would see another's file), an in-memory SQLite
  database, or a connection inside a transaction (whose own changes are counted only when it
  commits): `current` is None and the caller reads the version as before.
- The file is created when missing and never deleted (a process mapping a deleted file would
  not see later counts). Changes made without this code (a backup file restored under running
  servers, SQL typed by hand) are not counted: restart the servers after them.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading

from django.db import DEFAULT_DB_ALIAS, connections, transaction

SUFFIX = ".config-generation"
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


_counters: dict[str, Counter | None] = {}  # database NAME -> its counter (None: none kept)
_lock = threading.Lock()


def _counter(connection) -> Counter | None:
    name = connection.settings_dict["NAME"]
    try:
        return _counters[name]
    except KeyError:
        pass
    with _lock:
        if name not in _counters:
            _counters[name] = _new_counter(connection)
        return _counters[name]


def _new_counter(connection) -> Counter | None:
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return None
    database = os.fspath(connection.settings_dict["NAME"])
    try:
        mode = os.stat(database).st_mode & 0o666  # as readable and writable as the database
    except FileNotFoundError:
        mode = 0o666
    return Counter(database + SUFFIX, mode)


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
    counter = _counter(connections[DEFAULT_DB_ALIAS])
    if counter is not None:
        transaction.on_commit(counter.increment)
