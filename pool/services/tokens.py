"""Issuing, refreshing, revoking and checking tokens, with Cognito's claims.

Every user sign-in starts a *refresh family* (its id is the tokens' `origin_jti`). Refresh
tokens are opaque and stored only as digests; with rotation each refresh replaces the token,
and presenting a replaced token again (after the client's retry grace period, if any) revokes
the whole family (it was stolen or replayed).
Revoking a family also voids the access tokens that carry its id, wherever they are checked
(`verify_access_token`, `user_info`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pool import clock, crypto, jwt
from pool.errors import (
    InvalidOAuthFlowException,
    InvalidParameterException,
    NotAuthorizedException,
    RefreshTokenReuseException,
    ResourceNotFoundException,
    UnauthorizedException,
    UnsupportedOperationException,
    UnsupportedTokenTypeException,
)
from pool.models import AppClient, AuthEvent, RefreshFamily, RefreshToken, User, UserPool
from pool.models.user import STANDARD_ATTRIBUTES
from pool.selectors import compiled
from pool.selectors import identity_providers as provider_selectors
from pool.selectors import pools as pool_rows
from pool.selectors import sign_in as sign_in_checks
from pool.selectors import tokens as token_rows
from pool.services import devices, events, pre_token
from pool.services.results import Authenticated, RequestContext, Tokens

# The scope of tokens from the JSON API's sign-in; it lets a token call the user's own API.
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
OIDC_SCOPE = "openid"
OAUTH_SCOPES = ("openid", "email", "phone", "profile")
# Which standard attributes each OIDC scope releases (ID token and userInfo).
SCOPE_ATTRIBUTES = {
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "profile": tuple(
        name
        for name in STANDARD_ATTRIBUTES
        if name not in ("email", "email_verified", "phone_number", "phone_number_verified")
    ),
}
_BOOLEAN_ATTRIBUTES = ("email_verified", "phone_number_verified")
_EVENT_NAMESPACE = uuid.UUID("5d6f0a8e-7f55-4f0c-9d1e-5b1b0f3c8a21")
INVALID_REFRESH = "Invalid Refresh Token"
# InitiateAuth's refresh flows: they never rotate, so clients with rotation cannot use them.
INITIATE_AUTH_REFRESH_FLOWS = ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN")
ROTATION_REFUSES_FLOW = (
    "{flow} is not supported for a client with refresh token rotation enabled; "
    "use GetTokensFromRefreshToken."
)


# ---------------------------------------------------------------------------------- issuing


def issue(
    *,
    user: User,
    client: AppClient,
    scopes: list[str] | tuple[str, ...],
    auth_time: dt.datetime,
    nonce: str = "",
    with_refresh: bool = True,
    id_token: bool = True,
    source: str = pre_token.HOSTED_AUTH,
) -> Tokens:
    """Tokens for a completed sign-in. Starts a refresh family; an OIDC (openid-scoped) ID token
    carries `at_hash` of the access token issued with it, and `nonce` when given. `source`
    names the pre-token-generation trigger's source (TokenGeneration_<source>)."""
    started = start_family(
        user=user, client=client, scopes=scopes, auth_time=auth_time, with_refresh=with_refresh
    )
    return family_tokens(started, nonce=nonce, id_token=id_token, source=source)


def for_api_sign_in(signed_in: Authenticated) -> Tokens:
    """The tokens Cognito's API answers a completed sign-in with (InitiateAuth and its
    challenges, AdminInitiateAuth): the `aws.cognito.signin.user.admin` scope only, an ID
    token and a refresh token that starts the sign-in's refresh family. In a pool that tracks
    devices the access token carries the sign-in's `device_key`: the device it was made on,
    or a new one, returned as NewDeviceMetadata.

    The sign-in's stamps and event (`signed_in.unrecorded`, left by sign_in.finish for this)
    are stored with the family and its token in one write (compiled.write: one statement on
    PostgreSQL, one transaction elsewhere), so that either all of them are or none is. The
    tokens are signed after it, as before: the pre-token-generation trigger fires after the
    sign-in is recorded, and its failure leaves the sign-in and its family stored."""
    if signed_in.client is None:
        raise ValueError("An API sign-in is always through an app client.")
    user = signed_in.user
    device_key, created = signed_in.device_key, None
    makes_device = not device_key and devices.tracks_devices(user.pool)
    with transaction.atomic() if makes_device else contextlib.nullcontext():
        if makes_device:
            # A sign-in on no known device of the user: a new one (NewDeviceMetadata).
            created = devices.new_device(user=user)
            device_key = created.key
        started = new_family(
            user=user,
            client=signed_in.client,
            scopes=[ADMIN_SCOPE],
            auth_time=signed_in.auth_time,
            device_key=device_key,
        )
        recorded = signed_in.unrecorded or compiled.Writes()
        compiled.write(recorded.adding(*family_rows(started)))
    issued = family_tokens(
        started, source=signed_in.token_source, client_metadata=signed_in.client_metadata
    )
    if created is None:
        return issued
    return dataclasses.replace(
        issued, new_device_key=created.key, new_device_group_key=created.group_key
    )


