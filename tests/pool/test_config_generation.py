"""pool.config_generation: the count of committed configuration changes that processes on one
SQLite file share (and read from memory), counted only once a change commits."""

from __future__ import annotations

import os

import pytest
from django.db import connection, transaction

from pool import config_generation
from pool.models.pool import bump_config_version
from pool.services import keys
from pool.services import pools as pool_service
from tests import factories

on_a_sqlite_file = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL keeps no count (see the next test)"
)
on_postgresql = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="a SQLite file keeps a count (the other tests)"
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


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_keeps_no_count():
    assert config_generation.current() is None


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
