"""The e2e browser fixture's end: database connections opened while the browser ran are closed
(on PostgreSQL a forgotten one kept the test database from being dropped at the end)."""

from __future__ import annotations

import pytest
from django.db import connections

from pool.models import UserPool
from tests.e2e.conftest import chromium

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_connection_opened_while_the_browser_runs_is_closed_with_it():
    with chromium():
        UserPool.objects.count()
        opened = connections["default"]
        assert opened.connection is not None
    assert opened.connection is None
