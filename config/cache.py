"""The shared caches: `SharedRedisCache` with REDIS_URL, otherwise `SharedDatabaseCache`.

SharedRedisCache is Django's RedisCache with two costs of the hot paths removed (measured
in-process on PostgreSQL + Redis: a counted request spent about 1 ms of CPU in the Redis
client, for three round trips):
- Django builds a new `redis.Redis` object for every cache call (about 0.17 ms of CPU with
  redis-py 8); here each connection pool has one, made once. A redis.Redis object is
  thread-safe: each command takes a connection from the pool and gives it back.
- `count` (pool.services.counters.hit) is one command, EVALSHA of a script that runs SET NX EX
  then INCR, where Django's add + incr cost three round trips (SET NX, EXISTS, INCR) and a
  fourth (EXPIRE) when the key expired between them. A script runs atomically: nothing runs
  between its commands, so every count gets its own number and a key never lives without its
  expiry (as MULTI/EXEC would, for twice the client's CPU: four commands and four replies).

SharedDatabaseCache is the default without REDIS_URL: Django's database cache, on the
database every server process already shares (table `cognate_cache`, made by pool's
migration 0015).

Lockout counters, rate limits and the version numbers that announce a key rotation or a pool
change must be seen by every process at once. Django's in-process LocMemCache is not: two
gunicorn workers would each allow the full number of wrong passwords. So the default is this
one, and the per-process cache is an explicit choice (COGNATE_CACHE=memory) that
config/gunicorn.py refuses to combine with more than one worker.

Five changes to Django's DatabaseCache, for pool.services.counters and the lockout:
- `set`, `set_many` and `add` are one INSERT ... ON CONFLICT statement each (SQLite and
  PostgreSQL; `add` also replaces an expired entry atomically), and `touch` one UPDATE.
  Django's set costs five (a COUNT(*) of the whole table for its cull check, BEGIN, SELECT,
  INSERT or UPDATE, COMMIT), and that COUNT is O(table): a lockout key per guessed name makes
  the table as large as an attacker likes.
- `incr` is atomic and keeps the entry's expiry, as Redis's INCR does. Django's generic incr
  reads, adds and writes back with `set`, so two parallel increments can both write "5", and
  the write gives the entry the default timeout (300 s), cutting a 30-minute lockout series or
  a never-expiring version number short. Here the row is locked (SELECT ... FOR UPDATE on
  PostgreSQL; SQLite's IMMEDIATE transactions take the write lock at BEGIN) for the read and
  the write of the value alone.
- Counters (pool.services.counters) live in their own table of integers, `cognate_counter`:
  `count` is ONE statement (INSERT ... ON CONFLICT DO UPDATE SET count = count + 1 ...
  RETURNING count), atomic on SQLite and PostgreSQL, where add-then-incr costs an INSERT,
  a BEGIN, a locked SELECT, an UPDATE and a COMMIT on every counted request (a rate-limited
  token request, every sign-in). `count(slide=True)` also renews the counter's expiry in
  the same statement (a lockout's count of failures lives from its last failure).
  On a SQLite database FILE the counters live in a slot file next to it instead
  (config/counter_slots.py), mapped into every process: counting takes no statement, no write
  transaction on the database, and the table takes only what the slot file has no room for.
  `count_value`, `forget_count`, `delete` and `clear` look in both, so each key lives in one.
  OPTIONS COUNTER_SLOTS sizes the slot file (0: the table alone, as on PostgreSQL and an
  in-memory database).
- Deleting keys deletes them from both tables (one statement on PostgreSQL).
- Culling drops expired entries only, at most once a minute per process, after a write.
  Django's cull also deletes a third of the live entries when the table is full, which would
  let anyone who fills the cache (one request per unknown user name) wipe the lockout counts
  of real users.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import pickle
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import connections, models, router, transaction
from django.utils import timezone
from redis.exceptions import NoScriptError

from config import counter_slots
from pool.models.cache import COUNTER_TABLE


class _KeptClients(RedisCacheClient):
    """Django's Redis client wrapper, keeping one redis.Redis per connection pool."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)
            client = self._clients.setdefault(index, self._client(connection_pool=pool))
        return client


