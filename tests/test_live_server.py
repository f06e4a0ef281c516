"""tests.live_server: the live server's end closes the database connections of the requests it
served, even for a client that keeps its HTTP connection open (otherwise PostgreSQL refuses to
drop the test database at the end of the run)."""

from __future__ import annotations

import threading

import pytest
import requests
from django.db.backends.signals import connection_created
from pytest_django.live_server_helper import LiveServer

from tests.live_server import ClosingServer


@pytest.mark.django_db(transaction=True)
def test_closing_hangs_up_on_a_kept_alive_client_and_closes_its_database_connection():
    opened = []

    def note(sender, connection, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            opened.append((threading.current_thread(), connection))

    connection_created.connect(note)
    server = LiveServer("localhost", start=False)
    server.thread.server_class = ClosingServer
    server.start()
    try:
        with requests.Session() as client:
            answer = client.get(f"{server.url}/readyz", timeout=10)
            assert answer.status_code == 200, answer.text
            assert answer.headers.get("Connection") != "close"  # the client keeps it open
            [(thread, database)] = opened
            assert thread.is_alive() and database.connection is not None  # between requests
            server.stop()
    finally:
        connection_created.disconnect(note)
        if server.thread.is_alive():
            server.stop()
    assert not thread.is_alive()
    assert database.connection is None
