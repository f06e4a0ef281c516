"""The default cache without Redis (config/cache.SharedDatabaseCache on the database every
process shares): counters stay atomic, keep their expiry, and are never culled while live.

The test run itself keeps an in-process cache (tests/conftest.py); these tests switch to the
production default. tests/test_scale.py shows it shared between two server processes.

Here the counters live in their table, as on PostgreSQL and an in-memory SQLite database
(OPTIONS COUNTER_SLOTS 0); tests/pool/test_counter_slots.py tests them in the slot file of a
SQLite database file (config/counter_slots.py), where the table takes only the overflow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pool.models import CacheEntry, Counter
from pool.services import counters, lockout
from tests import parallel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def database_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedDatabaseCache",
            "LOCATION": "cognate_cache",
            "OPTIONS": {"MAX_ENTRIES": 5, "COUNTER_SLOTS": 0},
        }
    }
    yield
    cache.clear()


def test_the_cache_is_the_migrated_table():
    counters.hit("probe", timeout=60)
    cache.set("document", {"a": 1}, timeout=60)
    assert Counter.objects.count() == 1
    assert CacheEntry.objects.count() == 1
    assert counters.value("probe") == 1


def test_counting_is_one_statement():
    counters.hit("probe", timeout=60)  # the first hit may also cull expired counters
    with CaptureQueriesContext(connection) as queries:
        assert counters.hit("probe", timeout=60) == 2
    assert len(queries) == 1


def test_an_expired_counter_row_starts_again_with_a_new_expiry():
    counters.hit("probe", timeout=60)
    counters.hit("probe", timeout=60)
    Counter.objects.update(expires=Counter.objects.get().expires.replace(year=2000))
    assert counters.value("probe") == 0
    assert counters.hit("probe", timeout=60) == 1
    assert Counter.objects.get().expires.year > 2000
    assert counters.hit("probe", timeout=60) == 2


def test_clear_forgets_the_counters_too():
    counters.hit("probe", timeout=60)
    cache.clear()
    assert counters.value("probe") == 0
    assert counters.hit("probe", timeout=60) == 1


def test_deleting_a_key_forgets_its_counter():
    counters.hit("probe", timeout=60)
    counters.hit("other", timeout=60)
    cache.delete_many(["probe", "absent"])
    assert counters.value("probe") == 0
    assert counters.value("other") == 1
    assert counters.hit("probe", timeout=60) == 1
    assert cache.delete("other") is True
    assert counters.value("other") == 0


def test_successful_sign_ins_are_not_counted_as_failures():
    """A success forgets the attempts (lockout.reset deletes the count of the series): four
    successes and then one wrong password is one failure, not a fifth that locks."""
    who = lockout.subject("local_x", user_id=1)
    for _ in range(lockout.FREE_FAILURES - 1):
        lockout.attempt(lockout.PASSWORD, who)
        lockout.reset(lockout.PASSWORD, who)
    assert lockout.attempt(lockout.PASSWORD, who).failures == 1
    assert lockout.failures(lockout.PASSWORD, who) == 1
    assert not lockout.is_locked(lockout.PASSWORD, who)


def test_parallel_hits_each_get_their_own_number():
    threads = 8
    seen = parallel.burst(lambda: counters.hit("probe", timeout=60), threads)
    assert sorted(seen) == list(range(1, threads + 1))
    assert counters.value("probe") == threads


def test_incr_keeps_the_expiry():
    counters.hit("forever", timeout=None)
    counters.hit("series", timeout=1800)
    before = {entry.counter_key: entry.expires for entry in Counter.objects.all()}
    assert counters.hit("forever", timeout=None) == 2
    assert counters.hit("series", timeout=1800) == 2
    after = {entry.counter_key: entry.expires for entry in Counter.objects.all()}
    assert after == before


def test_add_keeps_a_live_entry_and_replaces_an_expired_one():
    assert cache.add("live", 1, timeout=60)
    assert not cache.add("live", 2, timeout=60)
    assert cache.get("live") == 1
    cache.set("gone", 7, timeout=-1)  # stored already expired
    assert cache.add("gone", 1, timeout=60)
    assert cache.get("gone") == 1


def test_touch_extends_live_entries_only():
    cache.set("live", 1, timeout=60)
    before = CacheEntry.objects.get(cache_key__endswith=":live").expires
    assert cache.touch("live", timeout=3600)
    assert CacheEntry.objects.get(cache_key__endswith=":live").expires > before
    assert cache.touch("live", timeout=None)
    assert cache.get("live") == 1
    cache.set("gone", 1, timeout=-1)
    assert not cache.touch("gone", timeout=60)
    assert cache.get("gone") is None
    assert not cache.touch("never", timeout=60)


def test_an_expired_counter_starts_again_at_one():
    cache.set("probe", 9, timeout=-1)
    with pytest.raises(ValueError):
        cache.incr("probe")
    assert counters.hit("probe", timeout=60) == 1
    assert counters.hit("probe", timeout=60) == 2


def test_parallel_adds_let_exactly_one_win():
    won = parallel.burst(lambda: cache.add("race", 1, timeout=60), 8)
    assert sorted(won) == [False] * 7 + [True]


def test_a_full_table_drops_only_expired_entries():
    cache.set("old", 1, timeout=-1)  # stored already expired
    for number in range(12):
        counters.hit(f"live:{number}", timeout=600)
    assert cache.get("old") is None
    assert all(counters.value(f"live:{number}") == 1 for number in range(12))
    assert not CacheEntry.objects.filter(cache_key__endswith=":old").exists()


def test_lockout_counts_on_the_database_cache():
    who = lockout.subject("local_x", identifier="nobody")
    for _ in range(lockout.FREE_FAILURES):
        lockout.attempt(lockout.PASSWORD, who)
    assert lockout.is_locked(lockout.PASSWORD, who)
    with pytest.raises(Exception, match="Password attempts exceeded"):
        lockout.attempt(lockout.PASSWORD, who)


def test_set_is_one_statement_without_counting_the_table():
    """Django's set counts the whole table (COUNT(*), O(table)) before every write and then
    takes a transaction of three statements."""
    cache.set("document", {"a": 1}, timeout=60)
    with CaptureQueriesContext(connection) as queries:
        cache.set("document", {"a": 2}, timeout=60)
        cache.set("new", 3, timeout=None)
    assert len(queries) == 2
    assert not any("COUNT(" in query["sql"] for query in queries.captured_queries)
    assert cache.get("document") == {"a": 2} and cache.get("new") == 3


def test_set_many_is_one_statement():
    cache.set("a", 0, timeout=60)
    with CaptureQueriesContext(connection) as queries:
        assert cache.set_many({"a": 1, "b": 2}, timeout=60) == []
    assert len(queries) == 1
    assert cache.get_many(["a", "b"]) == {"a": 1, "b": 2}


def test_expired_rows_are_culled_at_most_once_a_minute_and_live_ones_never(monkeypatch):
    import config.cache

    cache.set("old", 1, timeout=-1)  # stored already expired
    counters.hit("old counter", timeout=60)
    Counter.objects.update(expires=Counter.objects.get().expires.replace(year=2000))
    for number in range(12):
        counters.hit(f"live:{number}", timeout=600)
    monkeypatch.setattr(config.cache, "_next_cull", 0.0)  # a minute has passed
    cache.set("new", 1, timeout=60)
    assert not CacheEntry.objects.filter(cache_key__endswith=":old").exists()
    assert not Counter.objects.filter(counter_key__endswith=":old counter").exists()
    assert all(counters.value(f"live:{number}") == 1 for number in range(12))
    cache.set("old", 1, timeout=-1)
    with CaptureQueriesContext(connection) as queries:
        cache.set("newer", 1, timeout=60)  # within the minute: no cull
    assert len(queries) == 1
    assert CacheEntry.objects.filter(cache_key__endswith=":old").exists()


def test_deleting_keys_of_both_tables():
    cache.set("entry", 1, timeout=60)
    counters.hit("counter", timeout=60)
    with CaptureQueriesContext(connection) as queries:
        cache.delete_many(["entry", "counter"])
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    assert cache.get("entry") is None and counters.value("counter") == 0
    assert cache.delete("entry") is False


def test_a_sliding_count_renews_the_expiry_in_the_same_statement():
    counters.hit("probe", timeout=60, slide=True)
    Counter.objects.update(expires=timezone.now() + dt.timedelta(seconds=5))
    with CaptureQueriesContext(connection) as queries:
        assert counters.hit("probe", timeout=60, slide=True) == 2
    assert len(queries) == 1
    assert Counter.objects.get().expires > timezone.now() + dt.timedelta(seconds=50)


def test_the_lockout_count_lives_from_the_latest_failure():
    """The free count of a series slides: a slow series of guesses (one every 14 minutes, so no
    quiet period) must not get its count back when the first guess's entry would expire.
    (Before, the count's `touch` updated the entries' table, not the counters', so on the
    database cache the count expired half an hour after the FIRST failure.)"""
    who = lockout.subject("local_x", identifier="nobody")
    lockout.attempt(lockout.PASSWORD, who)
    Counter.objects.update(expires=timezone.now() + dt.timedelta(seconds=5))
    lockout.attempt(lockout.PASSWORD, who)
    left = Counter.objects.get().expires - timezone.now()
    assert left > dt.timedelta(seconds=lockout._TTL - 60)
    assert lockout.failures(lockout.PASSWORD, who) == 2


def test_a_sign_in_without_failures_costs_four_cache_statements(monkeypatch):
    """The lockout's part of a sign-in: read the series, count (sliding), note the time; the
    success deletes the count and the time (one statement on PostgreSQL)."""
    import config.cache

    monkeypatch.setattr(config.cache, "_next_cull", float("inf"))
    who = lockout.subject("local_x", user_id=7)
    with CaptureQueriesContext(connection) as queries:
        counted = lockout.attempt(lockout.PASSWORD, who)
        lockout.reset(lockout.PASSWORD, who, counted)
    assert len(queries) == (4 if connection.vendor == "postgresql" else 5)
    assert lockout.failures(lockout.PASSWORD, who) == 0
    assert not CacheEntry.objects.exists() and not Counter.objects.exists()


def test_a_right_first_password_costs_three_cache_statements(monkeypatch):
    """The password sign-in's lockout (`note_failure=False`): read the series, count (sliding);
    the success deletes the count from the counters' table alone. No time is written."""
    import config.cache

    monkeypatch.setattr(config.cache, "_next_cull", float("inf"))
    who = lockout.subject("local_x", user_id=7)
    with CaptureQueriesContext(connection) as queries:
        counted = lockout.attempt(lockout.PASSWORD, who, note_failure=False)
        lockout.reset(lockout.PASSWORD, who, counted)
    assert len(queries) == 3
    assert lockout.failures(lockout.PASSWORD, who) == 0
    assert not CacheEntry.objects.exists() and not Counter.objects.exists()


def test_forgetting_a_count_is_one_statement_on_the_counters_table():
    cache.set("entry", 1, timeout=60)
    counters.hit("probe", timeout=60)
    counters.hit("probe", timeout=60)
    with CaptureQueriesContext(connection) as queries:
        counters.forget("probe")
    assert len(queries) == 1 and "cognate_counter" in queries[0]["sql"]
    assert counters.value("probe") == 0 and cache.get("entry") == 1
    assert counters.hit("probe", timeout=60) == 1
