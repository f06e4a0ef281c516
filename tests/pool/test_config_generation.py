"""pool.config_generation: the count of committed configuration changes that processes on one
database share (and read from memory), counted only once a change commits: a SQLite file's
mapped counter, PostgreSQL's LISTEN/NOTIFY."""

from __future__ import annotations

import os
import select

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from config.front import ApiHandler, Front
from pool import config_generation
from pool.models.pool import bump_config_version
from pool.services import keys
from pool.services import pools as pool_service
from tests import config_changes, factories
from tests.perf.wsgi import call

on_a_sqlite_file = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL counts notifications (the later tests)"
)
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="LISTEN/NOTIFY (CI's PostgreSQL pass)"
)


def test_two_mappings_of_one_file_see_each_others_counts(tmp_path):
    """Two processes map the file each: what one adds, the other reads at once."""
    path = str(tmp_path / "db.sqlite3.config-generation")
    one, other = config_generation.Counter(path), config_generation.Counter(path)
    assert one.value() == other.value() == 0
    one.increment()
    assert other.value() == 1
    other.increment()
    assert one.value() == 2
    assert os.path.getsize(path) == 8
    assert config_generation.Counter(path).value() == 2  # a new process finds the count


def test_a_full_counter_starts_again_from_zero(tmp_path):
    counter = config_generation.Counter(str(tmp_path / "count"))
    config_generation._COUNT.pack_into(counter._map, 0, (1 << 64) - 1)
    counter.increment()
    assert counter.value() == 0


@on_a_sqlite_file
@pytest.mark.django_db(transaction=True)
def test_the_count_sits_next_to_the_database_file():
    assert config_generation.current() is not None
    assert os.path.exists(str(connection.settings_dict["NAME"]) + config_generation.SUFFIX)


@on_a_sqlite_file
@pytest.mark.django_db(transaction=True)
def test_every_committed_configuration_change_counts():
    counts = [config_generation.current()]
    pool = factories.make_pool()  # UserPool.save
    counts.append(config_generation.current())
    bump_config_version(pool.pk)
    counts.append(config_generation.current())
    keys.rotate(pool=pool)  # bump_config_version inside its transaction: once committed
    counts.append(config_generation.current())
    pool_service.delete_pool(pool=pool)  # the row and its version gone
    counts.append(config_generation.current())
    assert counts == sorted(set(counts)), counts  # each one moved it


@on_a_sqlite_file
@pytest.mark.django_db(transaction=True)
def test_a_change_counts_once_committed_and_not_when_rolled_back():
    pool = factories.make_pool()
    before = config_generation.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        bump_config_version(pool)
        raise RuntimeError("rolled back")
    assert config_generation.current() == before

    with transaction.atomic():
        bump_config_version(pool)
        assert config_generation.current() is None  # inside a transaction: read the version
        assert _count_on_file() == before  # not counted before the commit
    assert config_generation.current() == before + 1


def _count_on_file() -> int:
    return config_generation._counters[connection.settings_dict["NAME"]].value()


# ------------------------------------------------------------------ PostgreSQL: LISTEN/NOTIFY


@pytest.fixture
def listening():
    """This process's listening connection, closed after the test (so that one a test broke
    never leaves the next ones waiting RETRY_SECONDS to reconnect)."""
    yield config_changes.listener()
    config_generation.stop_listening()


@pytest.fixture
def elsewhere():
    """A connection of its own to the test database, as another server's would be."""
    other = psycopg.connect(autocommit=True, **_connection_params())
    yield other
    other.close()


def _connection_params() -> dict:
    params = connection.get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    return params


