"""One atomic counter in the shared cache, for lockouts, rate limits and per-user caps.

A counter that is read, compared and then written can be raced: N parallel requests all read
"4 of 5" before any of them writes. Here a request *counts itself first* and then looks at the
number it got back: `hit()` adds one and returns the new value in a single cache operation, so
every request of a burst gets a different number and exactly `limit` of them get one at or
below the limit.

A cache that can count in one operation does (`count`), as both shared caches of
config/cache.py do (the database one keeps counters in their own table and reads them with
`count_value`): on Redis (SharedRedisCache) SET NX EX and INCR in one atomic script, one
command (INCR and EXPIRE for a sliding expiry); in the default database cache one INSERT ... ON
CONFLICT DO UPDATE ... RETURNING, or on a SQLite database file no statement at all (a slot of a
file every process maps, changed under a file lock: config/counter_slots.py). Otherwise
(LocMemCache, a cache someone configured) the single operation is `cache.add` (creates the key
at 1, with its timeout, only if missing) followed, when the key already exists, by
`cache.incr`, atomic where the cache's add and incr are (LocMemCache holds its lock for
each): never a read-modify-write.

Counters are not reset by writing: a new period (a rate-limit window, a new lockout series)
uses a new key, and old keys expire on their own.
"""

from __future__ import annotations

from django.core.cache import cache


def hit(key: str, *, timeout: int | None, slide: bool = False) -> int:
    """Count one event on `key` and return the count including it. The key lives `timeout`
    seconds (wall time) from its first event, or with `slide` from its latest one; None keeps
    it until the cache drops it."""
    count_in_one_step = getattr(cache, "count", None)
    if count_in_one_step is not None:  # a cache that counts in one operation (config/cache.py)
        return count_in_one_step(key, timeout=timeout, slide=slide)
    while True:
        if cache.add(key, 1, timeout=timeout):
            return 1
        try:
            count = cache.incr(key)
        except ValueError:  # expired or evicted between add and incr: start it again
            continue
        if count == 1 or slide:
            # A sliding key gets its timeout again. And Redis's INCR recreates a key that
            # expired between RedisCache's EXISTS and INCR without a timeout: give it one, so
            # it cannot outlive its purpose.
            cache.touch(key, timeout=timeout)
        return count


def within(key: str, *, limit: int, timeout: int) -> bool:
    """Count one event on `key`; True while the count, this event included, is at most
    `limit`. Events past the limit are counted too (a refused request still knocked)."""
    return hit(key, timeout=timeout) <= limit


def forget(key: str) -> None:
    """Drop the counter on `key`: its next event counts 1 (a success forgets a lockout's
    count). One statement on the database cache (its counters' table alone), none on a SQLite
    file's slot file."""
    forget_count = getattr(cache, "forget_count", None)
    if forget_count is not None:
        forget_count(key)
    else:
        cache.delete(key)


def value(key: str) -> int:
    """The current count on `key`, without counting (for the console and tests)."""
    count_value = getattr(cache, "count_value", None)
    if count_value is not None:
        return count_value(key)
    return int(cache.get(key) or 0)
