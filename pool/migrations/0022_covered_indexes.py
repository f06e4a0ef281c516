"""Indexes a pool table does not need: a column's own index where another index of the same
table starts with that column (it serves the same lookups and the foreign key's checks and
cascades), and the sign-in events' created_at (every read of the events is per pool or per user,
newest first, through their two indexes). Each of them was one more page written by every row
inserted: a password sign-in wrote 17.5 pages to SQLite's WAL, its event alone six.

pool_user keeps its pool_id index (see the model). Only the indexes are dropped (DROP
INDEX): Django's AlterField would remake each table on SQLite, copying every row (one per
sign-in in pool_authevent) to drop one index. The names are the ones Django gave
the indexes (its schema editor computes them again from the field), with PostgreSQL's
`_like` twin of a varchar column's index. Reversed, they are made again as Django made them.

On PostgreSQL, migration 0002's (pool_id, status, id) covered the model's (pool_id, status):
the model's index now has the id, and 0002's goes.
"""

import django.db.models.deletion
from django.db import migrations, models

# (model, field) whose own index goes.
FIELDS = [
    ("authevent", "created_at"),
    ("authevent", "pool"),
    ("authevent", "user"),
    ("customattribute", "pool"),
    ("device", "user"),
    ("federatedidentity", "pool"),
    ("group", "pool"),
    ("identityprovider", "pool"),
    ("refreshfamily", "user"),
    ("resourceserver", "pool"),
    ("retiredattributevalue", "user"),
    ("signingkey", "pool"),
    ("signinname", "pool"),
    ("trigger", "pool"),
    ("triggerinvocation", "pool"),
    ("userpooldomain", "pool"),
    ("verificationcode", "user"),
]


class DropFieldIndexes(migrations.operations.base.Operation):
    """Drop (and, reversed, make) the index Django made for each field of FIELDS."""

    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for statement in _index_statements(app_label, schema_editor, from_state):
            schema_editor.execute(f"DROP INDEX IF EXISTS {statement.parts['name']}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for statement in _index_statements(app_label, schema_editor, to_state):
            schema_editor.execute(statement)

    def describe(self):
        return "Drop the indexes other indexes cover"


def _index_statements(app_label, schema_editor, state):
    """The CREATE INDEX statements Django makes for FIELDS while they are indexed."""
    for model_name, name in FIELDS:
        model = state.apps.get_model(app_label, model_name)
        yield from schema_editor._field_indexes_sql(model, model._meta.get_field(name))


_STATUS_ID = '"pool_user_status_id_idx"'  # migration 0002's, PostgreSQL only


def _drop_status_id_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {_STATUS_ID}")


def _make_status_id_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {_STATUS_ID} ON "pool_user" ("pool_id", "status", "id")'
        )


class Migration(migrations.Migration):
    dependencies = [("pool", "0021_counters")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[DropFieldIndexes()],
            state_operations=[
                migrations.AlterField(
                    model_name="authevent",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
                migrations.AlterField(
                    model_name="authevent",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="authevent",
                    name="user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="events",
                        to="pool.user",
                    ),
                ),
                migrations.AlterField(
                    model_name="customattribute",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="custom_attributes",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="device",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="devices",
                        to="pool.user",
                    ),
                ),
                migrations.AlterField(
                    model_name="federatedidentity",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="group",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="groups",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="identityprovider",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="identity_providers",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="refreshfamily",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="refresh_families",
                        to="pool.user",
                    ),
                ),
                migrations.AlterField(
                    model_name="resourceserver",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="resource_servers",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="retiredattributevalue",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="retired_values",
                        to="pool.user",
                    ),
                ),
                migrations.AlterField(
                    model_name="signingkey",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="signing_keys",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="signinname",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="trigger",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="triggers",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="triggerinvocation",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="trigger_calls",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="userpooldomain",
                    name="pool",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="domains",
                        to="pool.userpool",
                    ),
                ),
                migrations.AlterField(
                    model_name="verificationcode",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="codes",
                        to="pool.user",
                    ),
                ),
            ],
        ),
        migrations.RemoveIndex(model_name="user", name="user_status_idx"),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["pool", "status", "id"], name="user_status_idx"),
        ),
        migrations.RunPython(_drop_status_id_index, _make_status_id_index, elidable=False),
    ]
