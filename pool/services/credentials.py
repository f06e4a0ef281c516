"""Writing a password onto a user: the argon2id hash and the SRP verifier, always together.

Apart from pool.services.passwords (which re-exports it as `passwords.store`) so that the
services that create users (pool.services.users, and through it pool.services.migration) can
set a password without importing the password flows, which themselves migrate users from a
legacy store (forgot password): one import direction, no cycle."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import make_password

from pool import clock, crypto, srp
from pool.models import User


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