# `count` on Redis: SET NX EX then INCR (or, when the expiry slides, INCR then EXPIRE), run by
# the server as one command. A script runs atomically, as MULTI/EXEC does: nothing runs between
# its commands, so every count gets its own number and the key never lives without its expiry.
# ARGV: the expiry in seconds (0: none), "1" when it slides.
COUNT_SCRIPT = """
local key, ttl = KEYS[1], tonumber(ARGV[1])
if ttl > 0 and ARGV[2] == "1" then
  local count = redis.call("INCR", key)
  redis.call("EXPIRE", key, ttl)
  return count
end
if ttl > 0 then
  redis.call("SET", key, 0, "NX", "EX", ttl)
else
  redis.call("SET", key, 0, "NX")
end
return redis.call("INCR", key)
"""
COUNT_SCRIPT_SHA = hashlib.sha1(COUNT_SCRIPT.encode()).hexdigest()  # noqa: S324 (Redis's id)


class SharedRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _KeptClients

    def count(self, key: str, *, timeout: int | None, slide: bool = False) -> int:
        """Count one event on `key` (created at 0 with `timeout` seconds to live if missing)
        and return the count including it: one command (EVALSHA of COUNT_SCRIPT), atomic.
        With `slide` the key gets `timeout` seconds again. MULTI, SET, INCR and EXEC in one
        pipeline cost the client twice as much CPU (four commands packed, four replies read)."""
        stored_key = self.make_and_validate_key(key)
        expiry = self.get_backend_timeout(timeout)
        ttl = 0 if expiry is None else max(expiry, 1)
        client = self._cache.get_client(stored_key, write=True)
        arguments = (1, stored_key, ttl, "1" if slide else "0")
        try:
            return int(client.evalsha(COUNT_SCRIPT_SHA, *arguments))
        except NoScriptError:  # a new or restarted server, or SCRIPT FLUSH: load it again
            client.script_load(COUNT_SCRIPT)
            return int(client.evalsha(COUNT_SCRIPT_SHA, *arguments))


