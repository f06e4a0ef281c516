"""pytest-django's live server, with an end that closes what its requests opened: Django's
threaded test server serves each client connection in a thread of its own, which keeps its
database connection between requests (CONN_MAX_AGE) and keeps waiting for the client's next
request (HTTP keep-alive, e.g. a boto3 client not yet collected) after the server stopped. Such
a thread still held a session on the test database when pytest-django dropped it on PostgreSQL
("database ... is being accessed by other users": the database was left behind)."""

from __future__ import annotations

import contextlib
import socket
import threading

from django.core.servers.basehttp import ThreadedWSGIServer


class ClosingServer(ThreadedWSGIServer):
    """Closing the server hangs up on the clients it still serves, so that each request
    thread ends as when a client hangs up (closing its database connections: Django's
    close_request), and waits for those threads."""

    JOIN_SECONDS = 10.0  # for one request thread to finish after its client was hung up on

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._serving: dict[threading.Thread, socket.socket] = {}
        self._serving_lock = threading.Lock()

    def process_request_thread(self, request, client_address) -> None:
        with self._serving_lock:
            self._serving[threading.current_thread()] = request
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._serving_lock:
                del self._serving[threading.current_thread()]

    def server_close(self) -> None:
        super().server_close()
        with self._serving_lock:
            serving = list(self._serving.items())
        for _, request in serving:
            with contextlib.suppress(OSError):  # the client hung up meanwhile
                request.shutdown(socket.SHUT_RDWR)
        for thread, _ in serving:
            thread.join(timeout=self.JOIN_SECONDS)
