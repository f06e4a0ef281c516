"""PostgreSQL: hot-path statements become server-side prepared statements
(config/settings.py, DATABASE_PREPARE_THRESHOLD), so PostgreSQL stops parsing and planning
them on every request."""

from __future__ import annotations

import pytest
from django.db import connection

from pool.selectors import pools

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_a_statement_run_often_is_prepared_on_the_server(pool):
    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    assert threshold is not None  # on by default
    for _ in range(threshold + 1):
        assert pools.current_version(pool.id) == pool.config_version
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("config_version" in statement and "$1" in statement for statement in prepared)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_sqlite_placeholders_are_converted_as_django_does_and_kept():
    """config/sqlite: `%s` becomes `?` and `%%` a literal `%`, as in Django's backend; the
    conversion of a statement's text is made once."""
    from config.sqlite import base

    sql = "SELECT %s || '%%', %s"
    before = base._qmark.cache_info()
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute(sql, ["a", "b"])
            assert cursor.fetchone() == ("a%", "b")
    after = base._qmark.cache_info()
    assert after.misses - before.misses <= 1
    assert after.hits - before.hits >= 2
    assert base._qmark(sql) == "SELECT ? || '%', ?"
