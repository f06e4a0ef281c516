"""Waiting for PostgreSQL to deliver a notification of a configuration change committed
elsewhere (pool.config_generation): it arrives asynchronously, moments after the commit."""

from __future__ import annotations

import select

from django.db import connection

from pool import config_generation


def listener() -> config_generation.Listener:
    """This process's listening connection to the test database (connected by `current`)."""
    config_generation.current()
    return config_generation._counter(connection)


def wait_for_delivery(timeout: float = 10.0) -> None:
    """Until something arrived on the listening connection (or `timeout` seconds passed; the
    caller's assertion then fails): no fixed sleep."""
    own = listener()._connection
    assert own is not None, "not listening"
    select.select([own.pgconn.socket], [], [], timeout)
