"""Django's PostgreSQL backend, saying how its cursor hands a statement to psycopg.

pool.selectors.compiled.run runs the hot paths' statements on the driver's own cursor where the
backend says how (`driver_sql`, `driver_cursor`), as on SQLite (config/sqlite): without the
layers of Django's cursor wrapper a userInfo answer took 3.5 % fewer instructions on
PostgreSQL (callgrind, in-process). psycopg takes Django's `%s` placeholders as they are, and
the cursor is the one Django's own cursor wraps (the connection's cursor class, with
server-side binding and prepared statements as settings ask, and Django's time zone).
Everything else is Django's backend unchanged (settings.DATABASES uses this ENGINE for
postgres:// URLs).
"""

from __future__ import annotations

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def driver_sql(self, query: str) -> str:
        """`query` as Django's cursor hands it to psycopg: unchanged."""
        return query

    def driver_cursor(self):
        """The driver's cursor Django's cursor wrapper would wrap."""
        return self.create_cursor()
