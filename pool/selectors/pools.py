"""Reading pools on the hot paths: a per-process copy of each pool row.

The OAuth endpoints (token, revocation, userInfo, JWKS, discovery) only need to know that the
pool exists and which it is, yet loading its wide row cost each of them more than signing a
token. A process keeps the pools it serves and reloads one when it is saved or deleted anywhere:
every save or delete replaces a version token in Django's cache (shared through Redis when
configured). Without a shared cache other processes cannot see that token, so an entry is also
reloaded after MAX_AGE_SECONDS, as pool.services.keys does for signing keys.

Pages that apply a pool's settings (sign-in, sign-up, MFA) read the row from the database.
"""

from __future__ import annotations

import copy
import functools
import threading
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from pool import crypto
from pool.models import UserPool

MAX_AGE_SECONDS = 60.0


@dataclass(frozen=True)
class _Entry:
    version: str
    pool: UserPool
    loaded_at: float  # time.monotonic()


_pools: dict[str, _Entry] = {}
_lock = threading.Lock()


def _version_key(pool_id: str) -> str:
    return f"pool-row:v:{pool_id}"


def _version(pool_id: str) -> str:
    """The pool's current version token. A random token, not a counter: when the cache is
    cleared or evicts it, a new one is made and every process reloads (a counter would start
    again at a value some process may still hold)."""
    key = _version_key(pool_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, crypto.token(12), timeout=None)
        version = cache.get(key) or ""
    return version


def _forget(pool_id: str) -> None:
    with _lock:
        _pools.pop(pool_id, None)
    cache.set(_version_key(pool_id), crypto.token(12), timeout=None)


@receiver(post_save, sender=UserPool, dispatch_uid="pool-row-cache-save")
@receiver(post_delete, sender=UserPool, dispatch_uid="pool-row-cache-delete")
def _pool_changed(sender, instance: UserPool, **kwargs) -> None:
    # At once (this process sees its own uncommitted write), and again once the write is
    # visible to everyone, so that nobody keeps the row as it was before the commit.
    pool_id = instance.pk
    _forget(pool_id)
    transaction.on_commit(lambda: _forget(pool_id), robust=True)


def cached_pool(pool_id: str) -> UserPool | None:
    """The pool with this id as last saved (a private copy), or None when there is none.
    Unknown ids are not remembered: a pool created a moment ago is found at once."""
    version = _version(pool_id)
    entry = _pools.get(pool_id)
    if (
        entry is None
        or entry.version != version
        or time.monotonic() - entry.loaded_at > MAX_AGE_SECONDS
    ):
        pool = UserPool.objects.filter(pk=pool_id).first()
        if pool is None:
            with _lock:
                _pools.pop(pool_id, None)
            return None
        entry = _Entry(version=version, pool=pool, loaded_at=time.monotonic())
        with _lock:
            _pools[pool_id] = entry
    return _private_copy(entry.pool)


def _private_copy(pool: UserPool) -> UserPool:
    """A copy no caller can change the cached row through: its own instance, and its own
    lists and dicts in the JSON fields (a deep copy of the whole model costs more)."""
    mine = copy.copy(pool)
    for name in _json_fields():
        setattr(mine, name, copy.deepcopy(getattr(pool, name)))
    return mine


@functools.cache
def _json_fields() -> tuple[str, ...]:
    return tuple(
        field.attname
        for field in UserPool._meta.concrete_fields
        if isinstance(field, models.JSONField)
    )
