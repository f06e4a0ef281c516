"""config.front.RequestSignals: the request_started / request_finished work of the requests
ApiDoor answers. While only Django's own receivers are connected it does their work itself
(without the dispatcher); with any other receiver it sends the signal as Django does."""

from __future__ import annotations

import time

import pytest
from django.core import signals
from django.core.cache import close_caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, connection, reset_queries
from django.urls import get_urlconf, set_urlconf

from config.front import RequestSignals, _caches_close_nothing

STARTED = {reset_queries, close_old_connections}


def no_dispatch(monkeypatch) -> None:
    """From now on sending either request signal fails the test."""

    def sent(*args, **kwargs):
        raise AssertionError("the signal was sent")

    monkeypatch.setattr(signals.request_started, "send", sent)
    monkeypatch.setattr(signals.request_finished, "send", sent)


def test_djangos_own_receivers_are_the_plan():
    lifecycle = RequestSignals()
    assert lifecycle._plan(signals.request_started) == STARTED
    assert lifecycle._plan(signals.request_finished) == {
        close_old_connections,
        close_caches,
        reset_urlconf,
    }


def test_another_receiver_is_sent_to_and_the_plan_returns_when_it_leaves():
    lifecycle = RequestSignals()
    seen = []

    def note(**kwargs):
        seen.append(kwargs["signal"])

    signals.request_started.connect(note)
    try:
        assert lifecycle._plan(signals.request_started) is None
        lifecycle.started({})
    finally:
        signals.request_started.disconnect(note)
    assert seen == [signals.request_started]
    assert lifecycle._plan(signals.request_started) == STARTED


def test_a_subset_of_djangos_receivers_is_still_a_plan():
    """As tests and Django's test client run requests: close_old_connections disconnected."""
    lifecycle = RequestSignals()
    signals.request_started.disconnect(close_old_connections)
    try:
        assert lifecycle._plan(signals.request_started) == {reset_queries}
    finally:
        signals.request_started.connect(close_old_connections)


@pytest.mark.django_db(transaction=True)
def test_the_start_clears_the_queries_and_closes_an_expired_connection(monkeypatch):
    connection.ensure_connection()
    connection.queries_log.append({"sql": "SELECT 1", "time": "0.000"})
    connection.close_at = time.monotonic() - 1  # past DATABASE_CONN_MAX_AGE
    no_dispatch(monkeypatch)
    RequestSignals().started({})
    assert len(connection.queries_log) == 0
    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_the_end_closes_a_connection_left_out_of_autocommit(monkeypatch):
    connection.ensure_connection()
    connection.set_autocommit(False)  # a request that did not restore it
    no_dispatch(monkeypatch)
    RequestSignals().finished()
    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_a_connection_in_use_stays_open(monkeypatch):
    connection.ensure_connection()
    connection.close_at = None
    no_dispatch(monkeypatch)
    lifecycle = RequestSignals()
    lifecycle.started({})
    lifecycle.finished()
    assert connection.connection is not None


def test_the_end_resets_the_urlconf(monkeypatch):
    set_urlconf("config.urls")
    no_dispatch(monkeypatch)
    RequestSignals().finished()
    assert get_urlconf() is None


class ClosingCache(LocMemCache):
    """A cache backend whose close() does something (as memcached's)."""

    closed = 0

    def close(self, **kwargs):
        ClosingCache.closed += 1


def test_caches_that_close_are_closed_at_the_end(settings, monkeypatch):
    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "tests.perf.test_request_signals.ClosingCache"}}
    caches["default"]  # initialized in this thread, as a request that used it
    before = ClosingCache.closed
    no_dispatch(monkeypatch)
    RequestSignals().finished()
    assert ClosingCache.closed == before + 1


def test_a_cache_backend_that_does_not_import_is_left_to_djangos_close_caches(
    settings, monkeypatch
):
    """Django closes only the caches a request used: a configured, never used backend that
    does not import must not fail the end of every request."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "unused": {"BACKEND": "no.such.CacheBackend"},
    }
    set_urlconf("config.urls")
    no_dispatch(monkeypatch)
    RequestSignals().finished()  # close_caches closes the default cache only, as Django's
    assert _caches_close_nothing() is False
    assert get_urlconf() is None  # the end ran to its last step
