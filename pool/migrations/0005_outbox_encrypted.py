"""The dev outbox's subject and body encrypted at rest (pool.models.fields.EncryptedTextField).

The messages kept before this held codes and temporary passwords in clear; they are deleted
rather than encrypted, since a development outbox's old messages are worth less than the
plaintext they would leave behind.
"""

from django.db import migrations

import pool.models.fields


def drop_plaintext_messages(apps, schema_editor):
    # A plain DELETE: nothing is read, so no plaintext value goes through the decrypting field.
    apps.get_model("pool", "OutboxMessage").objects.all()._raw_delete(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("pool", "0004_sign_in_names"),
    ]

    operations = [
        migrations.RunPython(drop_plaintext_messages, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="outboxmessage",
            name="body",
            field=pool.models.fields.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="subject",
            field=pool.models.fields.EncryptedTextField(blank=True, default=""),
        ),
    ]