@dataclass(frozen=True)
class StartedFamily:
    """A new refresh family, stored, whose tokens are not signed yet (see start_family)."""

    user: User
    client: AppClient
    family: RefreshFamily
    refresh_token: str | None


def start_family(
    *,
    user: User,
    client: AppClient,
    scopes: list[str] | tuple[str, ...],
    auth_time: dt.datetime,
    with_refresh: bool = True,
    device_key: str = "",
) -> StartedFamily:
    """The rows of a new sign-in's refresh family. Inside a caller's transaction (the code
    exchange) they commit with it, and the caller signs the tokens with `family_tokens` after
    the commit, so that no write lock is held while RSA signs."""
    started = new_family(
        user=user,
        client=client,
        scopes=scopes,
        auth_time=auth_time,
        with_refresh=with_refresh,
        device_key=device_key,
    )
    # Two INSERTs compiled once (pool.selectors.compiled: the ORM's save built each anew),
    # stored together: one statement on PostgreSQL, one transaction elsewhere.
    compiled.write(compiled.Writes(inserts=tuple(family_rows(started))))
    return started


def family_rows(started: StartedFamily) -> list[RefreshFamily | RefreshToken]:
    """The rows `new_family` made, to store in this order (the family, then its token)."""
    if started.refresh_token is None:
        return [started.family]
    return [
        started.family,
        RefreshToken(digest=crypto.digest(started.refresh_token), family=started.family),
    ]


def new_family(
    *,
    user: User,
    client: AppClient,
    scopes: list[str] | tuple[str, ...],
    auth_time: dt.datetime,
    with_refresh: bool = True,
    device_key: str = "",
) -> StartedFamily:
    """start_family's family, not stored yet: for a caller that stores `family_rows` in a
    statement of its own (the code exchange on PostgreSQL: hostedui.oauth.codes)."""
    scopes = list(dict.fromkeys(scopes))
    now = clock.now()
    refresh_plain = crypto.token() if with_refresh else None
    longest = max(client.access_token_validity, client.id_token_validity)
    family = RefreshFamily(
        pool_id=user.pool_id,
        user=user,
        client=client,
        scopes=scopes,
        auth_time=auth_time,
        device_key=device_key,
        expires_at=now
        + dt.timedelta(seconds=client.refresh_token_validity if with_refresh else longest),
    )
    return StartedFamily(user=user, client=client, family=family, refresh_token=refresh_plain)


def family_tokens(
    started: StartedFamily,
    *,
    nonce: str = "",
    id_token: bool = True,
    source: str = pre_token.HOSTED_AUTH,
    client_metadata: dict[str, str] | None = None,
    groups: list | None = None,
) -> Tokens:
    """The signed tokens of a family made by `start_family` (the hosted UI's code exchange
    is TokenGeneration_HostedAuth); `groups`: the user's, when the caller read them."""
    return _user_tokens(
        user=started.user,
        client=started.client,
        family=started.family,
        scopes=list(started.family.scopes),
        nonce=nonce,
        refresh_token=started.refresh_token,
        id_token=id_token,
        source=source,
        client_metadata=client_metadata,
        groups=groups,
    )


