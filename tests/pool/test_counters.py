"""The one atomic counter (pool.services.counters) that lockouts, rate limits and caps share."""

from __future__ import annotations

import contextlib
import os
import time
from unittest import mock

import pytest
import redis

from pool.services import counters
from tests import parallel


def test_each_hit_returns_the_count_including_itself():
    assert [counters.hit("probe", timeout=60) for _ in range(3)] == [1, 2, 3]
    assert counters.value("probe") == 3


def test_keys_are_counted_apart():
    counters.hit("probe:a", timeout=60)
    assert counters.hit("probe:b", timeout=60) == 1
    assert counters.value("probe:never") == 0


def test_within_counts_refused_events_too():
    answers = [counters.within("probe", limit=2, timeout=60) for _ in range(4)]
    assert answers == [True, True, False, False]
    assert counters.value("probe") == 4


def test_parallel_hits_each_get_their_own_number():
    threads = 16
    seen = parallel.burst(lambda: counters.hit("probe", timeout=60), threads)
    assert sorted(seen) == list(range(1, threads + 1))


def test_a_sliding_count_lives_from_its_latest_event(settings):
    """The in-process cache (add/incr, then touch): a sliding count gets its timeout again.
    The default cache is made one here (it is Redis when REDIS_URL is set)."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sliding-count",
        }
    }
    cache = caches["default"]
    assert not hasattr(cache, "count")  # the add/incr fallback of pool.services.counters
    counters.hit("probe", timeout=60, slide=True)
    stored = cache.make_and_validate_key("probe")
    cache._expire_info[stored] = time.time() + 5
    assert counters.hit("probe", timeout=60, slide=True) == 2
    assert cache._expire_info[stored] > time.time() + 50
    cache._expire_info[stored] = time.time() + 5
    assert counters.hit("probe", timeout=60) == 3  # without slide the expiry stays
    assert cache._expire_info[stored] < time.time() + 10


# ------------------------------------------------------------------ Redis (SharedRedisCache)

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (config.cache.SharedRedisCache)"
)


def _redis():
    from django.core.cache import cache

    return cache, cache._cache.get_client(write=True)


@contextlib.contextmanager
def _commands(client):
    """The names of the commands `client` sends meanwhile, a pipeline as "pipeline"."""
    calls = []
    real, real_execute = type(client).execute_command, redis.client.Pipeline.execute
    with (
        mock.patch.object(type(client), "execute_command", autospec=True) as command,
        mock.patch("redis.client.Pipeline.execute", autospec=True) as execute,
    ):
        command.side_effect = lambda *a, **k: calls.append(a[1]) or real(*a, **k)
        execute.side_effect = lambda self, *a, **k: (
            calls.append("pipeline") or real_execute(self, *a, **k)
        )
        yield calls


@needs_redis
def test_redis_count_is_one_command_and_gives_the_key_its_expiry():
    cache, client = _redis()
    with _commands(client) as calls:
        assert counters.hit("probe", timeout=60) == 1
        assert counters.hit("probe", timeout=60) == 2
    assert calls == ["EVALSHA", "EVALSHA"]
    ttl = client.ttl(cache.make_and_validate_key("probe"))
    assert 0 < ttl <= 60


@needs_redis
def test_redis_count_loads_its_script_again_after_a_flush():
    """A restarted server (or SCRIPT FLUSH) has forgotten the script: it is loaded again and
    the count goes on."""
    cache, client = _redis()
    assert counters.hit("probe", timeout=60) == 1
    client.script_flush()
    assert counters.hit("probe", timeout=60) == 2
    assert 0 < client.ttl(cache.make_and_validate_key("probe")) <= 60


@needs_redis
def test_redis_count_keeps_a_live_keys_expiry():
    cache, client = _redis()
    stored = cache.make_and_validate_key("probe")
    counters.hit("probe", timeout=60)
    client.expire(stored, 5)
    assert counters.hit("probe", timeout=60) == 2
    assert 0 < client.ttl(stored) <= 5


@needs_redis
def test_redis_count_starts_again_with_an_expiry_once_the_key_is_gone():
    cache, client = _redis()
    counters.hit("probe", timeout=60)
    client.delete(cache.make_and_validate_key("probe"))  # expired or evicted
    assert counters.hit("probe", timeout=60) == 1
    assert client.ttl(cache.make_and_validate_key("probe")) > 0


@needs_redis
def test_redis_count_without_timeout_keeps_the_key():
    cache, client = _redis()
    assert counters.hit("probe", timeout=None) == 1
    assert counters.hit("probe", timeout=None) == 2
    assert client.ttl(cache.make_and_validate_key("probe")) == -1  # no expiry


@needs_redis
def test_one_redis_client_object_per_process():
    cache, client = _redis()
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client() is client  # one server: reads use it too


@needs_redis
def test_redis_sliding_count_renews_the_expiry_in_the_same_round_trip():
    cache, client = _redis()
    stored = cache.make_and_validate_key("probe")
    assert counters.hit("probe", timeout=60, slide=True) == 1
    assert 0 < client.ttl(stored) <= 60
    client.expire(stored, 5)
    with _commands(client) as calls:
        assert counters.hit("probe", timeout=60, slide=True) == 2
    assert calls == ["EVALSHA"]
    assert client.ttl(stored) > 50
