"""A legacy user store for the user migration trigger tests: a small SQLite database of users
with bcrypt password hashes, and the migration handler a team would put in front of it, served
by the loopback webhook receiver (tests.triggers_support) so each call is counted.

The handler answers as AWS's documented migration examples do: the user's attributes with
finalUserStatus CONFIRMED and messageAction SUPPRESS when the password matches; an error
(Lambda's error body) for a wrong password; an empty response for a name it does not know.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import bcrypt

from tests import triggers_support as hooks

SCHEMA = """
CREATE TABLE accounts (
    login TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    password_hash BLOB NOT NULL
)
"""


class LegacyStore:
    """The old system's users, in their own SQLite file (not Cognate's database)."""

    def __init__(self, path: Path):
        self.path = path
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # The receiver answers from its own thread: one connection per use.
        return sqlite3.connect(self.path)

    def add(
        self, login: str, password: str, *, email: str, full_name: str, phone: str = ""
    ) -> None:
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4))
        with self._connect() as db:
            db.execute(
                "INSERT INTO accounts VALUES (?, ?, ?, ?, ?)",
                (login, email, full_name, phone, hashed),
            )

    def find(self, name: str) -> tuple[str, str, str, str, bytes] | None:
        """The account signed in as `name`: its login or its email."""
        with self._connect() as db:
            return db.execute(
                "SELECT login, email, full_name, phone, password_hash FROM accounts "
                "WHERE login = ? OR lower(email) = lower(?)",
                (name, name),
            ).fetchone()

    def migration_handler(self, **extra: Any) -> hooks.Answer:
        """The webhook's answer to a UserMigration event; `extra` adds response fields."""

        def answer(event: dict[str, Any]) -> tuple[int, Any]:
            account = self.find(event["userName"])
            if account is None:
                return 200, event  # unknown here too: the response stays empty
            login, email, full_name, phone, password_hash = account
            if event["triggerSource"] == "UserMigration_Authentication" and not bcrypt.checkpw(
                event["request"]["password"].encode(), password_hash
            ):
                return 400, {"errorMessage": "Bad password", "errorType": "Error"}
            attributes = {"email": email, "email_verified": "true", "name": full_name}
            if phone:
                attributes["phone_number"] = phone
            event["response"]["userAttributes"] = attributes
            event["response"]["messageAction"] = "SUPPRESS"
            if event["triggerSource"] == "UserMigration_Authentication":
                event["response"]["finalUserStatus"] = "CONFIRMED"
            event["response"].update(extra)
            return 200, event

        return answer
