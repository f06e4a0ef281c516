"""Model fields that keep their value encrypted at rest (pool.crypto: Fernet under
COGNATE_ENCRYPTION_KEYS / SECRET_KEY)."""

from __future__ import annotations

from django.db import models

from pool import crypto

UNREADABLE = "(encrypted under a key that is no longer configured)"


class EncryptedTextField(models.TextField):
    """Text encrypted in the database and plain in Python. Not searchable or orderable by
    value: use it for what is only ever shown, such as the dev outbox's messages."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        try:
            return crypto.decrypt(value)
        except ValueError:  # a row from before a key was removed: shown, never a 500
            return UNREADABLE

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return crypto.encrypt(value)
