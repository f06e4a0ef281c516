"""The default cache's counters on a SQLite database file, in a table of slots in a file next
to it that every server process maps into its memory: counting without a statement.

Every rate-limited request (token requests, sign-ins, JSON API calls) and every sign-in's
lockout counts in the cache (pool.services.counters). On the database cache each count is an
INSERT ... ON CONFLICT DO UPDATE ... RETURNING, i.e. a write transaction on the SQLite file,
serialised across every thread and process, and about 0.4 ms of CPU of a 1.3 ms client
credentials grant (measured in-process). All the processes that count on a SQLite database
share its file, so they can share a file next to it too, as pool.config_generation does for
its one count (same reasons, same file rules: pool.sidecar): `<database file>.counters`,
created when missing with the database file's permissions and never deleted (a process mapping
a deleted file would count alone). Like the database file, it serves the processes of one host.

The file is a 32-byte header and a fixed number of 32-byte slots. A slot holds 16 bytes of
BLAKE2b of the stored key, its expiry (epoch seconds, whole as the database cache stores
them, from the same wall clock: Django's `get_backend_timeout`) and its count. A key's slots
are PROBE consecutive ones from a place its digest picks (open addressing, bounded probe). An
empty, forgotten or expired slot is free; a key found expired starts again at 1 in its slot.
Every read-modify-write holds an exclusive flock on a descriptor of its own (a lock taken
through a descriptor shared with another thread or a forked process would not keep it out):
atomic across threads and processes, about a tenth of the statement's CPU.

When a new key finds no free slot among its PROBE (an attacker making keys faster than they
expire), its count goes to the database's statement as before: never a lost count. A key
then must never live in both places, so the header holds `overflow_until`, the latest expiry
of any counter sent to the database: until it passes, a key the file does not hold is counted,
read and forgotten in the database (keys the file holds stay in it). Once it passes, every
counter in the database has expired, and the file takes new keys again (a counter without a
timeout sent there keeps it so for good: no caller counts without one). Under a sustained
flood of new keys the counts cost what they cost before, no more. Two keys never share a slot:
a slot is a 128-bit digest's, and a window holds a digest once.

Lockout counters live here too (a key lives in exactly one store, and a successful sign-in's
`forget` then costs no statement). They hold across processes as before; they survive a
server restart as the file does (it is never deleted); a crash of the machine may lose the
counts of the last seconds that the kernel had not yet written back, at worst a few more free
guesses for a subject being guessed at that moment (a lock lasts 15 minutes at most anyway).
A backup of the database does not carry them: they are meant to live minutes.

Size: 2**17 slots (4 MiB, a sparse file: only touched pages cost memory). The keys that live
longest are the lockout's (31 minutes from the latest guess, one per guessed name); sign-ins
are bounded by argon2 (tens of milliseconds of CPU each: well under 100 per second on a small
server), so half an hour of guessing at that pace fills about half the table, and rate-limit
keys (one per client or address per window) are few beside them. Beyond it, the database.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import threading

from pool import sidecar

SUFFIX = ".counters"
SLOTS = 1 << 17
PROBE = 16
FOREVER = (1 << 63) - 1  # the expiry of a counter without a timeout

_HEADER = struct.Struct("<q24x")  # overflow_until
_SLOT = struct.Struct("<16sqq")  # key digest, expires, count
_EXPIRIES = struct.Struct("<" + "16xq8x" * PROBE)
_EMPTY = bytes(_SLOT.size)


def digest(stored_key: str) -> bytes:
    return hashlib.blake2b(stored_key.encode(), digest_size=16).digest()


class CounterSlots:
    """The mapped slot file of one database file."""

    def __init__(self, path: str, *, slots: int = SLOTS, mode: int = 0o666) -> None:
        self.path = path
        self.mode = mode
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # the first process sizes it; the others agree
            size = os.fstat(fd).st_size
            if size < _HEADER.size + PROBE * _SLOT.size:
                size = _HEADER.size + max(slots, PROBE) * _SLOT.size
                os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size, mmap.MAP_SHARED)
            # The mapping keeps a duplicate of `fd`, whose lock closing `fd` would not release.
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        self.slots = (size - _HEADER.size) // _SLOT.size
        self._places = self.slots - PROBE + 1

    def _lock(self) -> int:
        fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def _find(self, key: bytes) -> tuple[int, int]:
        """The window of `key`'s slots, and the offset of its slot there (-1: none)."""
        window = _HEADER.size + int.from_bytes(key[:8], "little") % self._places * _SLOT.size
        end = window + PROBE * _SLOT.size
        found = self._map.find(key, window, end)
        while found != -1 and (found - window) % _SLOT.size:  # a match across two slots
            found = self._map.find(key, found + 1, end)
        return window, found

    def _overflow_until(self) -> int:
        return _HEADER.unpack_from(self._map)[0]

    def count(self, key: bytes, *, expires: int, now: int, slide: bool) -> int | None:
        """Count one event on `key` and return the count including it; None when the
        database counts it (no free slot, or counters live there: module docstring)."""
        fd = self._lock()
        try:
            window, found = self._find(key)
            if found != -1:
                _, expiry, count = _SLOT.unpack_from(self._map, found)
                if expiry < now:
                    count, expiry = 0, expires
                elif slide:
                    expiry = expires
                _SLOT.pack_into(self._map, found, key, expiry, count + 1)
                return count + 1
            overflow_until = self._overflow_until()
            if overflow_until < now:
                expiries = _EXPIRIES.unpack_from(self._map, window)
                for place, expiry in enumerate(expiries):
                    if expiry < now:
                        _SLOT.pack_into(self._map, window + place * _SLOT.size, key, expires, 1)
                        return 1
            _HEADER.pack_into(self._map, 0, max(overflow_until, expires))
            return None
        finally:
            os.close(fd)  # releases the lock

    def value(self, key: bytes, *, now: int) -> int | None:
        """The live count on `key` (0: none); None when the database may hold it."""
        fd = self._lock()
        try:
            _, found = self._find(key)
            if found != -1:
                _, expiry, count = _SLOT.unpack_from(self._map, found)
                return count if expiry >= now else 0
            return None if self._overflow_until() >= now else 0
        finally:
            os.close(fd)

    def forget(self, key: bytes, *, now: int) -> tuple[bool, bool]:
        """Free `key`'s slot: (whether it held a live count, whether the database may hold
        counters too and must forget it as well)."""
        fd = self._lock()
        try:
            _, found = self._find(key)
            live = False
            if found != -1:
                live = _SLOT.unpack_from(self._map, found)[1] >= now
                self._map[found : found + _SLOT.size] = _EMPTY
            return live, self._overflow_until() >= now
        finally:
            os.close(fd)

    def clear(self) -> None:
        fd = self._lock()
        try:
            self._map[:] = bytes(len(self._map))
        finally:
            os.close(fd)


# (database NAME, slots asked for) -> its slots (None: statements)
_stores: dict[tuple[str, int], CounterSlots | None] = {}
_stores_lock = threading.Lock()


def for_connection(connection, slots: int) -> CounterSlots | None:
    """The slots of `connection`'s database file; None for an in-memory SQLite database,
    PostgreSQL (several hosts share it; none would see another's file) or `slots` 0."""
    place = (connection.settings_dict["NAME"], slots)
    try:
        return _stores[place]
    except KeyError:
        pass
    with _stores_lock:
        if place not in _stores:
            _stores[place] = _new(connection, slots)
        return _stores[place]


def _new(connection, slots: int) -> CounterSlots | None:
    place = sidecar.next_to_database(connection, SUFFIX) if slots else None
    if place is None:
        return None
    path, mode = place
    return CounterSlots(path, slots=slots, mode=mode)
