"""One atomic counter in the shared cache, for lockouts, rate limits and per-user caps.

A counter that is read, compared and then written can be raced: N parallel requests all read
"4 of 5" before any of them writes. Here a request *counts itself first* and then looks at the
number it got back: `hit()` adds one and returns the new value in a single cache operation, so
every request of a burst gets a different number and exactly `limit` of them get one at or
below the limit.

On Redis (config.cache.SharedRedisCache) the single operation is the cache's `count`: SET NX EX
and INCR in one MULTI/EXEC round trip. On the other caches it is `cache.add` (creates the key
at 1, with its timeout, only if missing) followed, when the key already exists, by
`cache.incr`. Both are atomic on those caches (config/settings.py): LocMemCache holds its lock
for each, Django's RedisCache maps them to `SET NX EX` and `INCR`, and the default database
cache (config/cache.py) inserts under the primary key and increments under a row lock. No Lua,
no read-modify-write.

Counters are not reset by writing: a new period (a rate-limit window, a new lockout series)
uses a new key, and old keys expire on their own.
"""

from __future__ import annotations

from django.core.cache import cache


def hit(key: str, *, timeout: int | None) -> int:
    """Count one event on `key` and return the count including it. The key lives `timeout`
    seconds (wall time) from its first event; None keeps it until the cache drops it."""
    count = getattr(cache, "count", None)
    if count is not None:
        return count(key, timeout=timeout)
    while True:
        if cache.add(key, 1, timeout=timeout):
            return 1
        try:
            count = cache.incr(key)
        except ValueError:  # expired or evicted between add and incr: start it again
            continue
        if count == 1:
            # Redis's INCR recreated a key that expired between RedisCache's EXISTS and INCR,
            # without a timeout: give it one, so it cannot outlive its purpose.
            cache.touch(key, timeout=timeout)
        return count


def within(key: str, *, limit: int, timeout: int) -> bool:
    """Count one event on `key`; True while the count, this event included, is at most
    `limit`. Events past the limit are counted too (a refused request still knocked)."""
    return hit(key, timeout=timeout) <= limit


def value(key: str) -> int:
    """The current count on `key`, without counting (for the console and tests)."""
    return int(cache.get(key) or 0)
