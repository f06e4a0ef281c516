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
