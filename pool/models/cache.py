"""The table behind the default cache (config/cache.py) when REDIS_URL is not set.

Lockout counters, rate limits and the version numbers that tell every process a pool's keys or
settings changed live in Django's cache; without Redis they live here, in the database every
server process already shares, so that two gunicorn workers count the same wrong passwords.
Created by a migration (no `createcachetable` step to forget); the columns are the ones
Django's database cache reads and writes.
"""

from __future__ import annotations

from django.db import models

TABLE = "cognate_cache"


class CacheEntry(models.Model):
    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = TABLE

    def __str__(self) -> str:
        return self.cache_key


COUNTER_TABLE = "cognate_counter"


class Counter(models.Model):
    """A counter of the default cache (lockouts, rate limits, per-user caps): an integer the
    database adds to itself, so that counting is one statement (config/cache.py `count`)
    instead of a read, an add in Python and a write of a pickled value under a row lock."""

    counter_key = models.CharField(max_length=255, primary_key=True)
    count = models.BigIntegerField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = COUNTER_TABLE

    def __str__(self) -> str:
        return f"{self.counter_key}={self.count}"