def _user_tokens(
    *,
    user: User,
    client: AppClient,
    family: RefreshFamily,
    scopes: list[str],
    nonce: str,
    refresh_token: str | None,
    id_token: bool,
    source: str,
    client_metadata: dict[str, str] | None = None,
    groups: list | None = None,
) -> Tokens:
    pool = client.pool
    now = clock.timestamp()
    auth_time = int(family.auth_time.timestamp())
    family_id, sub = str(family.id), str(user.sub)
    common = {
        "origin_jti": family_id,
        "event_id": str(uuid.uuid5(_EVENT_NAMESPACE, family_id)),
        "auth_time": auth_time,
        "iss": jwt.issuer(pool),
        "iat": now,
    }
    if groups is None:
        groups = list(user.groups.all()) if user.pk else []
    access_claims: dict[str, Any] = {
        "sub": sub,
        "client_id": client.client_id,
        "token_use": "access",
        "scope": " ".join(scopes),
        "exp": now + client.access_token_validity,
        "jti": str(uuid.uuid4()),
        "username": user.username,
        "version": 2,
        **common,
    }
    if groups:
        access_claims["cognito:groups"] = [group.name for group in groups]
    if family.device_key:
        access_claims["device_key"] = family.device_key

    id_claims: dict[str, Any] | None = None
    if id_token:
        id_claims = {
            "sub": sub,
            "aud": client.client_id,
            "token_use": "id",
            "cognito:username": user.username,
            "exp": now + client.id_token_validity,
            "jti": str(uuid.uuid4()),
            **common,
        }
        id_claims.update(_id_token_attributes(user, client, scopes))
        linked = provider_selectors.identities(user) if user.pk else []
        if linked:
            id_claims["identities"] = linked
        if groups:
            id_claims.update(_group_claims(groups))
        if nonce:
            id_claims["nonce"] = nonce
    pre_token.apply(
        user=user,
        client=client,
        source=source,
        groups=groups,
        access_claims=access_claims,
        id_claims=id_claims,
        client_metadata=client_metadata,
    )
    access = jwt.sign(pool, access_claims)
    id_value = None
    if id_claims is not None:
        if OIDC_SCOPE in scopes:
            # OIDC's at_hash, as Cognito puts it only in the ID tokens of its OAuth endpoints:
            # the JSON API's carry none (and pycognito cannot check one).
            id_claims["at_hash"] = jwt.at_hash(access)
        id_value = jwt.sign(pool, id_claims)
    return Tokens(
        access_token=access,
        expires_in=client.access_token_validity,
        id_token=id_value,
        refresh_token=refresh_token,
        family_id=family_id,
    )


def readable_attributes(user: User, client: AppClient | None, scopes: list[str]) -> dict[str, str]:
    """The user's attributes (as strings) that this client may read under these scopes:
    the client's read_attributes (empty = all), and, for OAuth scopes without the admin scope,
    only what `email` / `phone` / `profile` release. Custom attributes are not scope-bound."""
    values = user.attribute_map()
    values.pop("sub", None)
    allowed = set(client.read_attributes) if client and client.read_attributes else None
    oauth = "openid" in scopes and ADMIN_SCOPE not in scopes
    released = {name for scope in scopes for name in SCOPE_ATTRIBUTES.get(scope, ())}
    result = {}
    for name, value in values.items():
        if name.startswith("dev:"):
            continue
        if allowed is not None and name not in allowed:
            continue
        if oauth and not name.startswith("custom:") and name not in released:
            continue
        result[name] = value
    return result


def _id_token_attributes(user: User, client: AppClient, scopes: list[str]) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    for name, value in readable_attributes(user, client, scopes).items():
        if name in _BOOLEAN_ATTRIBUTES:
            claims[name] = value == "true"
        elif name == "updated_at" and value.isdigit():
            claims[name] = int(value)
        else:
            claims[name] = value
    return claims


def _group_claims(groups: list) -> dict[str, Any]:
    """cognito:groups in precedence order; cognito:roles and cognito:preferred_role (the role of
    the lowest-precedence group that has one; omitted when two such groups tie)."""
    ordered = sorted(groups, key=lambda g: (g.precedence is None, g.precedence or 0, g.name))
    claims: dict[str, Any] = {"cognito:groups": [group.name for group in ordered]}
    with_roles = [group for group in ordered if group.role_arn]
    if with_roles:
        claims["cognito:roles"] = list(dict.fromkeys(group.role_arn for group in with_roles))
        best = with_roles[0]
        tied = [
            group
            for group in with_roles
            if group.precedence == best.precedence and group.role_arn != best.role_arn
        ]
        if not tied:
            claims["cognito:preferred_role"] = best.role_arn
    return claims