class SharedDatabaseCache(DatabaseCache):
    def __init__(self, table, params) -> None:
        super().__init__(table, params)
        options = params.get("OPTIONS") or {}
        self._slot_count = int(options.get("COUNTER_SLOTS", counter_slots.SLOTS))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """One statement (INSERT ... ON CONFLICT DO UPDATE). Django's set first counts the
        whole table for its cull check (O(table) on every write, and a lockout key per
        guessed name makes the table large), then SELECTs and writes in a transaction."""
        connection = self._writer()
        if connection.vendor not in UPSERT_VENDORS:
            return super().set(key, value, timeout, version)
        stored_key = self.make_and_validate_key(key, version=version)
        self._upsert(connection, {stored_key: value}, timeout, replace_live=True)
        return None

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        """All entries in one statement; returns the keys that failed (none), as Django's."""
        connection = self._writer()
        if connection.vendor not in UPSERT_VENDORS:
            return super().set_many(data, timeout, version)
        entries = {self.make_and_validate_key(key, version=version): v for key, v in data.items()}
        if entries:
            self._upsert(connection, entries, timeout, replace_live=True)
        return []

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """One statement: insert the entry, or replace an expired one; True if it did. Django's
        add costs a COUNT, a SELECT and a failing INSERT (a rolled-back transaction) when the
        key exists, which is every counted request after a window's first."""
        connection = self._writer()
        if connection.vendor not in UPSERT_VENDORS:
            return super().add(key, value, timeout, version)
        stored_key = self.make_and_validate_key(key, version=version)
        return self._upsert(connection, {stored_key: value}, timeout, replace_live=False) == 1

    def _upsert(self, connection, entries: dict, timeout, *, replace_live: bool) -> int:
        """Write `entries` (stored key -> value) in one INSERT ... ON CONFLICT DO UPDATE: every
        existing row with `replace_live`, otherwise expired ones only. Returns the rows written."""
        quote = connection.ops.quote_name
        table, key_column = quote(self._table), quote("cache_key")
        value_column, expires_column = quote("value"), quote("expires")
        adapt = connection.ops.adapt_datetimefield_value
        expires = adapt(self._expiry(timeout))
        rows, parameters = [], []
        for stored_key, value in entries.items():
            pickled = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            rows.append("(%s, %s, %s)")
            parameters += [stored_key, pickled, expires]
        upsert = (
            f"INSERT INTO {table} ({key_column}, {value_column}, {expires_column}) "  # noqa: S608
            f"VALUES {', '.join(rows)} ON CONFLICT ({key_column}) DO UPDATE SET "
            f"{value_column} = excluded.{value_column}, "
            f"{expires_column} = excluded.{expires_column}"
        )
        if not replace_live:
            upsert += f" WHERE {table}.{expires_column} < %s"
            parameters.append(_now(connection))
        with connection.cursor() as cursor:
            cursor.execute(upsert, parameters)
            written = cursor.rowcount
        self._cull_expired(connection)
        return written

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        """One UPDATE of a live entry's expiry (Django's touch also counts the table and
        reads the row first); True if the entry was there. A counter's expiry slides with
        `count(slide=True)` instead."""
        stored_key = self.make_and_validate_key(key, version=version)
        connection = self._writer()
        quote = connection.ops.quote_name
        expires_column = quote("expires")
        update = (
            f"UPDATE {quote(self._table)} SET {expires_column} = %s "  # noqa: S608
            f"WHERE {quote('cache_key')} = %s AND {expires_column} >= %s"
        )
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute(update, [adapt(self._expiry(timeout)), stored_key, _now(connection)])
            return cursor.rowcount == 1

    def _writer(self):
        """The connection of the database the cache writes to."""
        return connections[router.db_for_write(self.cache_model_class)]

    def _expiry(self, timeout) -> dt.datetime:
        """The `expires` value for `timeout`, as Django's database cache writes it."""
        backend_timeout = self.get_backend_timeout(timeout)
        if backend_timeout is None:
            return dt.datetime.max.replace(microsecond=0)
        return dt.datetime.fromtimestamp(backend_timeout, tz=dt.UTC).replace(microsecond=0)

    def incr(self, key, delta=1, version=None):
        """Add `delta` under a row lock, keeping the entry's expiry; ValueError when the key
        is missing or expired (as every Django cache)."""
        connection = self._writer()
        quote = connection.ops.quote_name
        table, key_column = quote(self._table), quote("cache_key")
        value_column, expires_column = quote("value"), quote("expires")
        stored_key = self.make_and_validate_key(key, version=version)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        select = (
            f"SELECT {value_column}, {expires_column} FROM {table} "  # noqa: S608
            f"WHERE {key_column} = %s{lock}"
        )
        update = f"UPDATE {table} SET {value_column} = %s WHERE {key_column} = %s"  # noqa: S608
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(select, [stored_key])
            row = cursor.fetchone()
            if row is None or _converted_expiry(row[1], connection) < timezone.now():
                raise ValueError(f"Key '{key}' not found")
            new_value = pickle.loads(base64.b64decode(row[0].encode())) + delta  # noqa: S301
            pickled = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol))
            cursor.execute(update, [pickled.decode("latin1"), stored_key])
        return new_value

    def decr(self, key, delta=1, version=None):
        return self.incr(key, -delta, version=version)

    # ------------------------------------------------------------------ counters

    def _counter_slots(self, connection) -> counter_slots.CounterSlots | None:
        """The counters' slot file of a SQLite database file (config/counter_slots.py), or
        None: their table (an in-memory database, PostgreSQL, OPTIONS COUNTER_SLOTS 0)."""
        return counter_slots.for_connection(connection, self._slot_count)

    def count(self, key: str, *, timeout: int | None, slide: bool = False) -> int:
        """Count one event on `key` and return the count including it. A missing or expired
        counter starts again at 1 with `timeout` seconds to live; a live one keeps its expiry
        (as Redis's INCR keeps a key's TTL), or with `slide` gets `timeout` seconds again. On
        a SQLite file in its slot file, without a statement; otherwise (or when the slot file
        says so) in one statement."""
        stored_key = self.make_and_validate_key(key)
        connection = self._writer()
        slots = self._counter_slots(connection)
        if slots is not None:
            expiry = self.get_backend_timeout(timeout)
            counted = slots.count(
                counter_slots.digest(stored_key),
                expires=counter_slots.FOREVER if expiry is None else int(expiry),
                now=int(time.time()),
                slide=slide,
            )
            if counted is not None:
                return counted
        now = _now(connection)
        upsert = _count_sql(connection, slide)
        parameters = [] if slide else [now]
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute(upsert, [stored_key, adapt(self._expiry(timeout)), now, *parameters])
            counted = cursor.fetchone()[0]
        if counted == 1:
            self._cull_expired(connection)
        return counted

    def count_value(self, key: str) -> int:
        """The live count on `key` (0 when missing or expired), without counting."""
        stored_key = self.make_and_validate_key(key)
        connection = connections[router.db_for_read(self.cache_model_class)]
        slots = self._counter_slots(connection)
        if slots is not None:
            counted = slots.value(counter_slots.digest(stored_key), now=int(time.time()))
            if counted is not None:
                return counted
        quote = connection.ops.quote_name
        select = (
            f"SELECT {quote('count')} FROM {quote(COUNTER_TABLE)} "  # noqa: S608
            f"WHERE {quote('counter_key')} = %s AND {quote('expires')} >= %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(select, [stored_key, _now(connection)])
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def forget_count(self, key: str) -> None:
        """Delete the counter on `key` (pool.services.counters.forget): from the slot file, or
        one statement on the counters' table, where `delete` deletes from both tables (two
        statements on SQLite)."""
        stored_key = self.make_and_validate_key(key)
        connection = self._writer()
        slots = self._counter_slots(connection)
        if slots is not None:
            _, in_table_too = slots.forget(counter_slots.digest(stored_key), now=int(time.time()))
            if not in_table_too:
                return
        quote = connection.ops.quote_name
        delete = f"DELETE FROM {quote(COUNTER_TABLE)} WHERE {quote('counter_key')} = %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(delete, [stored_key])

    def _base_delete_many(self, keys) -> bool:
        """Deleting a key deletes its counter too: a counter is a cache key like any other to
        its callers (a successful sign-in deletes the lockout's count of attempts,
        pool.services.lockout.reset), though it lives in its own table. On PostgreSQL both
        tables in one statement (two data-modifying CTEs)."""
        if not keys:
            return False
        connection = self._writer()
        keys = list(keys)
        slots = self._counter_slots(connection)
        in_slots, in_table_too = False, True
        if slots is not None:
            now = int(time.time())
            for stored_key in keys:
                live, in_table_too = slots.forget(counter_slots.digest(stored_key), now=now)
                in_slots = in_slots or live
        quote = connection.ops.quote_name
        places = ", ".join(["%s"] * len(keys))
        entries = f"DELETE FROM {quote(self._table)} WHERE {quote('cache_key')} IN ({places})"  # noqa: S608
        counters = f"DELETE FROM {quote(COUNTER_TABLE)} WHERE {quote('counter_key')} IN ({places})"  # noqa: S608
        with connection.cursor() as cursor:
            if not in_table_too:  # the counters are all in the slot file
                cursor.execute(entries, keys)
                return in_slots or cursor.rowcount > 0
            if connection.vendor == "postgresql":
                both = (
                    f"WITH entries AS ({entries} RETURNING 1), "  # noqa: S608 (names only)
                    f"counters AS ({counters} RETURNING 1) "
                    "SELECT (SELECT COUNT(*) FROM entries) + (SELECT COUNT(*) FROM counters)"
                )
                cursor.execute(both, keys + keys)
                return in_slots or cursor.fetchone()[0] > 0
            cursor.execute(entries, keys)
            deleted = cursor.rowcount
            cursor.execute(counters, keys)
            return in_slots or deleted + cursor.rowcount > 0

    def clear(self):
        connection = self._writer()
        slots = self._counter_slots(connection)
        if slots is not None:
            slots.clear()
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table in (self._table, COUNTER_TABLE):
                cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608

    def _cull_expired(self, connection) -> None:
        """Expired entries and counters are deleted after a write, at most once a minute per
        process (a new rate-limit window starts a new key every minute per client), instead of
        Django's COUNT(*) of the table before every write. Live ones never are (module
        docstring)."""
        global _next_cull
        moment = time.monotonic()
        if moment < _next_cull:
            return
        _next_cull = moment + CULL_SECONDS
        quote = connection.ops.quote_name
        now = _now(connection)
        with connection.cursor() as cursor:
            for table in (self._table, COUNTER_TABLE):
                cursor.execute(
                    f"DELETE FROM {quote(table)} WHERE {quote('expires')} < %s",  # noqa: S608
                    [now],
                )

    def _cull(self, db, cursor, now, num):
        """Django's cull (the fallback `set` of other databases): expired entries only."""
        connection = connections[db]
        quote = connection.ops.quote_name
        cursor.execute(
            f"DELETE FROM {quote(self._table)} WHERE {quote('expires')} < %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(now)],
        )


CULL_SECONDS = 60
_next_cull = 0.0

# Backends whose INSERT ... ON CONFLICT ... DO UPDATE ... WHERE the writes use (SQLite 3.24+).
UPSERT_VENDORS = frozenset({"sqlite", "postgresql"})


def _count_sql(connection, slide: bool) -> str:
    """DatabaseCache.count's statement, written once per database vendor (quoting is the
    vendor's) and `slide`: building it on every rate-limited request cost a tenth of the
    statement itself."""
    kept = _count_statements.get((connection.vendor, slide))
    if kept is not None:
        return kept
    quote = connection.ops.quote_name
    table = quote(COUNTER_TABLE)
    key_column, count, expires = quote("counter_key"), quote("count"), quote("expires")
    if slide:
        expiry = f"excluded.{expires}"
    else:
        expiry = (
            f"CASE WHEN {table}.{expires} < %s THEN excluded.{expires} ELSE {table}.{expires} END"
        )
    upsert = (
        f"INSERT INTO {table} ({key_column}, {count}, {expires}) "  # noqa: S608
        f"VALUES (%s, 1, %s) ON CONFLICT ({key_column}) DO UPDATE SET "
        f"{count} = CASE WHEN {table}.{expires} < %s THEN 1 ELSE {table}.{count} + 1 END, "
        f"{expires} = {expiry} RETURNING {count}"
    )
    _count_statements[(connection.vendor, slide)] = upsert
    return upsert


_count_statements: dict[tuple[str, bool], str] = {}


def _now(connection):
    """Now, as the database cache stores and compares `expires` (whole seconds)."""
    return connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))


def _converted_expiry(value, connection) -> dt.datetime:
    """The stored `expires` as an aware datetime, converted as Django's database cache does."""
    expression = models.Expression(output_field=models.DateTimeField())
    for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(
        connection
    ):
        value = converter(value, expression, connection)
    return value
