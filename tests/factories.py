"""Factories: the smallest calls that build a valid pool, client or user for a test.

Each takes keyword overrides for any model field, so a test states only what it cares about.
"""

from __future__ import annotations

import itertools
from typing import Any

from pool.models import AppClient, ResourceServer, User, UserPool, UserStatus
from pool.services import passwords

PASSWORD = "Correct-Horse-9"
_counter = itertools.count(1)


def make_pool(**fields: Any) -> UserPool:
    fields.setdefault("name", f"pool-{next(_counter)}")
    return UserPool.objects.create(**fields)


def make_device_pool(**fields):
    """A pool that requires TOTP MFA and remembers devices only on the user's prompt, where a
    remembered, proven device stands in for MFA (ChallengeRequiredOnNewDevice)."""
    defaults = dict(
        mfa_configuration=UserPool.Mfa.ON,
        mfa_methods=["SOFTWARE_TOKEN_MFA"],
        track_devices=True,
        device_challenge_required_on_new_device=True,
        device_only_remembered_on_user_prompt=True,
    )
    return make_pool(**{**defaults, **fields})


def make_client(
    pool: UserPool | None = None, *, secret: str | None = None, **fields: Any
) -> AppClient:
    """An app client allowed the code flow to http://localhost:3000/callback. Pass
    `secret="..."` (or `secret=""` to generate one) for a confidential client; the plaintext is
    then available as `client.plain_secret`."""
    pool = pool or make_pool()
    fields.setdefault("name", f"app-{next(_counter)}")
    fields.setdefault("callback_urls", ["http://localhost:3000/callback"])
    fields.setdefault("logout_urls", ["http://localhost:3000/"])
    fields.setdefault(
        "explicit_auth_flows",
        ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    client = AppClient(pool=pool, **fields)
    client.plain_secret = client.set_secret(secret or None) if secret is not None else ""
    client.save()
    return client


def make_service_client(
    pool: UserPool,
    *,
    identifier: str = "https://api.example",
    scopes: tuple[str, ...] = ("read",),
    granted: tuple[str, ...] | None = None,
    **fields: Any,
) -> AppClient:
    """A confidential client_credentials client (a machine) of a resource server made here,
    `identifier` with `scopes`, allowed the scopes `granted` (default: all of them)."""
    ResourceServer.objects.create(
        pool=pool, identifier=identifier, name="API", scopes=[{"name": name} for name in scopes]
    )
    allowed = scopes if granted is None else granted
    fields.setdefault("allowed_oauth_scopes", [f"{identifier}/{name}" for name in allowed])
    return make_client(pool, secret="", allowed_oauth_flows=["client_credentials"], **fields)


def make_user(
    pool: UserPool | None = None,
    username: str | None = None,
    *,
    password: str | None = PASSWORD,
    status: str = UserStatus.CONFIRMED,
    **fields: Any,
) -> User:
    """A confirmed, enabled user with PASSWORD and a verified email unless told otherwise."""
    pool = pool or make_pool()
    username = username or f"user{next(_counter)}"
    fields.setdefault("email", f"{username}@example.com")
    fields.setdefault("email_verified", status != UserStatus.UNCONFIRMED)
    user = User(pool=pool, username=username, status=status, **fields)
    if (
        "email" in pool.sign_in_attributes
        and user.email
        and (user.email_verified or "email" in pool.username_attributes)
    ):
        user.email_key = pool.normalize(user.email)
    if password:
        passwords.store(
            user, password, temporary=status == UserStatus.FORCE_CHANGE_PASSWORD, save=False
        )
    user.save()
    return user


def make_users_in_every_status(pool: UserPool) -> dict[str, User]:
    """One user of `pool` in each status Cognito has, and a disabled one, keyed by username:
    alice (CONFIRMED, verified email and phone, preferred_username `ally`), bob (UNCONFIRMED,
    unverified email), carol (FORCE_CHANGE_PASSWORD), dave (RESET_REQUIRED), Google_erin
    (EXTERNAL_PROVIDER, no password) and frank (CONFIRMED, disabled). Every password is
    PASSWORD (carol's is temporary). Their sign-in keys are the pool's (`policy.save_user`)."""
    from pool import policy

    specs = {
        "alice": dict(
            status=UserStatus.CONFIRMED,
            phone_number="+15550000001",
            phone_number_verified=True,
            preferred_username="ally",
        ),
        "bob": dict(status=UserStatus.UNCONFIRMED, email_verified=False),
        "carol": dict(status=UserStatus.FORCE_CHANGE_PASSWORD),
        "dave": dict(status=UserStatus.RESET_REQUIRED),
        "Google_erin": dict(status=UserStatus.EXTERNAL_PROVIDER, password=None),
        "frank": dict(status=UserStatus.CONFIRMED, enabled=False),
    }
    users = {}
    for username, spec in specs.items():
        user = make_user(pool, username, **spec)
        for attribute in ("email", "phone_number", "preferred_username"):
            policy.refresh_sign_in_key(user, attribute)
        policy.save_user(user)
        users[username] = user
    return users