# --------------------------------------------------------------------------------- refreshing


def refresh(
    *,
    client: AppClient,
    refresh_token: str,
    context: RequestContext | None = None,
    flow: str | None = None,
    read: token_rows.RefreshRead | None = None,
) -> Tokens:
    """New access (and ID) tokens for a refresh token: one read of token, family, user and
    groups (`read`: pool.selectors.tokens.refresh_read, which the token endpoint makes before it
    authenticates the client, from the same row), and (with rotation) one short write
    transaction. The client's RefreshTokenRotation decides, at
    every door alike: without it the token stays valid until it expires and no new one is
    issued; with it the token is replaced, and presenting a replaced token again revokes its
    family (RefreshTokenReuseException), unless the client's retry grace period since the
    replacement has not run out (see _rotate). With grace 0, of parallel refreshes of one token
    exactly one succeeds: the conditional update that marks the token rotated finds it
    unrotated once; with a grace period they all succeed.
    `flow` is InitiateAuth's AuthFlow (REFRESH_TOKEN_AUTH / REFRESH_TOKEN), which Cognito
    refuses for clients with rotation; None for GetTokensFromRefreshToken and the token
    endpoint.
    The read is outside the write transaction (SQLite: outside the database's write lock); a
    revocation committed between the two leaves whatever this refresh signs unusable, as one
    committed just after it would (access tokens and the successor check their family)."""
    if flow is not None:
        if flow not in INITIATE_AUTH_REFRESH_FLOWS:
            raise InvalidParameterException(f"{flow} is not a refresh flow.", field="AuthFlow")
        sign_in_checks.check_flow(client, flow)
        if client.refresh_token_rotation:
            raise InvalidParameterException(
                ROTATION_REFUSES_FLOW.format(flow=flow), field="AuthFlow"
            )
    if read is None:
        read = token_rows.refresh_read(
            pool_id=client.pool_id, client_id=client.client_id, refresh_token=refresh_token
        )
    if read is None or read.client.pk != client.pk or read.presented != refresh_token:
        raise NotAuthorizedException(INVALID_REFRESH)
    digest = read.digest
    now = clock.now()
    family = read.family
    if family.revoked_at is not None or family.expires_at <= now:
        raise NotAuthorizedException(INVALID_REFRESH)
    user = read.user
    sign_in_checks.check_still_valid(
        user=user,
        client=client,
        signed_in_at=family.auth_time,
        flow=sign_in_checks.REFRESH,
        revoked=INVALID_REFRESH,
    )
    successor = None
    if client.refresh_token_rotation:
        successor = _rotate(
            digest=digest,
            family=family,
            rotated_at=read.rotated_at,
            grace=client.refresh_token_retry_grace_seconds,
            now=now,
        )
        reused = successor is None
    else:
        reused = read.rotated_at is not None  # rotated while rotation was on
    if reused:
        revoke_family(family_id=family.pk, reason="reuse")
        events.record(
            pool=client.pool,
            event_type=AuthEvent.Type.TOKEN_REFRESH,
            success=False,
            user=user,
            reason="refresh token reuse: family revoked",
            client=client,
            context=context,
        )
        raise RefreshTokenReuseException()
    user.pool = client.pool
    scopes = list(family.scopes)
    return _user_tokens(
        user=user,
        client=client,
        family=family,
        scopes=scopes,
        nonce="",
        refresh_token=successor,
        id_token="openid" in scopes or ADMIN_SCOPE in scopes,
        source=pre_token.REFRESH_TOKENS,
        groups=read.groups,
    )


def refresh_token_owner(*, client: AppClient, refresh_token: object) -> User | None:
    """The user a refresh token of this client was issued to, whatever its state (revoked,
    expired, rotated), or None. For the checks made before a refresh, such as the SECRET_HASH
    Cognito computes over the token's user; the refresh itself decides whether it is valid."""
    if not refresh_token or not isinstance(refresh_token, str) or len(refresh_token) > 2048:
        return None
    row = (
        RefreshToken.objects.select_related("family__user")
        .filter(digest=crypto.digest(refresh_token), family__client_id=client.client_id)
        .first()
    )
    return row.family.user if row else None


