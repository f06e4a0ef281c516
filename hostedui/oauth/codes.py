"""Authorization codes: random, stored as digests, five minutes, single use, bound to the client,
the redirect_uri and the PKCE challenge. A second redemption fails and revokes the refresh family
(and so every token) that the first one issued (RFC 6749 §4.1.2, RFC 9700 §4.5)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING

from django.db import connection, transaction

from hostedui.oauth import pkce
from hostedui.oauth.errors import OAuthError
from pool import clock, crypto
from pool import errors as domain
from pool.models import AppClient, AuthorizationCode, RefreshFamily, RefreshToken
from pool.selectors import compiled
from pool.selectors import sign_in as sign_in_checks
from pool.selectors import tokens as token_rows
from pool.services import tokens as token_service
from pool.services.results import Tokens

if TYPE_CHECKING:
    from hostedui.oauth.authorize import AuthorizationRequest

LIFETIME = dt.timedelta(minutes=5)


def digest(code: str) -> str:
    return crypto.digest(f"authorization_code:{code}")


def issue(*, request: AuthorizationRequest, user, auth_time: dt.datetime) -> str:
    """A new code for `user` answering `request`; the plaintext goes to the client only."""
    code = crypto.token(32)
    row = AuthorizationCode(
        digest=digest(code),
        pool=request.pool,
        client=request.client,
        user=user,
        redirect_uri=request.redirect_uri,
        scopes=list(request.scopes),
        nonce=request.nonce,
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        auth_time=auth_time,
        expires_at=clock.now() + LIFETIME,
    )
    compiled.insert(row)  # one INSERT; the ORM's save built it anew on every authorize
    return code


def _invalid(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def _check_binding(row: AuthorizationCode, *, client, redirect_uri, code_verifier) -> None:
    if row.client_id != client.client_id:
        raise _invalid("The code was issued to another client.")
    if row.expires_at <= clock.now():
        raise _invalid("The code has expired.")
    if row.redirect_uri != redirect_uri:
        raise _invalid("redirect_uri does not match the authorization request.")
    if row.code_challenge:
        if not code_verifier:
            raise OAuthError("invalid_request", "code_verifier is required for this code.")
        if not pkce.verifier_matches(code_verifier, row.code_challenge):
            raise _invalid("code_verifier does not match the code_challenge.")
    elif code_verifier:
        # PKCE downgrade: a verifier for a code issued without a challenge is refused.
        raise _invalid("The code was issued without a code_challenge.")
    elif client.needs_pkce:
        raise _invalid("Public clients must use PKCE.")
    try:
        sign_in_checks.check_still_valid(
            user=row.user,
            client=client,
            signed_in_at=row.auth_time,
            revoked="The sign-in that issued this code has been revoked.",
        )
    except domain.CognitoError as exc:
        raise _invalid(exc.message) from exc


@functools.cache
def _use_sql(vendor: str) -> str:
    """The single use, one conditional UPDATE (per database vendor, for its quoting) written
    once from the model's names: building it through the ORM cost more than running it."""
    quote = connection.ops.quote_name
    table = quote(AuthorizationCode._meta.db_table)
    digest_column, used, family = (
        quote(AuthorizationCode._meta.get_field(name).column)
        for name in ("digest", "used_at", "family")
    )
    return (
        f"UPDATE {table} SET {used} = %s, {family} = %s "  # noqa: S608 (names only)
        f"WHERE {digest_column} = %s AND {used} IS NULL"
    )


def _mark_used(code_digest: str, family: RefreshFamily) -> bool:
    """Mark the code used by `family` if nobody did yet: True for the one exchange that did."""
    family_id = RefreshFamily._meta.pk.get_db_prep_value(family.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            _use_sql(connection.vendor),
            [connection.ops.adapt_datetimefield_value(clock.now()), family_id, code_digest],
        )
        return cursor.rowcount == 1


@functools.cache
def _redeem_sql(vendor: str) -> str:
    """PostgreSQL: the single use and the new family in one statement (a data-modifying CTE:
    atomic, no BEGIN and COMMIT round trips); the family and its token are inserted only when
    the conditional UPDATE marked the code."""
    family = compiled.insert_statement(RefreshFamily)
    token = compiled.insert_statement(RefreshToken)
    return (
        f"WITH used AS ({_use_sql(vendor)} RETURNING 1), "
        f"stored_family AS ({family.selecting_from('used')}) "
        f"{token.selecting_from('used')}"
    )


def _redeem(row: AuthorizationCode, client: AppClient) -> token_service.StartedFamily | None:
    """Store a new refresh family for the code's sign-in and mark the code used by it, as one
    atomic write; None when a parallel exchange marked it first (then nothing is stored)."""
    if connection.vendor == "postgresql":
        started = token_service.new_family(
            user=row.user, client=client, scopes=list(row.scopes), auth_time=row.auth_time
        )
        family, token = token_service.family_rows(started)
        params = [
            connection.ops.adapt_datetimefield_value(clock.now()),
            RefreshFamily._meta.pk.get_db_prep_value(started.family.pk, connection),
            row.pk,
            *compiled.insert_statement(RefreshFamily).params(family, connection),
            *compiled.insert_statement(RefreshToken).params(token, connection),
        ]
        with connection.cursor() as cursor:
            cursor.execute(_redeem_sql(connection.vendor), params)
            if cursor.rowcount != 1:
                return None
        compiled.stored(family)
        compiled.stored(token)
        return started
    try:
        with transaction.atomic():
            started = token_service.start_family(
                user=row.user, client=client, scopes=list(row.scopes), auth_time=row.auth_time
            )
            if not _mark_used(row.pk, started.family):
                raise _Lost
    except _Lost:
        return None
    return started


class _Lost(Exception):
    """The code was redeemed by a parallel exchange between this one's read and its write."""


def exchange(
    *,
    client: AppClient,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    read: token_rows.CodeRead | None = None,
) -> Tokens:
    """Redeem `code` for tokens, once. A replay revokes what the first redemption issued.
    `read`: pool.selectors.tokens.code_read of this code, when the token endpoint made it to
    find the client; one read (code, user, groups) then one write transaction (on PostgreSQL
    one statement) whose conditional update (still unused) is the single use: of parallel
    redemptions exactly one wins, the others are replays. The tokens are signed after the
    commit (SQLite: no write lock held while RSA signs)."""
    key = digest(code or "")
    if read is None or read.code.digest != key:
        read = token_rows.code_read(pool_id=client.pool_id, digest=key)
    if read is None:
        raise _invalid("The code is not valid.")
    row = read.code
    replayed_family = row.family_id if row.used_at is not None else None
    started = None
    if row.used_at is None:
        _check_binding(row, client=client, redirect_uri=redirect_uri, code_verifier=code_verifier)
        row.user.pool = client.pool
        started = _redeem(row, client)
        if started is None:  # a parallel exchange redeemed it between our read and write
            replayed_family = (
                AuthorizationCode.objects.filter(pk=row.pk)
                .values_list("family_id", flat=True)
                .first()
            )
    if started is not None:
        return token_service.family_tokens(
            started, nonce=row.nonce, id_token="openid" in row.scopes, groups=read.groups
        )
    # Outside the transaction above, so that the revocation is kept while the error is raised.
    if replayed_family is not None:
        token_service.revoke_family(family_id=replayed_family, reason="code_replay")
    raise _invalid("The code has already been used.")
