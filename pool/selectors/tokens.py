"""Reading refresh tokens on the hot path: the token, its family, the family's user and app
client, the pool's config_version and the user's groups, in one query.

The refresh grant used to cost a query for the client, one for the token with its family and
user, one for the groups and cache round trips for the pool's version; this read replaces them
all. The groups come as one JSON array built by the database (a correlated subquery), so that
a user's group change is seen at once, in every process, like every other part of the row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import Aggregate, F, OuterRef, Subquery, TextField
from django.db.models.functions import JSONArray

from pool import crypto
from pool.models import AppClient, Group, RefreshFamily, RefreshToken, User

MAX_REFRESH_TOKEN_LENGTH = 2048


class _JSONArrayAgg(Aggregate):
    """The rows as one JSON array text: SQLite's json_group_array, PostgreSQL's json_agg."""

    function = "JSON_GROUP_ARRAY"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = self.as_sql(compiler, connection, function="JSON_AGG", **extra)
        return f"({sql})::text", params


def groups_subquery(user_ref: str) -> Subquery:
    """The groups of the user `user_ref` (an outer reference) as a JSON array text of
    [name, precedence, role_arn], or NULL without groups."""
    through = User.groups.through
    rows = (
        through.objects.filter(user_id=OuterRef(user_ref))
        .values("user_id")
        .annotate(
            rows=_JSONArrayAgg(
                JSONArray("group__name", "group__precedence", "group__role_arn"),
                output_field=TextField(),
            )
        )
        .values("rows")
    )
    return Subquery(rows, output_field=TextField())


def groups_from(value: str | list | None, *, pool_id: str) -> list[Group]:
    """The Group objects (unsaved copies: name, precedence, role_arn) of `groups_subquery`'s
    value, in the order of Group.Meta.ordering."""
    if not value:
        return []
    rows = json.loads(value) if isinstance(value, str) else value
    groups = [
        Group(pool_id=pool_id, name=name, precedence=precedence, role_arn=role_arn or "")
        for name, precedence, role_arn in rows
    ]
    groups.sort(key=lambda g: (g.precedence is None, g.precedence or 0, g.name))
    return groups


@dataclass(frozen=True)
class RefreshRead:
    """A refresh token as stored, with everything a refresh needs."""

    digest: str
    rotated_at: object
    family: RefreshFamily
    user: User
    client: AppClient
    groups: list[Group]
    pool_version: int


def refresh_read(*, pool_id: str, client_id: str, refresh_token: object) -> RefreshRead | None:
    """The refresh token `refresh_token` of client `client_id` in pool `pool_id`, whatever its
    state (rotated, revoked, expired: the refresh decides), or None. One query."""
    if (
        not refresh_token
        or not isinstance(refresh_token, str)
        or len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH
    ):
        return None
    digest = crypto.digest(refresh_token)
    row = (
        RefreshToken.objects.select_related("family__user", "family__client")
        .filter(digest=digest, family__client_id=client_id, family__pool_id=pool_id)
        .annotate(
            pool_version=F("family__pool__config_version"),
            group_rows=groups_subquery("family__user_id"),
        )
        .first()
    )
    if row is None:
        return None
    family = row.family
    return RefreshRead(
        digest=digest,
        rotated_at=row.rotated_at,
        family=family,
        user=family.user,
        client=family.client,
        groups=groups_from(row.group_rows, pool_id=pool_id),
        pool_version=row.pool_version,
    )