def _within_grace(rotated_at: dt.datetime, *, grace: int, now: dt.datetime) -> bool:
    return grace > 0 and now < rotated_at + dt.timedelta(seconds=grace)


def _rotate(
    *,
    digest: str,
    family: RefreshFamily,
    rotated_at: dt.datetime | None,
    grace: int,
    now: dt.datetime,
) -> str | None:
    """The successor of the refresh token `digest`, or None when presenting it is reuse.
    The first refresh marks the token rotated; of parallel first refreshes exactly one finds it
    unrotated (a conditional update). For `grace` seconds after that moment (Cognito's
    RefreshTokenRotation.RetryGracePeriodSeconds) the token still refreshes, each time to a new
    successor, so that a client retrying a lost answer or parallel tabs keep the session; the
    window is counted from the first rotation, so retries never extend it. After it, or with
    grace 0, presenting the token again is reuse."""
    if rotated_at is not None and not _within_grace(rotated_at, grace=grace, now=now):
        return None
    # Everything but the two statements happens before the write transaction: on SQLite it
    # holds the database's write lock, which every other process's write waits for.
    successor = crypto.token()
    row = (crypto.digest(successor), family.pk, timezone.now())
    if rotated_at is None and connection.vendor in _ONE_STATEMENT_ROTATION:
        # One statement marks the token and inserts its successor (atomic, with no BEGIN and
        # COMMIT round trips); when another refresh marked the token first, the grace period
        # decides. On PostgreSQL it then inserted nothing (the general path below inserts);
        # on SQLite the successor is stored anyway, and handed out only if the grace period
        # allows (reuse revokes its family, so the stored one is never usable).
        if _mark_and_insert(digest, now, *row):
            return successor
        rotated_at = _rotated_at(digest)
        if rotated_at is None or not _within_grace(rotated_at, grace=grace, now=now):
            return None
        if connection.vendor == "sqlite":
            return successor
    with transaction.atomic():
        if rotated_at is None and not _mark_rotated(digest, now):
            # Another refresh of this token got there first.
            rotated_at = _rotated_at(digest)
            if rotated_at is None or not _within_grace(rotated_at, grace=grace, now=now):
                return None
        _insert_token(*row)
    return successor


def _rotated_at(digest: str) -> dt.datetime | None:
    return RefreshToken.objects.filter(digest=digest).values_list("rotated_at", flat=True).first()


# The databases where one statement marks a token rotated and inserts its successor.
_ONE_STATEMENT_ROTATION = ("postgresql", "sqlite")


@functools.cache
def _rotation_sql(vendor: str) -> tuple[str, str, str | None]:
    """The rotation's two statements (per database vendor, for its quoting), and both as one
    (_ONE_STATEMENT_ROTATION), written once from the model's own names: building them through
    the ORM on every refresh cost more than running them. On PostgreSQL the one statement is a
    data-modifying CTE (the INSERT runs only for the row the UPDATE marked); on SQLite, which
    has none, an UPSERT of the token (marked only if unmarked) and its successor."""
    quote = connection.ops.quote_name
    table = quote(RefreshToken._meta.db_table)
    digest, family, created, rotated = (
        quote(RefreshToken._meta.get_field(name).column)
        for name in ("digest", "family", "created_at", "rotated_at")
    )
    mark = f"UPDATE {table} SET {rotated} = %s WHERE {digest} = %s AND {rotated} IS NULL"  # noqa: S608
    columns = f"{table} ({digest}, {family}, {created}, {rotated})"
    insert = f"INSERT INTO {columns} VALUES (%s, %s, %s, NULL)"  # noqa: S608 (names only)
    if vendor == "postgresql":
        mark_and_insert = (
            f"WITH marked AS ({mark} RETURNING 1) "  # noqa: S608 (names only)
            f"INSERT INTO {columns} SELECT %s, %s, %s, NULL FROM marked"
        )
    elif vendor == "sqlite":
        # The token's row exists (a refresh read it; token rows go only with their family),
        # so its VALUES row conflicts and the DO UPDATE marks it if unmarked; if the family
        # was deleted since, its foreign key refuses the statement (_mark_and_insert).
        mark_and_insert = (
            f"INSERT INTO {columns} VALUES (%s, %s, %s, %s), (%s, %s, %s, NULL) "  # noqa: S608
            f"ON CONFLICT ({digest}) DO UPDATE SET {rotated} = excluded.{rotated} "
            f"WHERE {table}.{rotated} IS NULL"
        )
    else:
        mark_and_insert = None
    return mark, insert, mark_and_insert


