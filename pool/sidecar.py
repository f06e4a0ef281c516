"""Files next to a SQLite database file, shared by every process that uses the database
(pool.config_generation's count of configuration changes, config.counter_slots' counters):
`<database file><suffix>`, created when missing as readable and writable as the database
file, and never deleted (a process mapping a deleted file would go on alone)."""

from __future__ import annotations

import os


def next_to_database(connection, suffix: str) -> tuple[str, int] | None:
    """The path of `connection`'s database file's file with `suffix` and the mode to create it
    with; None when the database is no file (PostgreSQL, an in-memory SQLite database)."""
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return None
    database = os.fspath(connection.settings_dict["NAME"])
    try:
        mode = os.stat(database).st_mode & 0o666  # as readable and writable as the database
    except FileNotFoundError:
        mode = 0o666
    return database + suffix, mode
