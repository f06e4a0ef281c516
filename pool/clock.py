"""The domain clock. Services call `clock.now()`; tests freeze or advance it, never sleep."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


def timestamp() -> int:
    """Whole seconds since the epoch, as JWT claims want them (the system clock's own count
    when not frozen: what now().timestamp() gives, without making a datetime)."""
    return int(_frozen.timestamp()) if _frozen is not None else int(time.time())


def freeze(at: dt.datetime | None = None) -> dt.datetime:
    global _frozen
    _frozen = at or timezone.now()
    return _frozen


def advance(**delta: float) -> dt.datetime:
    """Move a frozen clock forward by a timedelta's keyword arguments (seconds=, minutes=, ...)."""
    global _frozen
    _frozen = (_frozen or timezone.now()) + dt.timedelta(**delta)
    return _frozen


def unfreeze() -> None:
    global _frozen
    _frozen = None


@contextmanager
def frozen(at: dt.datetime | None = None) -> Iterator[dt.datetime]:
    moment = freeze(at)
    try:
        yield moment
    finally:
        unfreeze()
