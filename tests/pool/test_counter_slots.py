"""The default cache's counters on a SQLite database file (config/counter_slots.py): a slot
file next to the database that every process maps, counting without a statement, exactly
across threads and processes, and handing the database what it has no room for.

tests/pool/test_shared_cache.py tests the counters' table (PostgreSQL, in-memory SQLite, and
this file's overflow)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import counter_slots
from config.counter_slots import PROBE, CounterSlots, digest
from pool.models import Counter
from pool.services import counters, lockout
from tests import parallel

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_000_000
KEY = digest("probe")


def _hits(slots: CounterSlots, key: bytes, times: int, *, now: int = NOW) -> list:
    return [slots.count(key, expires=now + 60, now=now, slide=False) for _ in range(times)]


# ------------------------------------------------------------------ the slot file itself


def test_counts_live_until_their_expiry_then_start_again(tmp_path):
    slots = CounterSlots(str(tmp_path / "db.counters"), slots=64)
    assert _hits(slots, KEY, 3) == [1, 2, 3]
    assert slots.value(KEY, now=NOW + 60) == 3
    assert slots.value(KEY, now=NOW + 61) == 0  # expired: a new window
    assert _hits(slots, KEY, 1, now=NOW + 61) == [1]
    assert slots.value(digest("never"), now=NOW) == 0


def test_a_live_count_keeps_its_expiry_unless_it_slides(tmp_path):
    slots = CounterSlots(str(tmp_path / "db.counters"), slots=64)
    slots.count(KEY, expires=NOW + 60, now=NOW, slide=False)
    assert slots.count(KEY, expires=NOW + 90, now=NOW + 30, slide=False) == 2
    assert slots.value(KEY, now=NOW + 61) == 0
    sliding = digest("sliding")
    slots.count(sliding, expires=NOW + 60, now=NOW, slide=True)
    assert slots.count(sliding, expires=NOW + 90, now=NOW + 30, slide=True) == 2
    assert slots.value(sliding, now=NOW + 90) == 2


def test_forgetting_frees_the_slot(tmp_path):
    slots = CounterSlots(str(tmp_path / "db.counters"), slots=64)
    _hits(slots, KEY, 2)
    assert slots.forget(KEY, now=NOW) == (True, False)
    assert slots.value(KEY, now=NOW) == 0
    assert _hits(slots, KEY, 1) == [1]


class _YieldingSlot:
    """The slot layout, letting other threads run between a count's read and its write."""

    def __init__(self, layout) -> None:
        self.layout, self.size = layout, layout.size

    def unpack_from(self, *args):
        return self.layout.unpack_from(*args)

    def pack_into(self, *args):
        time.sleep(0)  # releases the GIL: without the lock another thread reads the same count
        return self.layout.pack_into(*args)


def test_parallel_threads_count_exactly(tmp_path, monkeypatch):
    """The race: N threads x M hits give every number from 1 to N*M once, though each count
    lets the other threads run between its read and its write."""
    monkeypatch.setattr(counter_slots, "_SLOT", _YieldingSlot(counter_slots._SLOT))
    slots = CounterSlots(str(tmp_path / "db.counters"), slots=64)
    threads, hits = 8, 200
    seen = parallel.burst(lambda: _hits(slots, KEY, hits), threads)
    numbers = sorted(number for batch in seen for number in batch)
    assert numbers == list(range(1, threads * hits + 1))
    assert slots.value(KEY, now=NOW) == threads * hits


# A process that maps the slot file itself and counts on KEY (it imports no Django).
_COUNTING = """
import json, sys
from config.counter_slots import CounterSlots, digest
slots, now = CounterSlots(sys.argv[1]), int(sys.argv[3])
print(json.dumps([
    slots.count(digest("probe"), expires=now + 60, now=now, slide=False)
    for _ in range(int(sys.argv[2]))
]))
"""