def _mark_and_insert(
    digest: str, now: dt.datetime, successor: str, family_id: uuid.UUID, created_at: dt.datetime
) -> bool:
    """Mark the token rotated and insert its successor in one statement: True for the one
    refresh that marked it (on SQLite the successor is inserted either way)."""
    family = _family_key().get_db_prep_value(family_id, connection)
    adapt = connection.ops.adapt_datetimefield_value
    sql = _rotation_sql(connection.vendor)[2]
    created = adapt(created_at)
    if connection.vendor == "postgresql":
        params, marked = [adapt(now), digest, successor, family, created], 1
    else:
        # The token's row (which conflicts), then the successor's; both rows count as changed.
        params = [digest, family, created, adapt(now), successor, family, created]
        marked = 2
    try:
        return compiled.run(sql, params) == marked
    except IntegrityError:
        # SQLite's UPSERT inserted the token's own row: its family (and with it the token) was
        # deleted since the refresh read it (the user, client or pool went). The statement
        # stored nothing; the token is gone, which the caller answers as any unknown token.
        return False


def _mark_rotated(digest: str, now: dt.datetime) -> bool:
    """Mark the token rotated if nobody did yet: True for the one refresh that did."""
    mark, _, _ = _rotation_sql(connection.vendor)
    return compiled.run(mark, [connection.ops.adapt_datetimefield_value(now), digest]) == 1


@functools.cache
def _family_key():
    """The field a refresh token's family reference is stored as (the family's primary key)."""
    return RefreshToken._meta.get_field("family").target_field


def _insert_token(digest: str, family_id: uuid.UUID, created_at: dt.datetime) -> None:
    _, insert, _ = _rotation_sql(connection.vendor)
    compiled.run(
        insert,
        [
            digest,
            _family_key().get_db_prep_value(family_id, connection),
            connection.ops.adapt_datetimefield_value(created_at),
        ],
    )


# -------------------------------------------------------------------------- client credentials


def client_credentials(
    *,
    client: AppClient,
    scopes: list[str] | tuple[str, ...],
    client_metadata: dict[str, str] | None = None,
) -> Tokens:
    """An access token for a confidential client acting for itself (machine to machine).
    Only resource-server scopes the client is allowed; no ID or refresh token; sub = client id.
    A V3_0 pre-token trigger may change its claims and scopes (pre_token.apply_client_credentials).
    Raises InvalidOAuthFlowException (OAuth `unauthorized_client`) when the client may not use
    this grant and InvalidParameterException(field="scope") (OAuth `invalid_scope`)."""
    if not client.is_confidential or "client_credentials" not in client.allowed_oauth_flows:
        raise InvalidOAuthFlowException("Client is not allowed the client_credentials flow.")
    pool = client.pool
    custom = pool_rows.custom_scopes(pool)
    allowed = [scope for scope in client.allowed_oauth_scopes if scope in custom]
    requested = list(dict.fromkeys(scopes))
    if not requested:
        granted = allowed
    else:
        unknown = [scope for scope in requested if scope not in allowed]
        if unknown:
            raise InvalidParameterException(f"Invalid scope: {unknown[0]}", field="scope")
        granted = requested
    if not granted:
        raise InvalidParameterException("No resource-server scope is allowed.", field="scope")
    now = clock.timestamp()
    claims = {
        "sub": client.client_id,
        "token_use": "access",
        "scope": " ".join(granted),
        "auth_time": now,
        "iss": jwt.issuer(pool),
        "exp": now + client.access_token_validity,
        "iat": now,
        "version": 2,
        "jti": str(uuid.uuid4()),
        "client_id": client.client_id,
    }
    pre_token.apply_client_credentials(
        client=client, access_claims=claims, client_metadata=client_metadata
    )
    return Tokens(access_token=jwt.sign(pool, claims), expires_in=client.access_token_validity)


