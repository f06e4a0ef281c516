"""Reading pools on the hot paths: a per-process copy of each pool row.

The OAuth endpoints (token, revocation, userInfo, JWKS, discovery) only need to know that the
pool exists and which it is, yet loading its wide row cost each of them more than signing a
token. A process keeps the pools it serves and reloads one when its `config_version` changed:
every save of the row, key rotation, trigger or resource-server change replaces that number
in the same transaction (UserPool.save, bump_config_version). The version is read from the
database, by one tiny query (`current_version`) or, on the refresh grant, in the same SQL as the
token row; a change made by any process is therefore seen by every process at once, with or
without a shared cache, and costs no cache round trip. `cached_pool` (and config.front's kept
JWKS and discovery answers) skip even that read while pool.config_generation's count of
committed configuration changes holds (a SQLite file's shared count; PostgreSQL's LISTEN/NOTIFY).

The JSON API's ClientId actions (InitiateAuth and the rest) take the copy too, for the version
read with their client row (pool.selectors.clients.client_with_pool): as current as reading the
row. So do authorize and the hosted pages (sign-in, sign-up, MFA...), with the version read with
the app client their request names (pool.selectors.clients.pool_client_and_version).
"""

from __future__ import annotations

import copy
import functools
import re
import threading

from django.db import connection, models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from pool import config_generation
from pool.models import ResourceServer, SigningKey, Trigger, UserPool
from pool.models.pool import bump_config_version
from pool.selectors import compiled

# Cognito's UserPoolId shape. Checked before any lookup, so that odd input (a NUL byte, which
# PostgreSQL cannot even compare) is "no such pool", never a database error.
POOL_ID = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$", re.ASCII)
MAX_POOL_ID_LENGTH = 55

_pools: dict[str, UserPool] = {}
# pool id -> the copy whose version was last read, with pool.config_generation's count noted
# before that read (one value: the pair is replaced together by concurrent readers)
_checked: dict[str, tuple[UserPool, int]] = {}


def valid_pool_id(pool_id: object) -> bool:
    return (
        isinstance(pool_id, str)
        and len(pool_id) <= MAX_POOL_ID_LENGTH
        and POOL_ID.match(pool_id) is not None
    )


_lock = threading.Lock()


@functools.cache
def _version_sql() -> str:
    table = connection.ops.quote_name(UserPool._meta.db_table)
    return f"SELECT config_version FROM {table} WHERE id = %s"  # noqa: S608 (names only)


def current_version(pool_id: str) -> int | None:
    """The pool's config_version, or None when there is no such pool (one indexed read)."""
    row = compiled.run(_version_sql(), [pool_id], rows="one")
    return row[0] if row else None


def cached_pool(pool_id: str, *, version: int | None = None) -> UserPool | None:
    """The pool with this id as last saved (a private copy), or None when there is none.
    `version`: its config_version as the caller just read it with its own row; otherwise it is
    read here, unless no configuration change was committed since this process last read it
    (pool.config_generation's count has not moved: no statement at all). Unknown ids are not
    remembered: a pool created a moment ago is found at once."""
    generation = None
    if version is None:
        # Noted BEFORE the version is read: a change counted while it is read makes the next
        # call read it again.
        generation = config_generation.current()
        checked = _checked.get(pool_id)
        if checked is not None and generation is not None and checked[1] == generation:
            return _private_copy(checked[0])
        version = current_version(pool_id)
        if version is None:
            forget(pool_id)
            return None
    pool = _pools.get(pool_id)
    if pool is None or pool.config_version != version:
        pool = UserPool.objects.filter(pk=pool_id).first()
        if pool is None:
            forget(pool_id)
            return None
        with _lock:
            _pools[pool_id] = pool
    if generation is not None:
        with _lock:
            _checked[pool_id] = (pool, generation)
    return _private_copy(pool)


def kept_pool(pool_id: str) -> UserPool | None:
    """The process's copy of the pool as last loaded (a private copy), WITHOUT reading its
    version: for a caller that reads the version with its own statement (userInfo and GetUser,
    with the token's family) and decides again with `cached_pool` when it differs. None when
    the process keeps none."""
    pool = _pools.get(pool_id)
    return _private_copy(pool) if pool is not None else None


def forget(pool_id: str) -> None:
    with _lock:
        _pools.pop(pool_id, None)
        _checked.pop(pool_id, None)
        _scopes.pop(pool_id, None)


# pool id -> (config_version, the custom scopes of its resource servers)
_scopes: dict[str, tuple[int, frozenset[str]]] = {}


def custom_scopes(pool: UserPool) -> frozenset[str]:
    """Every `identifier/scope` of the pool's resource servers, kept per process for the
    pool's config_version (which a resource-server change replaces)."""
    known = _scopes.get(pool.pk)
    if known is not None and known[0] == pool.config_version:
        return known[1]
    scopes = frozenset(
        scope
        for server in ResourceServer.objects.filter(pool_id=pool.pk)
        for scope in server.full_scopes
    )
    _scopes[pool.pk] = (pool.config_version, scopes)
    return scopes


def _private_copy(pool: UserPool) -> UserPool:
    """A copy no caller can change the cached row through: its own instance (field values,
    model state and related-object cache, as Model.__getstate__ copies them, without going
    through pickling's __reduce_ex__, which cost three times more, for the instance or its
    state), and its own lists and dicts in the JSON fields (a deep copy of the whole model
    costs more)."""
    mine = object.__new__(type(pool))
    values = pool.__dict__.copy()
    state = object.__new__(type(pool._state))  # copy.copy's result, without its reduce
    state.__dict__.update(pool._state.__dict__)
    state.fields_cache = pool._state.fields_cache.copy()
    values["_state"] = state
    for name in _json_fields():
        values[name] = _copied(values[name])
    mine.__dict__ = values
    return mine


def _copied(value):
    """A deep copy of a JSON field's value (dicts, lists and scalars), faster than
    copy.deepcopy, which keeps a memo for shared and cyclic references JSON cannot have."""
    kind = type(value)
    if kind is dict:
        return {key: _copied(item) for key, item in value.items()}
    if kind is list:
        return [_copied(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


@functools.cache
def _json_fields() -> tuple[str, ...]:
    return tuple(
        field.attname
        for field in UserPool._meta.concrete_fields
        if isinstance(field, models.JSONField)
    )


@receiver(post_save, sender=SigningKey, dispatch_uid="pool-version-key")
@receiver(post_save, sender=Trigger, dispatch_uid="pool-version-trigger-save")
@receiver(post_delete, sender=Trigger, dispatch_uid="pool-version-trigger-delete")
@receiver(post_save, sender=ResourceServer, dispatch_uid="pool-version-rs-save")
@receiver(post_delete, sender=ResourceServer, dispatch_uid="pool-version-rs-delete")
def _pool_part_changed(sender, instance, **kwargs) -> None:
    """What processes keep per pool besides its row (keys, triggers, resource servers) changed:
    replace the pool's version in the same transaction, whichever code made the change."""
    bump_config_version(instance.pool_id)
    forget(instance.pool_id)


@receiver(post_save, sender=UserPool, dispatch_uid="pool-row-cache-save")
@receiver(post_delete, sender=UserPool, dispatch_uid="pool-row-cache-delete")
def _pool_changed(sender, instance: UserPool, **kwargs) -> None:
    forget(instance.pk)
