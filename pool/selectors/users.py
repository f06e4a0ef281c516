"""Reading users: sign-in lookups, and search (ListUsers) by a structured UserFilter, which the
console builds from its form and Cognito's filter string becomes through `parse_filter`."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Collate, Concat, Lower

from pool import clock
from pool.errors import InvalidParameterException, UserNotFoundException
from pool.models import User, UserPool, UserStatus
from pool.models.user import (
    ATTRIBUTE_KEY_CHARS,
    SEARCHABLE_ATTRIBUTES,
    STANDARD_ATTRIBUTES,
    is_custom_attribute,
)
from pool.selectors import compiled
from pool.selectors.pools import cached_pool
from pool.selectors.tokens import groups_from, groups_subquery


def find_for_sign_in(pool: UserPool, identifier: str) -> User | None:
    """The user who signs in as `identifier`: by username, username attribute, verified email
    or phone alias, or a confirmed user's preferred_username, compared as the pool compares
    names (`UserPool.normalize`). One indexed read of the pool's register of sign-in names,
    where each name has one holder whatever its kind, compiled once (every password sign-in
    starts here). The user's groups come in the same read (a correlated subquery) and answer
    `user.groups.all()` as a prefetch would: the tokens of the sign-in need them. The read
    takes the pool's config_version, not its row: `user.pool` is the caller's `pool` when it
    is that version (every save of a pool replaces it), else the pool as it is now (the
    process's copy for the version read). None when there is no such user."""
    if not identifier or not isinstance(identifier, str) or "\x00" in identifier:
        # No name holds a NUL byte (and PostgreSQL cannot compare text with one).
        return None
    read = compiled.query("user-by-name", _by_name_query, {_NAME: "key", _NAME_POOL: "pool"})
    built = read.fetch({"key": pool.normalize(identifier), "pool": pool.pk})
    if built is None:
        return None
    user = built[User]
    version = built["pool_version"]
    current = pool if pool.config_version == version else cached_pool(pool.pk, version=version)
    if current is None:  # the pool was deleted meanwhile, with its users
        return None
    user.pool = current
    _prefetch_groups(user, groups_from(built["group_rows"], pool_id=pool.pk))
    return user


def _prefetch_groups(user: User, groups: list) -> None:
    """Keep `groups` as Django's prefetch_related("groups") keeps them: `user.groups.all()`
    answers from them, while filtering or changing the relation still goes to the database
    (and a change drops them, as for any prefetch)."""
    related = user.groups.get_queryset()
    related._result_cache = groups
    related._prefetch_done = True
    user._prefetched_objects_cache = {User.groups.field.name: related}


# Stand-ins for the compiled sign-in lookup's values (pool.selectors.compiled).
_NAME, _NAME_POOL = "\x01sign-in-name", "\x01sign-in-pool"


def _by_name_query():
    """The user holding a sign-in name of the pool (one join on the (pool, key) unique index),
    with the pool's config_version as it is now: the sign-in applies the pool's settings of
    that version (its row's columns and seven JSON documents are not read again)."""
    return User.objects.filter(
        sign_in_names__pool_id=_NAME_POOL, sign_in_names__key=_NAME
    ).annotate(pool_version=F("pool__config_version"), group_rows=groups_subquery("id"))[:1]


_SUB, _SUB_POOL = uuid.UUID(int=1), "\x01pool"


def _by_sub_query():
    return User.objects.filter(pool_id=_SUB_POOL, sub=_SUB)[:1]


def by_sub(pool: UserPool, sub: object) -> User | None:
    """The pool's user whose sub is `sub` (a UUID or its text), or None. One query compiled
    once: the hosted-UI session's user on every authorize."""
    try:
        sub = sub if isinstance(sub, uuid.UUID) else uuid.UUID(str(sub))
    except ValueError:
        return None
    read = compiled.query("user-by-sub", _by_sub_query, {_SUB: "sub", _SUB_POOL: "pool"})
    built = read.fetch({"sub": sub, "pool": pool.pk})
    if built is None:
        return None
    user = built[User]
    user.pool = pool
    return user


def get_user(pool: UserPool, username: str) -> User:
    """A user by username or sign-in alias; UserNotFoundException when there is none."""
    user = find_for_sign_in(pool, username)
    if user is None:
        raise UserNotFoundException()
    return user


# --------------------------------------------------------------------------------------------
# ListUsers search

# Filterable attributes (reference §3) and the column each one reads.
FILTER_COLUMNS = {
    **{name: name for name in SEARCHABLE_ATTRIBUTES},
    "cognito:user_status": "status",
    "status": "enabled",
}
# Text columns whose prefix search needs a byte-ordered index (migration 0002 adds the
# PostgreSQL ones; on SQLite the (pool, column) indexes are already byte-ordered) and, for pools
# that ignore case, an index on lower(column) (migration 0006): every searchable attribute but
# `sub`, a UUID column.
TEXT_COLUMNS = tuple(name for name in SEARCHABLE_ATTRIBUTES if name != "sub")
# Text columns compared through lower() where the pool ignores case: all but the phone number,
# which is E.164 (`+` and digits) and has no case.
FOLDED_COLUMNS = tuple(name for name in TEXT_COLUMNS if name != "phone_number")
OPERATORS = ("=", "^=")
MAX_LIMIT = 60
FILTER_MAX_LENGTH = 256
VALUE_MAX_LENGTH = 2048
TOKEN_MAX_AGE = 3600  # seconds; Cognito's pagination tokens expire after an hour
_TOKEN_SALT = "pool.selectors.users.search"
# The highest code point: `prefix + _TOP` is above every string that starts with `prefix`.
_TOP = "\U0010ffff"
_FILTER = re.compile(
    r'^\s*(?P<attr>[A-Za-z_:]+)\s*(?P<op>\^=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*$'
)
_ENABLED_WORDS = {"Enabled": True, "Disabled": False}


@dataclass(frozen=True)
class Page:
    """One page of ListUsers: the users and the token for the next page (None on the last)."""

    users: tuple[User, ...]
    next_token: str | None = None


@dataclass(frozen=True)
class UserFilter:
    """Which users to list. Each part is optional: one attribute condition (`attribute`
    `operator` `value`: a FILTER_COLUMNS key or one of the pool's custom attributes, "=" for
    equality or "^=" for a prefix; no attribute lists every user), a UserStatus and the
    enabled flag.

    `exact_case`: compare bytes, as Cognito's ListUsers does (`parse_filter` sets it). Otherwise
    text is compared as the pool compares names: ignoring case unless the pool is case-sensitive
    (the console's search)."""

    attribute: str = ""
    operator: str = "="
    value: str = ""
    status: str | None = None
    enabled: bool | None = None
    exact_case: bool = False

    def token_key(self) -> list:
        """What a pagination token records, so that it only continues the same search."""
        return [
            self.attribute,
            self.operator,
            self.value,
            self.status or "",
            self.enabled,
            self.exact_case,
        ]


def parse_filter(text: str) -> UserFilter:
    """Cognito's ListUsers Filter: `attr = "value"` (exact) or `attr ^= "value"` (prefix),
    compared byte by byte as Cognito does. Only the door that speaks Cognito's API parses it."""
    if text is None or not str(text).strip():
        return UserFilter(exact_case=True)
    if not isinstance(text, str) or len(text) > FILTER_MAX_LENGTH:
        raise InvalidParameterException(
            f"Filter must be at most {FILTER_MAX_LENGTH} characters.", field="filter"
        )
    match = _FILTER.match(text)
    if match is None:
        raise InvalidParameterException(
            'Invalid filter: use attribute = "value" or attribute ^= "value".', field="filter"
        )
    attribute = match["attr"]
    if attribute not in FILTER_COLUMNS:
        raise InvalidParameterException(
            f"Invalid search attribute {attribute}: searchable attributes are "
            f"{', '.join(FILTER_COLUMNS)}.",
            field="filter",
        )
    value = re.sub(r"\\(.)", r"\1", match["value"])
    return UserFilter(attribute, match["op"], value, exact_case=True)


def custom_attribute_names(pool: UserPool) -> list[str]:
    """The pool's custom attributes, as searched (`custom:tier`, `dev:custom:x`)."""
    return sorted(attr.full_name for attr in pool.custom_attributes.all())


def attributes_to_get(pool: UserPool, names: list[str] | None) -> set[str] | None:
    """ListUsers' AttributesToGet: the attribute names to list for each user, None for all
    (absent or empty). A name that is no attribute of the pool is refused, not ignored."""
    if not names:
        return None
    known = {"sub", *STANDARD_ATTRIBUTES, *custom_attribute_names(pool)}
    unknown = sorted(set(names) - known)
    if unknown:
        raise InvalidParameterException(
            f"Invalid attributes to get: {', '.join(unknown)} are not attributes of this pool.",
            field="attributes_to_get",
        )
    return set(names)


def _check(pool: UserPool, wanted: UserFilter) -> None:
    if wanted.operator not in OPERATORS:
        raise InvalidParameterException("The operator must be = or ^=.", field="operator")
    if not isinstance(wanted.value, str) or len(wanted.value) > VALUE_MAX_LENGTH:
        raise InvalidParameterException(
            f"The value must be at most {VALUE_MAX_LENGTH} characters.", field="value"
        )
    if "\x00" in wanted.value:
        raise InvalidParameterException("The value must not contain a NUL byte.", field="value")
    if wanted.status is not None and wanted.status not in UserStatus.values:
        raise InvalidParameterException(
            f"status must be one of {', '.join(UserStatus.values)}.", field="status"
        )
    if wanted.enabled not in (None, True, False):
        raise InvalidParameterException("enabled must be true or false.", field="enabled")
    attribute = wanted.attribute
    if not attribute or attribute in FILTER_COLUMNS:
        return
    if not is_custom_attribute(attribute) or attribute not in custom_attribute_names(pool):
        raise InvalidParameterException(
            f"Invalid search attribute {attribute}: searchable attributes are "
            f"{', '.join([*FILTER_COLUMNS, *custom_attribute_names(pool)])}.",
            field="attribute",
        )
    if len(wanted.value) > ATTRIBUTE_KEY_CHARS:
        raise InvalidParameterException(
            f"A custom attribute search value must be at most {ATTRIBUTE_KEY_CHARS} characters.",
            field="value",
        )


def _byte_ordered(expression):
    """The expression compared byte by byte: plain on SQLite (BINARY collation), `COLLATE "C"`
    on PostgreSQL, whose default collation may sort otherwise. Migrations 0002 and 0003 index
    exactly these expressions, so range conditions and ORDER BY use the index."""
    if connection.vendor == "postgresql":
        return Collate(expression, "C")
    return expression


def _text_key(column: str, ignore_case: bool):
    """A text column as search compares and orders it; with its value's counterpart."""
    if ignore_case and column in FOLDED_COLUMNS:
        return _byte_ordered(Lower(F(column))), lambda value: Lower(Value(value))
    return _byte_ordered(F(column)), Value


def _uuid_bounds(prefix: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    digits = prefix.replace("-", "").lower()
    if len(digits) > 32 or any(ch not in "0123456789abcdef" for ch in digits):
        return None
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


# Stand-ins for the values that differ between searches of one shape (`_Shape`): each shape's
# SQL is compiled once per thread (pool.selectors.compiled) and run with the search's values.
# Building and compiling the queryset cost more than the database needs to answer it, and the
# ORM's iteration as much again for a page of 60 users.
_POOL, _VALUE, _AFTER_KEY = "\x01pool", "\x01value", "\x01after"
_SUB_EQ, _SUB_LOW, _SUB_HIGH, _AFTER_SUB = (uuid.UUID(int=n) for n in (2, 3, 4, 5))
_AFTER_ID = -(2**62) - 12345
_SLOTS = {
    _POOL: "pool",
    _VALUE: "value",
    _SUB_EQ: "sub",
    _SUB_LOW: "low",
    _SUB_HIGH: "high",
    _AFTER_KEY: "after_key",
    _AFTER_SUB: "after_key",
    _AFTER_ID: "after_id",
}


@dataclass(frozen=True)
class _Shape:
    """What decides a search's SQL; the values that fill its parameters are not part of it.
    `choices`: the statuses a `cognito:user_status` prefix matches, or the enabled flags a
    `status` filter matches. `everything`: a prefix search for "" (no range)."""

    attribute: str
    operator: str
    ignore_case: bool
    everything: bool
    choices: tuple
    status: str | None
    enabled: bool | None
    paged: bool
    limit: int


def _attribute_matches(shape: _Shape):
    """(queryset, ordering expression or None, tie-breaker) for the filter's attribute: rows
    come ordered by the expression (when there is one), then by the tie-breaker, the user's id
    as the index that serves the search holds it."""
    users = User.objects.filter(pool_id=_POOL)
    tie = "pk"
    attribute, op, ignore_case = shape.attribute, shape.operator, shape.ignore_case
    if not attribute:
        return users, _text_key("username", ignore_case)[0], tie
    if attribute == "sub":
        if op == "=":
            return users.filter(sub=_SUB_EQ), None, tie
        return users.filter(sub__gte=_SUB_LOW, sub__lte=_SUB_HIGH), F("sub"), tie
    if attribute == "cognito:user_status":
        if op == "=":
            return users.filter(status=_VALUE), F("status"), tie
        return users.filter(status__in=shape.choices), F("status"), tie
    if attribute == "status":
        return users.filter(enabled__in=shape.choices), None, tie
    if attribute in FILTER_COLUMNS:
        key, as_key = _text_key(FILTER_COLUMNS[attribute], ignore_case)
        users = users.alias(_key=key)
    else:
        # A custom attribute: its UserAttributeIndex rows, whose keys the pool's rule folded.
        # One filter() call, so that every condition is on the same joined row; `_key`
        # then reads that row's value_key.
        key = _byte_ordered(F("attribute_index__value_key"))
        joined = {"attribute_index__pool_id": _POOL, "attribute_index__name": attribute}
        if op == "=":
            joined["attribute_index__whole"] = True
        # Ties are broken by the index row's user_id (the same number as the user's id), which
        # the index holds in order; the user's own id would make the database sort.
        users = users.filter(**joined).alias(_key=key, _tie=F("attribute_index__user_id"))
        tie = "_tie"
        as_key = Value
    if op == "=":
        # The key is constant: rows come from the index in id order, no sort.
        return users.filter(_key=as_key(_VALUE)), None, tie
    if shape.everything:
        return users, key, tie
    return (
        users.filter(_key__gte=as_key(_VALUE), _key__lt=Concat(as_key(_VALUE), Value(_TOP))),
        key,
        tie,
    )


def _queryset(shape: _Shape):
    """The search of `shape` as one queryset, with stand-ins in the places of its values.
    Rows ordered by a key carry it as `_order` (which pagination tokens record)."""
    users, key, tie = _attribute_matches(shape)
    if shape.status is not None:
        users = users.filter(status=shape.status)
    if shape.enabled is not None:
        # `IN`, not `= false`: Django writes the latter `NOT enabled`, which no index serves.
        users = users.filter(enabled__in=[shape.enabled])
    if key is not None and not shape.attribute and (shape.status or shape.enabled is not None):
        # Listing by status or enabled flag alone: their (pool, flag, id) indexes give the rows
        # in id order; reading the username index would skip over every other user.
        key = None
    if key is not None:
        users = users.annotate(_order=key)
    if shape.paged:
        if key is None:
            users = users.filter(**{f"{tie}__gt": _AFTER_ID})
        else:
            after = _AFTER_SUB if shape.attribute == "sub" else _AFTER_KEY
            users = users.filter(
                Q(_order__gt=after) | Q(_order=after, **{f"{tie}__gt": _AFTER_ID}),
                _order__gte=after,
            )
    ordering = [tie] if key is None else ["_order", tie]
    return users.order_by(*ordering)[: shape.limit + 1]


def _prepare(
    pool: UserPool, wanted: UserFilter, after: dict | None, limit: int
) -> tuple[_Shape, dict] | None:
    """The search's shape and the values of its slots; None when it can match nobody (a `sub`
    that is no UUID or UUID prefix, a status or flag prefix that no value has)."""
    attribute, op, value = wanted.attribute, wanted.operator, wanted.value
    values: dict = {"pool": pool.pk, "value": value}
    choices: tuple = ()
    if attribute == "sub":
        if op == "=":
            try:
                values["sub"] = uuid.UUID(value)
            except ValueError:
                return None
        else:
            bounds = _uuid_bounds(value)
            if bounds is None:
                return None
            values["low"], values["high"] = bounds
    elif attribute == "cognito:user_status":
        values["value"] = value.upper()
        if op == "^=":
            choices = tuple(s for s in UserStatus.values if s.startswith(values["value"]))
            if not choices:
                return None
    elif attribute == "status":
        words = [w for w in _ENABLED_WORDS if (w == value if op == "=" else w.startswith(value))]
        choices = tuple(_ENABLED_WORDS[w] for w in words)
        if not choices:
            return None
    elif attribute and attribute not in FILTER_COLUMNS:
        # A custom attribute's index keys are folded by the pool's rule.
        values["value"] = value if wanted.exact_case else pool.normalize(value)
    if after is not None:
        key = after["k"]
        values["after_key"] = uuid.UUID(key) if attribute == "sub" and key is not None else key
        values["after_id"] = after["i"]
    shape = _Shape(
        attribute=attribute,
        operator=op,
        ignore_case=not wanted.exact_case and not pool.case_sensitive,
        everything=op == "^=" and values["value"] == "",
        choices=choices,
        status=wanted.status,
        enabled=wanted.enabled,
        paged=after is not None,
        limit=limit,
    )
    return shape, values


def _token(pool: UserPool, wanted: UserFilter, last: User, keyed: bool) -> str:
    value = None
    if keyed:
        value = last._order
        value = str(value) if isinstance(value, uuid.UUID) else value
    payload = {
        "p": pool.pk,
        "f": wanted.token_key(),
        "k": value,
        "i": last.pk,
        "t": clock.timestamp(),
    }
    return signing.dumps(payload, salt=_TOKEN_SALT, compress=True)


def _read_token(pool: UserPool, token: str, wanted: UserFilter) -> dict:
    invalid = InvalidParameterException("Invalid pagination token.", field="pagination_token")
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        raise invalid from None
    if not isinstance(payload, dict) or payload.get("p") != pool.pk:
        raise invalid
    if payload.get("f") != wanted.token_key():
        raise InvalidParameterException(
            "The pagination token belongs to another filter.", field="pagination_token"
        )
    if clock.timestamp() - int(payload.get("t", 0)) > TOKEN_MAX_AGE:
        raise InvalidParameterException(
            "The pagination token has expired.", field="pagination_token"
        )
    return payload


def search(
    pool: UserPool,
    *,
    filter: UserFilter | str = "",  # noqa: A002 (Cognito's parameter name)
    limit: int = MAX_LIMIT,
    pagination_token: str | None = None,
) -> Page:
    """ListUsers. Users matching the filter (a UserFilter; a string is Cognito's filter syntax,
    read by `parse_filter`), ordered by the filtered attribute as compared, then id, `limit`
    (1-60; 0 means 60) at a time. Keyset pagination: the token carries the last row's key, so
    every page costs one index range scan however deep it is."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        raise InvalidParameterException(f"Limit must be between 0 and {MAX_LIMIT}.", field="limit")
    limit = limit or MAX_LIMIT
    wanted = filter if isinstance(filter, UserFilter) else parse_filter(filter or "")
    _check(pool, wanted)
    after = _read_token(pool, pagination_token, wanted) if pagination_token else None
    prepared = _prepare(pool, wanted, after, limit)
    if prepared is None:
        return Page((), None)
    shape, values = prepared
    try:
        read = compiled.query(("user-search", shape), lambda: _queryset(shape), _SLOTS)
    except EmptyResultSet:
        return Page((), None)
    rows = read.fetch_all(values, User)
    for row in rows:  # no join: a join can keep the planner from reading the index in order
        row.pool = pool
    if len(rows) <= limit:
        return Page(tuple(rows), None)
    rows = rows[:limit]
    return Page(tuple(rows), _token(pool, wanted, rows[-1], "_order" in read.annotations))
