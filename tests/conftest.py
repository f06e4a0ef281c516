"""Fixtures shared by every capability's tests."""

from __future__ import annotations

import glob
import os
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller
from pytest_django.live_server_helper import LiveServer

from pool import clock, crypto
from tests import factories
from tests.live_server import ClosingServer


def pytest_configure(config):
    """Without REDIS_URL the tests keep the cache in process memory: each test process is one
    server process, and the default shared database cache (config/cache.py) would need a
    database for every test that touches a counter. tests/test_scale.py runs the real default
    between server processes, and tests/pool/test_shared_cache.py tests it directly.

    Under pytest-xdist with REDIS_URL, give each worker its own Redis database (the next
    ones after REDIS_URL's), so one worker clearing the cache never wipes another's counters."""
    from django.conf import settings

    if settings.CACHE_KIND == "database":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    redis_url = os.environ.get("REDIS_URL")
    if not (worker.startswith("gw") and redis_url):
        return
    parsed = urlparse(redis_url)
    base = int(parsed.path.strip("/") or 0)
    own = parsed._replace(path=f"/{base + 1 + int(worker[2:])}").geturl()
    settings.CACHES["default"]["LOCATION"] = own


def pytest_unconfigure(config):
    """The test database's count of configuration changes (pool.config_generation) and its
    counters' slot file (config/counter_slots.py) go with the database file Django deleted
    (this process's own: its name holds the pid)."""
    from django.conf import settings

    from config.counter_slots import SUFFIX as COUNTERS
    from pool.config_generation import SUFFIX

    test_name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if test_name:
        for suffix in (SUFFIX, COUNTERS):
            for path in glob.glob(glob.escape(test_name) + "*" + suffix):
                os.remove(path)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test database, and before it is dropped, this process's connections
    listening to it (pool.config_generation on PostgreSQL) closed: PostgreSQL refuses to drop
    a database a session is still connected to."""
    yield
    from pool.config_generation import stop_listening

    stop_listening()


@pytest.fixture(scope="session")
def live_server(request, django_db_setup) -> Iterator[LiveServer]:
    """pytest-django's live server (this replaces its fixture), started once the test database
    exists, so stopped before it is dropped: pytest ends session fixtures in the reverse order
    of their start, and pytest-django's own starts before the database when a worker's first
    database test is a live-server one. Served by tests.live_server.ClosingServer, whose end
    closes its request threads' database connections."""
    addr = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.server_class = ClosingServer
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fast_hashing_and_clean_state(settings):
    """Cheaper argon2 in tests (the configured cost is measured by bench/, not here); a clean
    clock, cache and derived keys for every test."""
    settings.ARGON2_MEMORY_KIB = 1024
    settings.ARGON2_TIME_COST = 1
    from django.core.cache import cache

    cache.clear()
    clock.unfreeze()
    crypto.reset_caches()
    yield
    clock.unfreeze()


@pytest.fixture
def pool(db):
    return factories.make_pool()


@pytest.fixture
def app_client(pool):
    """A public app client (no secret) on `pool`."""
    return factories.make_client(pool)


@pytest.fixture
def confidential_client(pool):
    return factories.make_client(pool, secret="")


@pytest.fixture
def user(pool):
    return factories.make_user(pool, "alice")


class _SinkHandler:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.arrived:
            self.messages.append(message_from_bytes(envelope.content))
            self.arrived.notify_all()
        return "250 OK"


class SmtpSink:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self, handler: _SinkHandler, port: int) -> None:
        self._handler = handler
        self.port = port

    @property
    def messages(self) -> list[Message]:
        return list(self._handler.messages)

    def wait_for(self, to: str, timeout: float = 10.0) -> Message:
        """The newest message sent to `to`, waiting for it to arrive."""

        def newest():
            return next((m for m in reversed(self._handler.messages) if to in m["To"]), None)

        with self._handler.arrived:
            self._handler.arrived.wait_for(lambda: newest() is not None, timeout=timeout)
        message = newest()
        assert message is not None, f"no email to {to} arrived"
        return message

    def body(self, message: Message) -> str:
        """The text part (the whole body of a single-part message)."""
        return self.part(message, "text/plain")

    def html(self, message: Message) -> str:
        """The HTML part of a multipart message."""
        return self.part(message, "text/html")

    @staticmethod
    def part(message: Message, content_type: str) -> str:
        for part in message.walk():
            if part.get_content_type() == content_type:
                payload = part.get_payload(decode=True)
                charset = part.get_content_charset() or "utf-8"
                text = payload.decode(charset) if isinstance(payload, bytes) else str(payload)
                return text.replace("\r\n", "\n")  # SMTP's line ends back to Python's
        raise AssertionError(f"no {content_type} part in the message")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink(settings) -> Iterator[SmtpSink]:
    """Route Django's email through a real SMTP server (aiosmtpd) listening on loopback."""
    handler = _SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        yield SmtpSink(handler, port)
    finally:
        controller.stop()
