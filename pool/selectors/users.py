"""Reading users: sign-in lookups and (in search) Cognito's ListUsers filters."""

from __future__ import annotations

from pool.errors import UserNotFoundException
from pool.models import User, UserPool

_KEY_FIELDS = {
    "email": "email_key",
    "phone_number": "phone_number_key",
    "preferred_username": "preferred_username_key",
}


def find_for_sign_in(pool: UserPool, identifier: str) -> User | None:
    """The user whose username, or sign-in attribute (username attribute, or verified alias),
    is `identifier`, compared as the pool compares names. None when there is no such user."""
    if not identifier:
        return None
    key = pool.normalize(identifier)
    user = User.objects.filter(pool=pool, username_key=key).select_related("pool").first()
    if user is not None:
        return user
    for attribute in pool.sign_in_attributes:
        field = _KEY_FIELDS[attribute]
        user = User.objects.filter(pool=pool, **{field: key}).select_related("pool").first()
        if user is not None:
            return user
    return None


def get_user(pool: UserPool, username: str) -> User:
    """A user by username or sign-in alias; UserNotFoundException when there is none."""
    user = find_for_sign_in(pool, username)
    if user is None:
        raise UserNotFoundException()
    return user
