"""pool.selectors.compiled.run: the hot paths' statements run on the driver's own cursor (on
SQLite and PostgreSQL), without the layers of Django's cursor around each execute, and behave
as through it: Django's errors, the broken-transaction refusal, the async-context refusal,
query counts that see them, the same rows on every database."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from django.core.exceptions import SynchronousOnlyOperation
from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from pool import clock, jwt
from pool.models import RefreshFamily, UserPool
from pool.selectors import compiled, tokens
from pool.services import tokens as token_service

pytestmark = pytest.mark.django_db

_TABLE = connection.ops.quote_name(UserPool._meta.db_table)


def test_rows_one_all_and_the_count_of_a_write(pool):
    select = f"SELECT id, name FROM {_TABLE} WHERE id = %s"  # noqa: S608 (test's own names)
    assert compiled.run(select, [pool.id], rows="one") == (pool.id, pool.name)
    assert compiled.run(select, [pool.id], rows="all") == [(pool.id, pool.name)]
    assert compiled.run(select, ["nobody_x"], rows="one") is None
    update = f"UPDATE {_TABLE} SET name = %s WHERE id = %s"  # noqa: S608
    assert compiled.run(update, ["renamed", pool.id]) == 1
    assert compiled.run(update, ["renamed", "nobody_x"]) == 0


def test_a_literal_percent_is_one_percent(db):
    assert compiled.run("SELECT '100%%', %s", ["x"], rows="one") == ("100%", "x")


def test_database_errors_are_djangos(pool):
    insert = f"INSERT INTO {_TABLE} (id) VALUES (%s)"  # noqa: S608
    with pytest.raises(IntegrityError), transaction.atomic():
        compiled.run(insert, [pool.id])


def test_a_broken_transaction_is_refused_as_djangos_cursor_refuses_it(pool):
    insert = f"INSERT INTO {_TABLE} (id) VALUES (%s)"  # noqa: S608
    with pytest.raises(TransactionManagementError), transaction.atomic():
        with contextlib.suppress(IntegrityError), transaction.atomic(savepoint=False):
            compiled.run(insert, [pool.id])
        # The error left the inner block without a savepoint: the transaction is broken now,
        # and nothing more may run in it.
        compiled.run("SELECT 1", [], rows="one")


def test_it_refuses_to_run_inside_an_event_loop(db):
    async def in_a_loop():
        compiled.run("SELECT 1", [], rows="one")

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(in_a_loop())


def test_query_counts_see_its_statements(pool):
    with CaptureQueriesContext(connection) as seen:
        compiled.run("SELECT 1", [], rows="one")
    assert [query["sql"] for query in seen.captured_queries] == ["SELECT 1"]


def test_a_hot_read_runs_on_the_drivers_cursor(pool, user, app_client, monkeypatch):
    """The family read of userInfo and GetUser runs without Django's cursor wrapper when
    nothing watches the queries, on both backends settings use (config/sqlite,
    config/postgresql)."""
    issued = token_service.issue(
        user=user, client=app_client, scopes=["openid"], auth_time=clock.now()
    )
    family_id = uuid.UUID(str(jwt.parse(issued.access_token).claims["origin_jti"]))
    through_django = []
    execute = CursorWrapper.execute

    def noted(self, sql, params=None):
        through_django.append(sql)
        return execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", noted)
    family = tokens.access_family(pool_id=pool.id, family_id=family_id, reading=True)
    assert family is not None and family.user.pk == user.pk
    assert through_django == []
    # The driver's cursor reads times as Django's does (aware, in Django's time zone).
    stored = RefreshFamily.objects.get(pk=family_id)
    assert family.auth_time == stored.auth_time and family.auth_time.tzinfo is not None
    assert family.expires_at == stored.expires_at