def _change_committed_elsewhere(other: psycopg.Connection, pool_id: str) -> None:
    """What bump_config_version does in another server: a new version and the notification,
    in one transaction."""
    with other.transaction():
        other.execute(
            "UPDATE pool_userpool SET config_version = config_version + 1 WHERE id = %s",
            [pool_id],
        )
        other.execute("SELECT pg_notify(%s, '')", [config_generation.CHANNEL])


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_server_moves_the_count(listening, elsewhere):
    pool = factories.make_pool()
    before = config_generation.current()
    assert before is not None
    _change_committed_elsewhere(elsewhere, pool.pk)
    config_changes.wait_for_delivery()
    assert config_generation.current() == before + 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing(listening, elsewhere):
    """Rolled back here and on another connection; then one committed change: only it is
    delivered (notifications arrive in commit order, so a rolled-back one would be first)."""
    pool = factories.make_pool()
    before = config_generation.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        bump_config_version(pool)
        raise RuntimeError("rolled back")
    with pytest.raises(RuntimeError), elsewhere.transaction():
        elsewhere.execute("SELECT pg_notify(%s, '')", [config_generation.CHANNEL])
        raise RuntimeError("rolled back")
    assert config_generation.current() == before
    _change_committed_elsewhere(elsewhere, pool.pk)
    config_changes.wait_for_delivery()
    assert config_generation.current() == before + 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_this_process_sees_its_own_change_once_committed_without_waiting(listening):
    """The changing process moves its count at the commit, before the notification comes
    back to it; inside the transaction the count tells nothing."""
    pool = factories.make_pool()
    before = config_generation.current()
    with transaction.atomic():
        bump_config_version(pool)
        assert config_generation.current() is None  # inside a transaction: read the version
    assert config_generation.current() > before


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_every_committed_configuration_change_notifies(listening, elsewhere):
    """Each change that moves a SQLite file's count sends the notification on PostgreSQL."""
    elsewhere.execute(f"LISTEN {config_generation.CHANNEL}")
    pool = factories.make_pool()  # UserPool.save
    bump_config_version(pool.pk)
    keys.rotate(pool=pool)  # bump_config_version inside its transaction
    pool_service.delete_pool(pool=pool)  # the row and its version gone
    received = list(elsewhere.notifies(timeout=10, stop_after=4))
    assert [notice.channel for notice in received] == [config_generation.CHANNEL] * 4


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_broken_listener_tells_nothing_and_the_version_is_read(listening, pool):
    """Its backend ended (a restart, a failover): `current` is None, a kept JWKS answer reads
    the version again, and the next requests do not try to reconnect each time."""
    keys.active_key(pool)  # made on first use: a change of its own
    front = Front(ApiHandler(), ApiHandler())
    path = f"/{pool.id}/.well-known/jwks.json"
    assert call(front, path).status == 200
    _end_the_listening_backend(listening)
    with CaptureQueriesContext(connection) as queries:
        assert call(front, path).status == 200
    assert [query["sql"] for query in queries] == [
        f"SELECT config_version FROM \"pool_userpool\" WHERE id = '{pool.id}'"
    ]
    assert config_generation.current() is None  # retried after RETRY_SECONDS, not at once
    assert listening._connection is None


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_listening_again_moves_the_count(listening, monkeypatch, elsewhere):
    """A change committed while nobody listened was never delivered: reconnecting moves the
    count, so every kept answer is checked once more."""
    monkeypatch.setattr(config_generation, "RETRY_SECONDS", 0.0)
    pool = factories.make_pool()
    before = config_generation.current()
    _end_the_listening_backend(listening)
    _change_committed_elsewhere(elsewhere, pool.pk)  # delivered to no one here
    after = config_generation.current()  # reconnected
    assert after is not None and after > before
    assert listening._connection is not None


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_nothing_is_listened_to_when_turned_off(settings):
    settings.CONFIG_LISTEN_URL = "off"
    config_generation.stop_listening()
    config_generation._counters.pop(_listener_key(), None)
    try:
        assert config_generation.current() is None
    finally:
        config_generation._counters.pop(_listener_key(), None)


def _listener_key() -> tuple:
    return (connection.settings_dict["NAME"], os.getpid())


def _end_the_listening_backend(listener: config_generation.Listener) -> None:
    """Its backend ended, and noticed by `current` (at the end of the connection, which may
    come after the backend's last message)."""
    own = listener._connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [own.pgconn.backend_pid])
    for _ in range(100):
        select.select([own.pgconn.socket], [], [], 0.1)
        if config_generation.current() is None:
            return
    raise AssertionError("the listening connection's end went unnoticed")