# ---------------------------------------------------------------------------------- revoking


def revoke(*, client: AppClient, token: str) -> None:
    """Revoke the family of a refresh token (RFC 7009 / RevokeToken). Unknown or already revoked
    tokens are not an error (RFC 7009 §2.2). Raises UnsupportedTokenTypeException for a JWT
    (OAuth door: 400 `unsupported_token_type`), UnsupportedOperationException when the client
    has revocation disabled and UnauthorizedException when the token belongs to another client
    (as Cognito's RevokeToken; OAuth door: 400 `invalid_request`)."""
    if not client.enable_token_revocation:
        raise UnsupportedOperationException("Token revocation is not enabled for this client.")
    if not token or not isinstance(token, str) or len(token) > 4096:
        return
    if token.count(".") == 2 and token.startswith("eyJ"):
        raise UnsupportedTokenTypeException("Only refresh tokens can be revoked.")
    row = (
        RefreshToken.objects.select_related("family")
        .filter(digest=crypto.digest(token))
        .only("digest", "family__id", "family__client_id", "family__revoked_at")
        .first()
    )
    if row is None:
        return
    if row.family.client_id != client.client_id:
        raise UnauthorizedException("The refresh token was not issued to this client.")
    revoke_family(family_id=row.family.pk, reason="revoked")


def revoke_family(*, family_id: uuid.UUID | str, reason: str) -> None:
    """Revoke one refresh family: its refresh tokens and every access/ID token carrying its id
    as `origin_jti` stop working. Revoking twice keeps the first reason."""
    RefreshFamily.objects.filter(pk=family_id, revoked_at__isnull=True).update(
        revoked_at=clock.now(), revoked_reason=reason[:64]
    )


def revoke_own_family(*, user: User, family_id: object) -> None:
    """A user signs out one of their own sessions (the account page): that refresh family is
    revoked. Another user's family, or no family, is ResourceNotFoundException."""
    try:
        family_id = uuid.UUID(str(family_id))
    except ValueError:
        raise ResourceNotFoundException("Session not found.") from None
    if not RefreshFamily.objects.filter(pk=family_id, user=user).exists():
        raise ResourceNotFoundException("Session not found.")
    revoke_family(family_id=family_id, reason="signed_out")


def revoke_user_sessions(*, user: User, reason: str) -> int:
    """Global sign-out: revoke every refresh family of the user and void every token and
    session that started before now. Returns how many families were revoked."""
    now = clock.now()
    with transaction.atomic():
        count = RefreshFamily.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason[:64]
        )
        user.tokens_valid_after = now
        User.objects.filter(pk=user.pk).update(tokens_valid_after=now)
    return count


# ---------------------------------------------------------------------------------- checking


_REVOKED = "Access Token has been revoked"


class _NotCurrent(Exception):
    """The process's copy of the pool, read without its version, may not be the pool as it is."""


def _check_access(
    *,
    pool: UserPool,
    token: str | jwt.Unverified,
    required_scope: str | None = None,
    reading: bool = False,
    kept: bool = False,
) -> tuple[dict[str, Any], RefreshFamily | None]:
    """`kept` (with `reading`): `pool` is the process's copy, its version not read; the family's
    read brings the version, and whatever may come from another version (a refusal by the
    token's checks, no family, another version, a token without a family) raises _NotCurrent."""
    try:
        claims = jwt.verify(pool, token, token_use="access")
    except NotAuthorizedException:
        if kept:
            raise _NotCurrent from None
        raise
    family = None
    if "username" in claims:
        try:
            family_id = uuid.UUID(str(claims.get("origin_jti")))
        except ValueError:
            raise NotAuthorizedException("Invalid Access Token") from None
        family = token_rows.access_family(pool_id=pool.pk, family_id=family_id, reading=reading)
        if kept and (family is None or family.pool_version != pool.config_version):
            raise _NotCurrent
        if family is None or family.revoked_at is not None:
            raise NotAuthorizedException(_REVOKED)
        user = family.user
        if str(user.sub) != claims.get("sub") or family.client_id != claims.get("client_id"):
            raise NotAuthorizedException("Invalid Access Token")
        sign_in_checks.check_still_valid(
            user=user, client=family.client, signed_in_at=claims["iat"], revoked=_REVOKED
        )
        user.pool = pool
    elif kept:
        raise _NotCurrent
    elif not sign_in_checks.client_exists(pool=pool, client_id=claims.get("client_id")):
        raise NotAuthorizedException(_REVOKED)
    if required_scope and required_scope not in str(claims.get("scope", "")).split():
        raise NotAuthorizedException("Access Token does not have required scopes")
    return claims, family


