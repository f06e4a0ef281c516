"""Setting and checking passwords. Every path that sets a password goes through `store`, which
writes the argon2id hash and the SRP verifier together."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import check_password, make_password

from pool import clock, crypto, srp
from pool.models import User

# Verified against unknown users so that "no such user" costs what "wrong password" costs.
_DUMMY_HASH: str | None = None


def store(user: User, password: str, *, temporary: bool = False, save: bool = True) -> None:
    """Hash `password` onto the user with the SRP verifier; a temporary one expires after the
    pool's temporary_password_validity_days."""
    user.password = make_password(password)
    salt = srp.new_salt()
    user.srp_salt = salt
    user.srp_verifier = crypto.encrypt(
        format(srp.verifier(user.pool.id_suffix, user.username, password, salt), "x")
    )
    now = clock.now()
    user.password_changed_at = now
    user.temporary_password_expires_at = (
        now + dt.timedelta(days=user.pool.temporary_password_validity_days or 7)
        if temporary
        else None
    )
    if save:
        user.save(
            update_fields=[
                "password",
                "srp_salt",
                "srp_verifier",
                "password_changed_at",
                "temporary_password_expires_at",
                "updated_at",
            ]
        )


def verify(user: User | None, password: str) -> bool:
    """Check a password in constant cost; upgrades an imported or weaker hash on success.
    With no user, a dummy hash is checked so that timing does not reveal who exists."""
    global _DUMMY_HASH
    if user is None or not user.password:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = make_password(crypto.token())
        check_password(password, _DUMMY_HASH)
        return False

    def upgrade(raw: str) -> None:
        # Rehash (and make the SRP verifier an imported user lacked); keep the expiry as it was.
        expires = user.temporary_password_expires_at
        store(user, raw, save=False)
        user.temporary_password_expires_at = expires
        user.save(update_fields=["password", "srp_salt", "srp_verifier", "updated_at"])

    return check_password(password, user.password, setter=upgrade)
