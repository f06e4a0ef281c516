"""Session engine (settings.SESSION_ENGINE): Django's database sessions, with only a keyed hash
of the session key at rest.

Django's own engine stores the cookie value as `django_session.session_key`, so whoever reads
the database or a backup can sign in as any operator or user by copying a row's key into a
cookie. Here the row's key is an HMAC-SHA256 (pool.crypto.digest, keyed from
COGNATE_ENCRYPTION_KEYS / SECRET_KEY) of the cookie value, cut to the column's 40 characters
(160 bits). A row's key cannot be turned back into the cookie, and presented as a cookie it
is hashed again and matches nothing. Every place Django's engine touches a key (load, save,
exists, delete, and their async twins) goes through `stored_key`; `cycle_key` and `flush` are
built on those and keep working unchanged.

A new session (a sign-in's, whose key `cycle_key` replaces) is one INSERT, made when the response
saves it: not an existence check of the drawn key, an empty row and then an UPDATE, as Django's
engine does. A drawn key that is taken (never seen: 160 random bits) fails that
INSERT and another is drawn, as Django's `create` does for any key.

Sessions stored before this engine was set (plain keys) are simply no longer found: their
holders sign in again, and `manage.py clearsessions` removes the rows once they expire.
Rotating the first encryption key signs everybody out the same way.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import TYPE_CHECKING

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import CreateError
from django.db import IntegrityError, connection
from django.db.models import Subquery
from django.utils import timezone

from pool import crypto
from pool.selectors import compiled

if TYPE_CHECKING:
    from django.contrib.sessions.models import Session

# django_session.session_key is a varchar(40).
STORED_KEY_LENGTH = 40


def stored_key(session_key: str) -> str:
    """The row key for a cookie's session key: a keyed hash, never the key itself."""
    return crypto.digest(f"session:{session_key}")[:STORED_KEY_LENGTH]


_KEY = "\x01key"


def _session_query():
    return SessionStore.get_model_class().objects.filter(session_key=_KEY)


def row_annotations(key) -> dict[str, Subquery]:
    """The session row of stored key `key` (a value or an outer reference) as two annotations,
    `session_data` and `session_expires` (NULL without a row), for a query that reads it with
    its own row (authorize: the app client's): give them to `SessionStore.use_row`."""
    rows = SessionStore.get_model_class().objects.filter(session_key=key)
    return {
        "session_data": Subquery(rows.values("session_data")[:1]),
        "session_expires": Subquery(rows.values("expire_date")[:1]),
    }


class SessionStore(db.SessionStore):
    """db.SessionStore that looks rows up, writes and deletes them by `stored_key`."""

    _row_read: tuple[str, str | None, dt.datetime | None] | None = None

    def use_row(self, data: str | None, expires: dt.datetime | None) -> None:
        """This key's row as another query of this request read it (`row_annotations` with
        `stored_key(session_key)`): loading the session (under this key) reads nothing more."""
        self._row_read = (self.session_key, data, expires)

    def _get_session_from_db(self) -> Session | None:
        """The live row of this key, or None. One primary-key query compiled once
        (pool.selectors.compiled): every hosted-UI page and authorize reads it (authorize with
        the app client's row: `use_row`)."""
        if self.session_key is None:
            return None
        kept, self._row_read = self._row_read, None
        if kept is not None and kept[0] == self.session_key:
            _key, data, expires = kept
            row = None if data is None else self.model(session_data=data, expire_date=expires)
        else:
            read = compiled.query("session", _session_query, {_KEY: "key"})
            built = read.fetch({"key": stored_key(self.session_key)})
            row = built[self.model] if built is not None else None
        if row is None or row.expire_date <= timezone.now():
            self._session_key = None
            return None
        return row

    async def _aget_session_from_db(self) -> Session | None:
        if self.session_key is None:
            return None
        try:
            return await self.model.objects.aget(
                session_key=stored_key(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None
            return None

    def _get_new_session_key(self) -> str:
        """A fresh random key, not looked up first: `create` inserts it with must_create,
        which fails (and draws again) if it were taken. 160 random bits written as 32 base32
        characters (lower case: within Django's key alphabet), as Django's 32 characters of
        36 kinds, without drawing each character on its own (~0.1 ms)."""
        return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()

    def cycle_key(self) -> None:
        """The same data under a new key (no session fixation): the old row goes now; the new
        one is written once, when the response saves the session (SessionMiddleware)."""
        data = self._session
        key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)

    def save(self, must_create: bool = False) -> None:
        """A new row (must_create) is one compiled INSERT outside a transaction: alone, it
        needs no savepoint to fail in; within one, Django's save (atomic) does it."""
        if not must_create or self.session_key is None or connection.in_atomic_block:
            return super().save(must_create=must_create)
        row = self.create_model_instance(self._get_session(no_load=True))
        try:
            compiled.insert(row)
        except IntegrityError:
            raise CreateError from None
        return None

    def exists(self, session_key: str) -> bool:
        return self.model.objects.filter(session_key=stored_key(session_key)).exists()

    async def aexists(self, session_key: str) -> bool:
        return await self.model.objects.filter(session_key=stored_key(session_key)).aexists()

    def create_model_instance(self, data: dict) -> Session:
        return self.model(
            session_key=stored_key(self._get_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=self.get_expiry_date(),
        )

    async def acreate_model_instance(self, data: dict) -> Session:
        return self.model(
            session_key=stored_key(await self._aget_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=await self.aget_expiry_date(),
        )

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is None:
            return
        self.model.objects.filter(session_key=stored_key(session_key)).delete()

    async def adelete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key is None:
            return
        await self.model.objects.filter(session_key=stored_key(session_key)).adelete()