def _read_access(
    *, pool: UserPool, token: str | jwt.Unverified, required_scope: str | None, kept: bool
) -> tuple[UserPool, dict[str, Any], RefreshFamily | None]:
    """_check_access for a read of the user (userInfo, GetUser), with the pool it was made
    with. `kept`: `pool` is the process's copy, its version not read (pools.kept_pool): one
    statement when the copy is current; otherwise the check is made again with the pool as it
    is now (cached_pool), so that a key retired or a pool changed on another server holds at
    once, as every other check does."""
    if kept:
        try:
            claims, family = _check_access(
                pool=pool, token=token, required_scope=required_scope, reading=True, kept=True
            )
            return pool, claims, family
        except _NotCurrent:
            pool = pool_rows.cached_pool(pool.pk)
            if pool is None:
                raise NotAuthorizedException("Invalid Access Token") from None
    claims, family = _check_access(
        pool=pool, token=token, required_scope=required_scope, reading=True
    )
    return pool, claims, family


def verify_access_token(
    *, pool: UserPool, token: str, required_scope: str | None = None
) -> dict[str, Any]:
    """The claims of a valid, unrevoked access token of this pool whose user is enabled.
    NotAuthorizedException: "Access Token has expired", "Access Token has been revoked",
    "Invalid Access Token", "Access Token does not have required scopes"."""
    claims, _ = _check_access(pool=pool, token=token, required_scope=required_scope)
    return claims


def access_token_user(*, pool: UserPool, token: str, required_scope: str | None = None) -> User:
    """The user an access token speaks for (JSON API: GetUser, ChangePassword, ...), after the
    same checks as verify_access_token. Client-credentials tokens have no user: refused."""
    return access_token_caller(pool=pool, token=token, required_scope=required_scope)[0]


def access_token_caller(
    *,
    pool: UserPool,
    token: str | jwt.Unverified,
    required_scope: str | None = None,
    reading: bool = False,
    kept: bool = False,
) -> tuple[User, AppClient]:
    """The user an access token speaks for and the app client it was issued to (whose
    read_attributes and write_attributes bound what the token may read and write), after the
    same checks as access_token_user. `reading` (GetUser): the user and client with only what
    a read of the user's attributes and MFA settings uses (selectors.tokens.access_family);
    `kept`: `pool` is the process's copy, its version not read (_read_access). `token` may be
    the door's own parse of it (jwt.Unverified), verified here as the string would be."""
    if reading:
        pool, _, family = _read_access(
            pool=pool, token=token, required_scope=required_scope, kept=kept
        )
    else:
        _, family = _check_access(pool=pool, token=token, required_scope=required_scope)
    if family is None:
        raise NotAuthorizedException("Invalid Access Token")
    family.client.pool = pool
    return family.user, family.client


def user_info(*, pool: UserPool, access_token: str, kept: bool = False) -> dict[str, str]:
    """The OIDC userInfo body: `sub`, `username` and the attributes the token's scopes release
    (custom ones included), booleans as "true"/"false". Needs the `openid` scope. `kept`:
    `pool` is the process's copy, its version not read (_read_access)."""
    _, claims, family = _read_access(
        pool=pool, token=access_token, required_scope="openid", kept=kept
    )
    if family is None:
        raise NotAuthorizedException("Invalid Access Token")
    user = family.user
    scopes = str(claims.get("scope", "")).split()
    body = {"sub": str(user.sub)}
    body.update(readable_attributes(user, family.client, scopes))
    body["username"] = user.username
    return body
