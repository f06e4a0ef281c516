"""The one atomic counter (pool.services.counters) that lockouts, rate limits and caps share."""

from __future__ import annotations

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
