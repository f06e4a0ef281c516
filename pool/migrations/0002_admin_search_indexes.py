"""Byte-ordered indexes for ListUsers prefix search on PostgreSQL.

`pool.selectors.users.search` compares and orders the searchable text columns as
`column COLLATE "C"` on PostgreSQL, because the database's default collation need not be byte
ordered (en_US sorts case- and punctuation-insensitively), and then a prefix range cannot use an
ordinary index. These indexes cover exactly those expressions (pool, column COLLATE "C", id), so
prefix ranges, the ordering and the keyset pagination condition are all served by one index
scan. One more, (pool, status, id), lets a `cognito:user_status` search read its rows in
order. SQLite's indexes already compare bytes (BINARY collation) and end with the rowid (the
id), so nothing is done there.
"""

from django.db import migrations

COLUMNS = (
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
)


def _index(column: str) -> str:
    return f"pool_user_{column}_c_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{_index(column)}" ON "pool_user" '
            f'("pool_id", "{column}" COLLATE "C", "id")'
        )
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS "pool_user_status_id_idx" ON "pool_user" '
        '("pool_id", "status", "id")'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{_index(column)}"')
    schema_editor.execute('DROP INDEX IF EXISTS "pool_user_status_id_idx"')


class Migration(migrations.Migration):
    dependencies = [("pool", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
