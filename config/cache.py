"""The default cache without REDIS_URL: Django's database cache, on the database every server
process already shares (table `cognate_cache`, made by pool's migration 0013).

Lockout counters, rate limits and the version numbers that announce a key rotation or a pool
change must be seen by every process at once. Django's in-process LocMemCache is not: two
gunicorn workers would each allow the full number of wrong passwords. So the default is this
one, and the per-process cache is an explicit choice (COGNATE_CACHE=memory) that
config/gunicorn.py refuses to combine with more than one worker.

Two changes to Django's DatabaseCache, both for pool.services.counters:
- `incr` is atomic and keeps the entry's expiry, as Redis's INCR does. Django's generic incr
  reads, adds and writes back with `set`, so two parallel increments can both write "5", and
  the write gives the entry the default timeout (300 s), cutting a 30-minute lockout series or
  a never-expiring version number short. Here the row is locked (SELECT ... FOR UPDATE on
  PostgreSQL; SQLite's IMMEDIATE transactions take the write lock at BEGIN) for the read and
  the write of the value alone.
- Culling drops expired entries only. Django's cull also deletes a third of the live entries
  when the table is full, which would let anyone who fills the cache (one request per unknown
  user name) wipe the lockout counts of real users.
"""

from __future__ import annotations

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction


class SharedDatabaseCache(DatabaseCache):
    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)
        stored_key = self.make_and_validate_key(key, version=version)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db):
            with connection.cursor() as cursor:
                # Quoted names; the key is a parameter.
                key_column = quote("cache_key")
                select = f"SELECT {key_column} FROM {table} WHERE {key_column} = %s"  # noqa: S608
                cursor.execute(select + lock, [stored_key])
            value = self.get(key, self._missing_key, version=version)
            if value is self._missing_key:
                raise ValueError(f"Key '{key}' not found")
            new_value = value + delta
            pickled = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {quote('value')} = %s WHERE {quote('cache_key')} = %s",  # noqa: S608
                    [pickled.decode("latin1"), stored_key],
                )
        return new_value

    def decr(self, key, delta=1, version=None):
        return self.incr(key, -delta, version=version)

    def _cull(self, db, cursor, now, num):
        connection = connections[db]
        quote = connection.ops.quote_name
        cursor.execute(
            f"DELETE FROM {quote(self._table)} WHERE {quote('expires')} < %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(now)],
        )
