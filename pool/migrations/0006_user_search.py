"""Console user search: case-insensitive and custom-attribute searches, index-backed.

1. Indexes on lower(column) for every searchable text column but the phone number (no case), so
   that a pool that ignores case searches `lower(email) >= lower('Al')` with an index range
   scan. On PostgreSQL the expression is `lower(column) COLLATE "C"`, byte ordered, as in
   migration 0002; SQLite compares bytes already.
2. An index on (pool, enabled, id), for the console's Enabled/Disabled filter.
3. UserAttributeIndex: one row per custom attribute of a user, indexed (pool, name, value_key,
   user), value_key COLLATE "C" on PostgreSQL. Filled here for the users that exist; kept by
   `User.save` (`pool.models.user.sync_attribute_index`) from then on.
"""

import django.db.models.deletion
from django.db import migrations, models

# Frozen copy of pool.selectors.users.FOLDED_COLUMNS (a test checks they agree).
COLUMNS = (
    "username",
    "email",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
)
ATTRIBUTE_INDEX = "user_attr_idx"
ENABLED_INDEX = "user_enabled_idx"
KEY_CHARS = 512


def lower_index(column: str) -> str:
    return f"user_{column}_lower_idx"


def create_indexes(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    collate = ' COLLATE "C"' if postgresql else ""
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{lower_index(column)}" ON "pool_user" '
            f'("pool_id", (LOWER("{column}")){collate}, "id")'
        )
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{ENABLED_INDEX}" ON "pool_user" ("pool_id", "enabled", "id")'
    )
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{ATTRIBUTE_INDEX}" ON "pool_userattributeindex" '
        f'("pool_id", "name", "value_key"{collate}, "user_id")'
    )


def drop_indexes(apps, schema_editor):
    for name in (*map(lower_index, COLUMNS), ENABLED_INDEX, ATTRIBUTE_INDEX):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def fill_attribute_index(apps, schema_editor):
    """Index the custom attributes of the users that exist (same rule as
    pool.models.user.attribute_index_rows, frozen here)."""
    User = apps.get_model("pool", "User")
    UserAttributeIndex = apps.get_model("pool", "UserAttributeIndex")
    batch = []
    users = User.objects.select_related("pool").only("pk", "pool", "attributes")
    for user in users.iterator(chunk_size=2000):
        for name, value in (user.attributes or {}).items():
            text = str(value)
            if not name.startswith(("custom:", "dev:custom:")) or not text:
                continue
            key = text if user.pool.case_sensitive else text.lower()
            batch.append(
                UserAttributeIndex(
                    pool_id=user.pool_id,
                    user_id=user.pk,
                    name=name,
                    value_key=key[:KEY_CHARS],
                    whole=len(key) <= KEY_CHARS,
                )
            )
        if len(batch) >= 2000:
            UserAttributeIndex.objects.bulk_create(batch)
            batch = []
    UserAttributeIndex.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("pool", "0005_outbox_encrypted")]

    operations = [
        migrations.CreateModel(
            name="UserAttributeIndex",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=32)),
                ("value_key", models.CharField(max_length=512)),
                ("whole", models.BooleanField(default=True)),
                (
                    "pool",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="pool.userpool",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attribute_index",
                        to="pool.user",
                    ),
                ),
            ],
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
        migrations.RunPython(fill_attribute_index, migrations.RunPython.noop, elidable=False),
    ]
