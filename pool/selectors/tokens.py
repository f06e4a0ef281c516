"""Reading refresh tokens on the hot path: the token, its family, the family's user and app
client, the pool's config_version and the user's groups, in one query.

The refresh grant used to cost a query for the client, one for the token with its family and
user, one for the groups and cache round trips for the pool's version; this read replaces them
all. The groups come as one JSON array built by the database (a correlated subquery), so that
a user's group change is seen at once, in every process, like every other part of the row.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from django.db.models import Aggregate, F, OuterRef, Subquery, TextField
from django.db.models.functions import JSONArray

from pool import crypto
from pool.models import AppClient, AuthorizationCode, Group, RefreshFamily, RefreshToken, User
from pool.models.user import COLUMN_ATTRIBUTES
from pool.selectors import compiled

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
    """A refresh token as stored, with everything a refresh needs: `presented` is the value
    it was read for (the request's own), so that the refresh checks it is the one it was given
    without computing its digest again."""

    presented: str
    digest: str
    rotated_at: object
    family: RefreshFamily
    user: User
    client: AppClient
    groups: list[Group]
    pool_version: int


# Stand-ins for the parameters when the query is compiled; each is found again in the compiled
# parameters and replaced by the request's value.
_DIGEST, _CLIENT, _POOL = "\x01digest", "\x01client", "\x01pool"


# What a refresh uses of the row: the token's rotation, the family, the user's validity,
# identity and attributes (the ID token's claims, a pre-token trigger's userAttributes), the
# client's secret, auth flows, read_attributes, validities and rotation settings. The rest (the
# password, the SRP verifier, the client's URLs and branding, timestamps) cost a conversion
# each (JSON, datetimes) and are not read; a deferred one is loaded when first used.
_REFRESH_FIELDS = (
    "digest",
    "family_id",
    "rotated_at",
    *(
        f"family__{name}"
        for name in (
            "id",
            "pool_id",
            "user_id",
            "client_id",
            "scopes",
            "auth_time",
            "expires_at",
            "revoked_at",
            "device_key",
        )
    ),
    *(
        f"family__user__{name}"
        for name in (
            "id",
            "pool_id",
            "username",
            "sub",
            "status",
            "enabled",
            *COLUMN_ATTRIBUTES,
            "attributes",
            "tokens_valid_after",
        )
    ),
    *(
        f"family__client__{name}"
        for name in (
            "client_id",
            "pool_id",
            "secret",
            "explicit_auth_flows",
            "read_attributes",
            "access_token_validity",
            "id_token_validity",
            "refresh_token_validity",
            "refresh_token_rotation",
            "refresh_token_retry_grace_seconds",
        )
    ),
)


def _refresh_query():
    return (
        RefreshToken.objects.select_related("family__user", "family__client")
        .filter(digest=_DIGEST, family__client_id=_CLIENT, family__pool_id=_POOL)
        .only(*_REFRESH_FIELDS)
        .annotate(
            pool_version=F("family__pool__config_version"),
            group_rows=groups_subquery("family__user_id"),
        )[:1]
    )


_REFRESH_SLOTS = {_DIGEST: "digest", _CLIENT: "client", _POOL: "pool"}


def refresh_read(*, pool_id: str, client_id: str, refresh_token: object) -> RefreshRead | None:
    """The refresh token `refresh_token` of client `client_id` in pool `pool_id`, whatever its
    state (rotated, revoked, expired: the refresh decides), or None. One query, of the columns
    a refresh uses (_REFRESH_FIELDS): the user and client are not whole rows."""
    if (
        not refresh_token
        or not isinstance(refresh_token, str)
        or len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH
    ):
        return None
    digest = crypto.digest(refresh_token)
    built = compiled.query("refresh", _refresh_query, _REFRESH_SLOTS).fetch(
        {"digest": digest, "client": client_id, "pool": pool_id}
    )
    if built is None:
        return None
    family, user, client = built[RefreshFamily], built[User], built[AppClient]
    # The row's own user and client, joined on the family's keys (as access_family keeps them).
    cache = family._state.fields_cache
    cache[_FAMILY_USER], cache[_FAMILY_CLIENT] = user, client
    return RefreshRead(
        presented=refresh_token,
        digest=digest,
        rotated_at=built[RefreshToken].rotated_at,
        family=family,
        user=user,
        client=client,
        groups=groups_from(built["group_rows"], pool_id=pool_id),
        pool_version=built["pool_version"],
    )


_FAMILY, _FAMILY_POOL = uuid.UUID(int=1), "\x01pool"
_FAMILY_USER = RefreshFamily._meta.get_field("user").cache_name
_FAMILY_CLIENT = RefreshFamily._meta.get_field("client").cache_name

# What a read through an access token (userInfo, GetUser) uses of the row: the family's
# revocation, the user's validity (enabled, status, tokens_valid_after), identity, attributes
# and MFA settings, the client's read_attributes. The other columns (the password, SRP
# verifier, timestamps, the client's URL and flow lists) cost a conversion each and are not read.
_READ_FIELDS = (
    "id",
    "user_id",
    "client_id",
    "revoked_at",
    *(
        f"user__{name}"
        for name in (
            "id",
            "username",
            "sub",
            "status",
            "enabled",
            *COLUMN_ATTRIBUTES,
            "attributes",
            "software_token_mfa_enabled",
            "sms_mfa_enabled",
            "email_mfa_enabled",
            "preferred_mfa",
            "tokens_valid_after",
        )
    ),
    "client__client_id",
    "client__read_attributes",
)


def _family_query():
    return RefreshFamily.objects.select_related("user", "client").filter(
        pk=_FAMILY, pool_id=_FAMILY_POOL
    )


def _family_read_query():
    return _family_query().only(*_READ_FIELDS).annotate(pool_version=F("pool__config_version"))


def access_family(
    *, pool_id: str, family_id: uuid.UUID, reading: bool = False
) -> RefreshFamily | None:
    """The refresh family an access token names (its `origin_jti`), with its user and client,
    or None. One query, for userInfo and the JSON API's access-token actions. `reading`: only
    the columns a read of the user (userInfo, GetUser) uses are loaded (any other is read from
    the database when first used, as for any deferred field), and the pool's config_version
    comes along as `family.pool_version`."""
    name, build = ("access-read", _family_read_query) if reading else ("access", _family_query)
    read = compiled.query(name, build, {_FAMILY: "id", _FAMILY_POOL: "pool"})
    built = read.fetch({"id": family_id, "pool": pool_id})
    if built is None:
        return None
    family = built[RefreshFamily]
    # The row's own user and client, joined on the family's keys: kept as the relations'
    # descriptors keep them (their checks and key writes are for a value from elsewhere).
    cache = family._state.fields_cache
    cache[_FAMILY_USER], cache[_FAMILY_CLIENT] = built[User], built[AppClient]
    if "pool_version" in built:
        family.pool_version = built["pool_version"]
    return family


@dataclass(frozen=True)
class CodeRead:
    """An authorization code as stored (used or not: the exchange decides), with its user,
    the client it was issued to, the user's groups and the pool's config_version."""

    code: AuthorizationCode
    client: AppClient
    groups: list[Group]
    pool_version: int


_CODE_DIGEST, _CODE_POOL = "\x01digest", "\x01pool"


def _code_query():
    return (
        AuthorizationCode.objects.select_related("user", "client")
        .filter(digest=_CODE_DIGEST, pool_id=_CODE_POOL)
        .annotate(pool_version=F("pool__config_version"), group_rows=groups_subquery("user_id"))[:1]
    )


def code_read(*, pool_id: str, digest: str) -> CodeRead | None:
    """The authorization code with this digest in pool `pool_id`, or None. One query: the code
    exchange's only read (the single use is the exchange's conditional write)."""
    built = compiled.query("code", _code_query, {_CODE_DIGEST: "digest", _CODE_POOL: "pool"}).fetch(
        {"digest": digest, "pool": pool_id}
    )
    if built is None:
        return None
    code, user, client = built[AuthorizationCode], built[User], built[AppClient]
    code.user, code.client = user, client
    return CodeRead(
        code=code,
        client=client,
        groups=groups_from(built["group_rows"], pool_id=pool_id),
        pool_version=built["pool_version"],
    )