def _counting_process(path: str, hits: int) -> subprocess.Popen:
    arguments = [sys.executable, "-c", _COUNTING, path, str(hits), str(NOW)]
    return subprocess.Popen(arguments, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_two_processes_count_on_one_file(tmp_path):
    """Each process maps the file itself; their counts interleave and none is lost."""
    path = str(tmp_path / "db.counters")
    hits = 20000  # long enough (about 0.1 s each) for the two to overlap
    both = [_counting_process(path, hits) for _ in range(2)]
    numbers = sorted(_answer(both[0]) + _answer(both[1]))
    assert numbers == list(range(1, 2 * hits + 1))
    assert CounterSlots(path).value(KEY, now=NOW) == 2 * hits


def test_a_full_window_hands_new_keys_to_the_database_until_their_expiry(tmp_path):
    """No free slot: the count is the database's (None), never a lost count or a shared slot;
    while a counter may live in the database, keys the file does not hold stay there too."""
    slots = CounterSlots(str(tmp_path / "db.counters"), slots=PROBE)  # one window of PROBE
    for number in range(PROBE):
        assert _hits(slots, digest(f"k{number}"), 1) == [1]
    assert _hits(slots, KEY, 1) == [None]
    assert slots.value(KEY, now=NOW) is None  # the database's to tell
    assert _hits(slots, digest("k0"), 1) == [2]  # held keys stay in the file
    slots.forget(digest("k1"), now=NOW)
    assert _hits(slots, digest("new"), 1) == [None]  # a free slot, but the database counts
    assert slots.forget(KEY, now=NOW) == (False, True)  # so the database forgets too
    later = NOW + 61  # every counter given to the database has expired: the file again
    assert _hits(slots, digest("new"), 1, now=later) == [1]
    assert slots.value(KEY, now=later) == 0


def test_expired_slots_are_reused(tmp_path):
    slots = CounterSlots(str(tmp_path / "db.counters"), slots=PROBE)
    for number in range(PROBE):
        _hits(slots, digest(f"k{number}"), 1)
    later = NOW + 61
    assert _hits(slots, KEY, 1, now=later) == [1]
    assert slots.value(digest("k3"), now=later) == 0


def test_the_file_sits_next_to_the_database_as_readable_as_it(tmp_path):
    database = tmp_path / "db.sqlite3"
    database.touch()
    database.chmod(0o640)
    sqlite_file = SimpleNamespace(
        vendor="sqlite", settings_dict={"NAME": str(database)}, is_in_memory_db=lambda: False
    )
    old = os.umask(0)
    try:
        slots = counter_slots._new(sqlite_file, 64)
    finally:
        os.umask(old)
    assert slots.path == str(database) + ".counters"
    assert stat.S_IMODE(os.stat(slots.path).st_mode) == 0o640
    assert os.path.getsize(slots.path) == 32 + 64 * 32


def test_the_first_process_sizes_the_file(tmp_path):
    path = str(tmp_path / "db.counters")
    _hits(CounterSlots(path, slots=64), KEY, 2)
    again = CounterSlots(path, slots=1024)  # another setting, the same file
    assert again.slots == 64
    assert again.value(KEY, now=NOW) == 2


def test_in_memory_sqlite_and_postgresql_keep_their_statements():
    memory = SimpleNamespace(vendor="sqlite", settings_dict={}, is_in_memory_db=lambda: True)
    postgresql = SimpleNamespace(vendor="postgresql", settings_dict={"NAME": "cognate"})
    assert counter_slots._new(memory, 64) is None
    assert counter_slots._new(postgresql, 64) is None


# ------------------------------------------------------------------ through the cache

on_a_sqlite_file = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL keeps its counters in their table"
)


@pytest.fixture
def database_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "config.cache.SharedDatabaseCache", "LOCATION": "cognate_cache"}
    }
    yield
    cache.clear()


@on_a_sqlite_file
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_cache")
def test_counting_on_a_sqlite_file_takes_no_statement():
    with CaptureQueriesContext(connection) as queries:
        assert [counters.hit("probe", timeout=60) for _ in range(3)] == [1, 2, 3]
        assert counters.value("probe") == 3
        counters.forget("probe")
        assert counters.value("probe") == 0
    assert len(queries) == 0
    assert not Counter.objects.exists()


@on_a_sqlite_file
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_cache")
def test_deleting_and_clearing_forget_the_slot_file_counts():
    cache.set("entry", 1, timeout=60)
    counters.hit("probe", timeout=60)
    counters.hit("other", timeout=60)
    assert cache.delete("probe") is True
    assert counters.value("probe") == 0 and counters.value("other") == 1
    cache.delete_many(["entry"])
    assert cache.get("entry") is None
    cache.clear()
    assert counters.value("other") == 0


