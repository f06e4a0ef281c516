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
