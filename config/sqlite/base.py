"""Django's SQLite backend, converting each statement's placeholders once.

Django writes SQL with `%s` placeholders and its SQLite cursor turns them into `?` with a
regular expression on every execution: over the hot paths' compiled reads (3 KB of SQL for a
refresh token with its family, user and client) that cost about 40 µs a statement, more than
SQLite's own work for some of them. The conversion depends on the SQL text only, so it is kept
per text (bounded); everything else is Django's backend unchanged (settings.DATABASES uses this
ENGINE for sqlite:// URLs).
"""

from __future__ import annotations

import functools

from django.db.backends.sqlite3 import base

# Distinct statement texts kept: the hot paths' few, plus whatever the ORM builds.
MAX_KEPT = 2048


@functools.lru_cache(maxsize=MAX_KEPT)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)

    def driver_sql(self, query: str) -> str:
        """`query` (Django's `%s` placeholders) as this backend's cursor hands it to the
        driver: pool.selectors.compiled.run executes the hot paths' statements on the driver's
        own cursor with it."""
        return _qmark(query)

    def driver_cursor(self):
        """The driver's own cursor, for `driver_sql`'s statements (no conversion left)."""
        return self.connection.cursor()
