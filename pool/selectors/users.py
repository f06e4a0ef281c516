"""Reading users: sign-in lookups and (in search) Cognito's ListUsers filters."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.core import signing
from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Collate

from pool import clock
from pool.errors import InvalidParameterException, UserNotFoundException
from pool.models import SignInName, User, UserPool, UserStatus
from pool.models.user import SEARCHABLE_ATTRIBUTES


def find_for_sign_in(pool: UserPool, identifier: str) -> User | None:
    """The user who signs in as `identifier`: by username, username attribute, verified email
    or phone alias, or a confirmed user's preferred_username, compared as the pool compares
    names (`UserPool.normalize`). One indexed read of the pool's register of sign-in names,
    where each name has one holder whatever its kind. None when there is no such user."""
    if not identifier or not isinstance(identifier, str) or "\x00" in identifier:
        # No name holds a NUL byte (and PostgreSQL cannot compare text with one).
        return None
    row = (
        SignInName.objects.filter(pool=pool, key=pool.normalize(identifier))
        .select_related("user__pool")
        .first()
    )
    return row.user if row is not None else None


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
# PostgreSQL ones; on SQLite the (pool, column) indexes are already byte-ordered): every
# searchable attribute but `sub`, a UUID column.
TEXT_COLUMNS = tuple(name for name in SEARCHABLE_ATTRIBUTES if name != "sub")
MAX_LIMIT = 60
FILTER_MAX_LENGTH = 256
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
class _Filter:
    attribute: str  # a FILTER_COLUMNS key, or "" for every user
    op: str  # "=" or "^="
    value: str


def parse_filter(text: str) -> _Filter:
    """Cognito's ListUsers Filter: `attr = "value"` (exact) or `attr ^= "value"` (prefix)."""
    if text is None or not str(text).strip():
        return _Filter("", "=", "")
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
    return _Filter(attribute, match["op"], value)


def _byte_ordered(column: str):
    """The column as an expression compared byte by byte: plain on SQLite (BINARY collation),
    `COLLATE "C"` on PostgreSQL, whose default collation may sort otherwise. Migration 0002
    indexes exactly these expressions, so range conditions and ORDER BY use the index."""
    if connection.vendor == "postgresql" and column in TEXT_COLUMNS:
        return Collate(F(column), "C")
    return F(column)


def _uuid_bounds(prefix: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    digits = prefix.replace("-", "").lower()
    if len(digits) > 32 or any(ch not in "0123456789abcdef" for ch in digits):
        return None
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


def _matches(pool: UserPool, parsed: _Filter):
    """(queryset, ordering key column or None, value of the key for every row or None)."""
    users = User.objects.filter(pool=pool)
    attribute, op, value = parsed.attribute, parsed.op, parsed.value
    if not attribute:
        return users, "username"
    column = FILTER_COLUMNS[attribute]
    if attribute == "sub":
        if op == "=":
            try:
                return users.filter(sub=uuid.UUID(value)), None
            except ValueError:
                return users.none(), None
        bounds = _uuid_bounds(value)
        if bounds is None:
            return users.none(), None
        return users.filter(sub__gte=bounds[0], sub__lte=bounds[1]), "sub"
    if attribute == "cognito:user_status":
        wanted = value.upper()
        if op == "=":
            return users.filter(status=wanted), "status"
        return users.filter(
            status__in=[s for s in UserStatus.values if s.startswith(wanted)]
        ), "status"
    if attribute == "status":
        words = [w for w in _ENABLED_WORDS if (w == value if op == "=" else w.startswith(value))]
        return users.filter(enabled__in=[_ENABLED_WORDS[w] for w in words]), None
    users = users.alias(_key=_byte_ordered(column))
    if op == "=":
        # Ordered by the column too (constant here): the same index then serves the match,
        # the order by id and the next page's condition.
        return users.filter(_key=value), column
    if value == "":
        return users, column
    return users.filter(_key__gte=value, _key__lt=value + _TOP), column


def _token(
    pool: UserPool, filter_text: str, status: str | None, last: User, key: str | None
) -> str:
    value = None
    if key is not None:
        value = getattr(last, key)
        value = str(value) if key == "sub" else value
    payload = {
        "p": pool.pk,
        "f": filter_text,
        "s": status or "",
        "k": value,
        "i": last.pk,
        "t": clock.timestamp(),
    }
    return signing.dumps(payload, salt=_TOKEN_SALT, compress=True)


def _read_token(pool: UserPool, token: str, filter_text: str, status: str | None) -> dict:
    invalid = InvalidParameterException("Invalid pagination token.", field="pagination_token")
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        raise invalid from None
    if not isinstance(payload, dict) or payload.get("p") != pool.pk:
        raise invalid
    if payload.get("f") != filter_text or payload.get("s") != (status or ""):
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
    filter: str = "",  # noqa: A002 (Cognito's parameter name)
    limit: int = MAX_LIMIT,
    pagination_token: str | None = None,
    status: str | None = None,
) -> Page:
    """ListUsers. Users matching the filter, ordered by the filtered attribute (byte order),
    then id, `limit` (1-60; 0 means 60) at a time. Keyset pagination: the token carries the
    last row's key, so every page costs one index range scan however deep it is. `status`
    (a UserStatus) narrows further, for the console."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        raise InvalidParameterException(f"Limit must be between 0 and {MAX_LIMIT}.", field="limit")
    limit = limit or MAX_LIMIT
    if status is not None and status not in UserStatus.values:
        raise InvalidParameterException(
            f"status must be one of {', '.join(UserStatus.values)}.", field="status"
        )
    filter_text = filter or ""
    parsed = parse_filter(filter_text)
    users, key = _matches(pool, parsed)
    if status is not None:
        users = users.filter(status=status)
    if pagination_token:
        after = _read_token(pool, pagination_token, filter_text, status)
        if key is None:
            users = users.filter(pk__gt=after["i"])
        else:
            value = uuid.UUID(after["k"]) if key == "sub" else after["k"]
            users = users.alias(_after=_byte_ordered(key)).filter(
                Q(_after__gt=value) | Q(_after=value, pk__gt=after["i"]),
                _after__gte=value,
            )
    if key is None:
        ordering = ["pk"]
    elif key == "sub":
        ordering = ["sub", "pk"]
    else:
        users = users.alias(_order=_byte_ordered(key))
        ordering = ["_order", "pk"]
    rows = list(users.order_by(*ordering)[: limit + 1])
    for row in rows:  # no join: a join can keep the planner from reading the index in order
        row.pool = pool
    if len(rows) <= limit:
        return Page(tuple(rows), None)
    rows = rows[:limit]
    return Page(tuple(rows), _token(pool, filter_text, status, rows[-1], key))
