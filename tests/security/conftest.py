"""Helpers for the security tests: the hosted UI's helpers, TOTP codes, a spy that counts the
password hasher's work, the last code a user was sent, and a user in each state."""

from __future__ import annotations

import base64
import re
from collections import Counter

import pytest
from django_otp.oath import TOTP

from pool import clock, crypto
from pool.hashers import CognateArgon2Hasher
from pool.models import CodePurpose, OutboxMessage, TotpDevice, User, UserStatus
from pool.services import codes
from tests import factories
from tests.hostedui.conftest import (  # noqa: F401 (re-exported for the tests)
    CALLBACK,
    VERIFIER,
    authorize_url,
    code_for,
    redirect_params,
    sign_in,
    token_request,
)

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol_totp(user: User, secret: str = TOTP_SECRET) -> str:
    """A confirmed authenticator with TOTP MFA enabled and preferred."""
    TotpDevice.objects.create(user=user, secret=crypto.encrypt(secret), confirmed=True)
    User.objects.filter(pk=user.pk).update(
        software_token_mfa_enabled=True, preferred_mfa="SOFTWARE_TOKEN_MFA"
    )
    user.refresh_from_db()
    return secret


def totp_code(secret: str = TOTP_SECRET, offset_steps: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret))
    totp.time = clock.timestamp() + offset_steps * 30
    return f"{totp.token():06d}"


def last_code(to: str) -> str:
    """The six digits of the newest message sent to `to`: email (pytest-django's locmem
    outbox) or SMS (the dev outbox)."""
    from django.core import mail

    emails = [m for m in mail.outbox if to in m.to]
    if emails:
        text = f"{emails[-1].subject} {emails[-1].body}"
    else:
        message = OutboxMessage.objects.filter(to=to).latest("created_at", "pk")
        text = f"{message.subject} {message.body}"
    return re.search(r"\b\d{6}\b", text).group()


def wrong(code: str) -> str:
    """A six-digit code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def hasher_calls(monkeypatch) -> Counter:
    """Counts argon2 encode/verify calls; the real hasher still does the work."""
    calls: Counter = Counter()
    real_encode, real_verify = CognateArgon2Hasher.encode, CognateArgon2Hasher.verify

    def encode(self, password, salt):
        calls["encode"] += 1
        return real_encode(self, password, salt)

    def verify(self, password, encoded):
        calls["verify"] += 1
        return real_verify(self, password, encoded)

    monkeypatch.setattr(CognateArgon2Hasher, "encode", encode)
    monkeypatch.setattr(CognateArgon2Hasher, "verify", verify)
    return calls


# Users named "alice" in each state a user can be in, for tests that compare what each call or
# page answers for them with what it answers for a name that belongs to nobody.
WRONG_CODE = "000000"


def _with_code(user: User, purpose: str) -> User:
    """Give `user` a pending code for `purpose` that is not WRONG_CODE (nothing is sent)."""
    while codes.issue(user, purpose, destination=user.email) == WRONG_CODE:
        pass
    return user


USER_STATES = {
    "unconfirmed with a code": lambda pool: _with_code(
        factories.make_user(pool, "alice", status=UserStatus.UNCONFIRMED), CodePurpose.SIGN_UP
    ),
    "unconfirmed without a code": lambda pool: factories.make_user(
        pool, "alice", status=UserStatus.UNCONFIRMED
    ),
    "confirmed": lambda pool: factories.make_user(pool, "alice"),
    "confirmed with a pending reset": lambda pool: _with_code(
        factories.make_user(pool, "alice"), CodePurpose.FORGOT_PASSWORD
    ),
    "disabled": lambda pool: factories.make_user(pool, "alice", enabled=False),
    "no verified contact": lambda pool: factories.make_user(pool, "alice", email_verified=False),
    "reset required": lambda pool: factories.make_user(
        pool, "alice", status=UserStatus.RESET_REQUIRED
    ),
    "force change password": lambda pool: factories.make_user(
        pool, "alice", status=UserStatus.FORCE_CHANGE_PASSWORD
    ),
}
