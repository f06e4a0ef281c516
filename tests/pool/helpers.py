"""Small helpers for the pool's service tests: the code a message carries, a code that is not it."""

from __future__ import annotations

import re

from django.core import mail


def code_in(text: str) -> str:
    """The six-digit code in a message's text."""
    return re.search(r"\b(\d{6})\b", text).group(1)


def emailed_code(to: str) -> str:
    """The code in the newest email sent to `to` (pytest-django's locmem outbox)."""
    return code_in(next(m for m in reversed(mail.outbox) if to in m.to).body)


def wrong_code(code: str) -> str:
    """A six-digit code that is not `code`."""
    return "000000" if code != "000000" else "111111"