@on_a_sqlite_file
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_cache")
def test_a_full_slot_file_counts_in_the_database(monkeypatch, tmp_path):
    small = CounterSlots(str(tmp_path / "db.counters"), slots=PROBE)
    place = (connection.settings_dict["NAME"], counter_slots.SLOTS)
    monkeypatch.setitem(counter_slots._stores, place, small)
    for number in range(PROBE):
        counters.hit(f"k{number}", timeout=60)
    assert not Counter.objects.exists()
    assert [counters.hit("probe", timeout=60) for _ in range(3)] == [1, 2, 3]
    assert Counter.objects.get().count == 3  # in the table, not lost
    assert counters.value("probe") == 3
    assert counters.hit("k0", timeout=60) == 2  # a key the file holds stays there
    counters.forget("probe")
    assert counters.value("probe") == 0 and not Counter.objects.exists()


@on_a_sqlite_file
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_cache")
def test_lockout_on_the_slot_file():
    who = lockout.subject("local_x", identifier="nobody")
    for _ in range(lockout.FREE_FAILURES):
        lockout.attempt(lockout.PASSWORD, who)
    assert lockout.is_locked(lockout.PASSWORD, who)
    assert not Counter.objects.exists()
    with pytest.raises(Exception, match="Password attempts exceeded"):
        lockout.attempt(lockout.PASSWORD, who)


@on_a_sqlite_file
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_cache")
def test_a_right_first_password_costs_one_cache_statement():
    """The lockout's part of a sign-in on a SQLite file: the read of the series alone; the
    count and its forgetting are the slot file's (three statements on the table)."""
    who = lockout.subject("local_x", user_id=7)
    with CaptureQueriesContext(connection) as queries:
        counted = lockout.attempt(lockout.PASSWORD, who, note_failure=False)
        lockout.reset(lockout.PASSWORD, who, counted)
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT"]
    assert lockout.failures(lockout.PASSWORD, who) == 0


# ------------------------------------------------------------------ two server processes

# One process of a server on the SQLite file given: its cache tables, then the protections.
_PROCESS = """
import json, sys
import django
django.setup()
from django.db import connection
from pool.models import CacheEntry, Counter
from pool.services import lockout, ratelimit
from pool.errors import TooManyRequestsException
action, times = sys.argv[1], int(sys.argv[2])
if action == "tables":
    with connection.schema_editor() as editor:
        editor.create_model(CacheEntry)
        editor.create_model(Counter)
elif action == "rate":
    allowed = 0
    for _ in range(times):
        try:
            ratelimit.hit("token", "192.0.2.1", limit=10, window=3600)
            allowed += 1
        except TooManyRequestsException:
            pass
    print(json.dumps(allowed))
elif action == "guess":
    who = lockout.subject("local_x", identifier="alice")
    for _ in range(times):
        lockout.attempt(lockout.PASSWORD, who)
    failures = lockout.failures(lockout.PASSWORD, who)
    print(json.dumps([failures, lockout.is_locked(lockout.PASSWORD, who)]))
"""


def _server_process(database: Path, action: str, times: int) -> subprocess.Popen:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "COGNATE_CACHE", "DATABASE_URL"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SETTINGS_MODULE="config.settings",
        COGNATE_VAR_DIR=str(database.parent),
        SECRET_KEY="two-processes-" + "x" * 40,
    )
    return subprocess.Popen(
        [sys.executable, "-c", _PROCESS, action, str(times)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _answer(process: subprocess.Popen):
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    return json.loads(out)


@pytest.fixture
def database_file(tmp_path) -> Path:
    database = tmp_path / "db.sqlite3"
    _server_process(database, "tables", 0).communicate(timeout=120)
    return database


def test_a_rate_limit_holds_across_two_processes(database_file):
    """Each process makes 8 requests at once with the other; 10 are allowed in all."""
    both = [_server_process(database_file, "rate", 8) for _ in range(2)]
    assert sum(_answer(process) for process in both) == 10
    assert os.path.exists(str(database_file) + ".counters")


def test_a_lockout_holds_across_two_processes(database_file):
    """Three wrong guesses in one process and two in the other lock the subject (the first
    lock lasts a second: a third process finds the five failures, not the lock itself)."""
    assert _answer(_server_process(database_file, "guess", 3)) == [3, False]
    assert _answer(_server_process(database_file, "guess", 2)) == [5, True]
    assert _answer(_server_process(database_file, "guess", 0))[0] == 5


def test_the_slot_file_is_shared_not_per_process(tmp_path):
    """Counting in one process shows in another at once (the mapping is shared)."""
    path = str(tmp_path / "db.counters")
    mapped = CounterSlots(path)
    _hits(mapped, KEY, 4)
    assert _answer(_counting_process(path, 1)) == [5]
    assert mapped.value(KEY, now=NOW) == 5
