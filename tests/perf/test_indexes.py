"""No index a pool table does not need: every index is one more page written by each row
inserted (a password sign-in's rows went from 17.5 pages of SQLite's WAL to 13.5 when the
covered ones went, pool/migrations/0022). An index whose columns lead another index of the same
table serves nothing the other does not (lookups, the foreign key's checks and cascades)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

# Kept on purpose (the model says why): PostgreSQL's planner reads a pool's users through it.
_KEPT = {("pool_user", ("pool_id",))}
# PostgreSQL's byte-ordered copies (COLLATE "C") of the searchable columns' indexes
# (pool/migrations/0002): another collation, so they do not serve the plain index's reads.
_BYTE_ORDERED = "_c_idx"


def _pool_models():
    return apps.get_app_config("pool").get_models(include_auto_created=True)


def _partial_names(model) -> set[str]:
    """Indexes and constraints with a condition: they hold only some rows, so they cover
    nothing."""
    declared = [*model._meta.indexes, *model._meta.constraints]
    return {item.name for item in declared if getattr(item, "condition", None) is not None}


def _covered_indexes() -> list[str]:
    """Each plain index of a pool table whose columns lead another index (or are exactly a
    unique constraint's or the primary key's)."""
    found = []
    with connection.cursor() as cursor:
        for model in _pool_models():
            if model._meta.auto_created:
                # A ManyToManyField's own table (no `through` model): its indexes are Django's,
                # and it is written only when a user's groups change.
                continue
            table = model._meta.db_table
            constraints = connection.introspection.get_constraints(cursor, table)
            partial = _partial_names(model)
            others = {
                name: (tuple(item["columns"]), item["unique"] or item["primary_key"])
                for name, item in constraints.items()
                if (item["index"] or item["unique"] or item["primary_key"]) and name not in partial
            }
            for name, item in constraints.items():
                columns = tuple(item["columns"])
                if not _plain_index(name, item) or name in partial or (table, columns) in _KEPT:
                    continue
                for other, (other_columns, unique) in others.items():
                    if other.endswith(_BYTE_ORDERED):
                        continue
                    leads = other_columns[: len(columns)] == columns
                    if other != name and leads and (len(other_columns) > len(columns) or unique):
                        found.append(f"{table}: {name} {columns} is covered by {other}")
                        break
    return found


def _plain_index(name: str, item: dict) -> bool:
    """An index that is only a lookup: not a unique constraint or the primary key, and not
    PostgreSQL's `_like` twin of a varchar column's index (Django's, for LIKE 'prefix%'
    under a collation that is not byte-ordered, which no other index serves)."""
    return (
        item["index"]
        and not item["unique"]
        and not item["primary_key"]
        and not name.endswith("_like")
    )


@pytest.mark.django_db
def test_no_index_of_a_pool_table_is_covered_by_another():
    assert _covered_indexes() == []


@pytest.mark.django_db
def test_a_sign_in_table_has_only_the_indexes_its_reads_use():
    """The rows every sign-in writes: its refresh family and its event (the user's own row is
    updated in place and its indexed columns do not change)."""
    with connection.cursor() as cursor:
        event = connection.introspection.get_constraints(cursor, "pool_authevent")
        family = connection.introspection.get_constraints(cursor, "pool_refreshfamily")
    event_indexes = sorted(
        tuple(item["columns"])
        for item in event.values()
        if item["index"] and not item["primary_key"]
    )
    assert event_indexes == [("pool_id", "created_at"), ("user_id", "created_at")]
    family_columns = {tuple(item["columns"]) for item in family.values() if item["index"]}
    assert ("user_id",) not in family_columns
    assert ("user_id", "revoked_at") in family_columns


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_the_indexes_again_when_reversed():
    """Reversed, pool/migrations/0022 makes the dropped indexes as Django made them; applied
    again, they go."""
    try:
        call_command("migrate", "pool", "0021", verbosity=0)
        covered = _covered_indexes()
        assert any("pool_authevent_user_id" in line for line in covered)
        assert any("pool_refreshfamily_user_id" in line for line in covered)
    finally:
        call_command("migrate", "pool", verbosity=0)
    assert _covered_indexes() == []
