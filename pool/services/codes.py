"""One-time verification codes: issue, send, verify. Six digits, stored as a keyed digest,
expiring, and limited to a few wrong guesses before the code is void."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from pool import clock, crypto
from pool.errors import (
    CodeMismatchException,
    CognitoError,
    ExpiredCodeException,
    LimitExceededException,
)
from pool.models import CodePurpose, User, VerificationCode

LIFETIMES = {
    CodePurpose.SIGN_UP: dt.timedelta(hours=24),
    CodePurpose.VERIFY_EMAIL: dt.timedelta(hours=24),
    CodePurpose.VERIFY_PHONE_NUMBER: dt.timedelta(hours=24),
    CodePurpose.FORGOT_PASSWORD: dt.timedelta(hours=1),
    CodePurpose.MFA_SMS: dt.timedelta(minutes=3),
    CodePurpose.MFA_EMAIL: dt.timedelta(minutes=3),
}
# Wrong guesses allowed against one code; the next one voids it.
MAX_ATTEMPTS = 5
CODE_LENGTH = 6


def issue(
    user: User,
    purpose: str,
    *,
    destination: str = "",
    lifetime: dt.timedelta | None = None,
) -> str:
    """Create (or replace) the user's code for `purpose` and return its plaintext, to be sent."""
    code = crypto.random_digits(CODE_LENGTH)
    VerificationCode.objects.update_or_create(
        user=user,
        purpose=purpose,
        defaults={
            "digest": crypto.digest(f"{user.pk}:{purpose}:{code}"),
            "destination": destination,
            "attempts": 0,
            "expires_at": clock.now() + (lifetime or LIFETIMES[purpose]),
        },
    )
    return code


def verify(user: User, purpose: str, code: str) -> None:
    """Consume the code if it matches; raise CodeMismatch, ExpiredCode or LimitExceeded if not.

    Call it outside any transaction of your own: a wrong guess must stay counted even when the
    caller's work rolls back, or an attacker would get the attempt back.
    """
    with transaction.atomic():
        row = (
            VerificationCode.objects.select_for_update().filter(user=user, purpose=purpose).first()
        )
        if row is None:
            raise ExpiredCodeException()
        if row.expires_at <= clock.now():
            row.delete()
            raise ExpiredCodeException()
        if row.attempts >= MAX_ATTEMPTS:
            row.delete()
            raise LimitExceededException()
        expected = crypto.digest(f"{user.pk}:{purpose}:{(code or '').strip()}")
        if crypto.equals(expected, row.digest):
            row.delete()
            return
        row.attempts += 1
        row.save(update_fields=["attempts"])
    raise CodeMismatchException()


def discard(user: User, purpose: str) -> None:
    VerificationCode.objects.filter(user=user, purpose=purpose).delete()


def as_wrong_code(exc: CognitoError) -> CognitoError:
    """What a failed `verify` says in pools that hide user existence: an expired, missing or
    voided code, which a name that belongs to nobody cannot have, reads as a wrong one (the
    code stays void all the same)."""
    if isinstance(exc, (ExpiredCodeException, LimitExceededException)):
        return CodeMismatchException()
    return exc
