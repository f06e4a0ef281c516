"""What an operator does to users: create them with a temporary password and an invitation,
confirm, enable or disable, delete, sign out everywhere; plus group management (implemented in
`pool.services.groups`, re-exported here so that every Admin* operation has one address)."""

from __future__ import annotations

import secrets
import string

from django.db import transaction

from pool import policy, triggers
from pool.errors import (
    InvalidParameterException,
    NotAuthorizedException,
    UnsupportedUserStateException,
    UserNotFoundException,
)
from pool.models import AuthEvent, CodePurpose, User, UserPool, UserStatus
from pool.selectors.users import find_for_sign_in
from pool.services import codes, events, passwords, users
from pool.services.delivery import send_invitation
from pool.services.groups import (
    add_user_to_group,
    create_group,
    delete_group,
    remove_user_from_group,
    update_group,
)
from pool.services.results import RequestContext

__all__ = [
    "add_user_to_group",
    "admin_confirm_sign_up",
    "admin_create_user",
    "create_group",
    "delete_group",
    "delete_user",
    "generate_temporary_password",
    "global_sign_out",
    "remove_user_from_group",
    "set_enabled",
    "update_group",
]

MESSAGE_ACTIONS = ("RESEND", "SUPPRESS")
DELIVERY_MEDIUMS = ("EMAIL", "SMS")
# Symbols for generated passwords: in Cognito's set, none that shells or mail clients mangle.
_GENERATED_SYMBOLS = "%+-.=@^_"


def generate_temporary_password(pool: UserPool) -> str:
    """A random password that satisfies the pool's policy (at least 12 characters)."""
    rng = secrets.SystemRandom()
    length = max(pool.password_min_length, 12)
    alphabet = string.ascii_letters + string.digits + _GENERATED_SYMBOLS
    chars = [
        rng.choice(string.ascii_uppercase),
        rng.choice(string.ascii_lowercase),
        rng.choice(string.digits),
        rng.choice(_GENERATED_SYMBOLS),
    ]
    chars += [rng.choice(alphabet) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    password = "".join(chars)
    policy.check_password(pool, password)
    return password


def _check_delivery(delivery, message_action: str | None) -> tuple[str, ...]:
    if message_action is not None and message_action not in MESSAGE_ACTIONS:
        raise InvalidParameterException(
            "message_action must be RESEND or SUPPRESS.", field="message_action"
        )
    mediums = tuple(delivery or ())
    if not mediums or any(m not in DELIVERY_MEDIUMS for m in mediums):
        raise InvalidParameterException("delivery must name EMAIL, SMS or both.", field="delivery")
    return mediums


def admin_create_user(
    *,
    pool: UserPool,
    username: str,
    attributes: dict[str, str] | None = None,
    temporary_password: str | None = None,
    message_action: str | None = None,
    delivery=("EMAIL",),
    force_alias_creation: bool = False,
    context: RequestContext | None = None,
    client_metadata: dict[str, str] | None = None,
    validation_data: dict[str, str] | None = None,
) -> tuple[User, str]:
    """AdminCreateUser: a FORCE_CHANGE_PASSWORD user with a temporary password (generated to
    satisfy the policy unless given), invited by email/SMS with the pool's invitation template
    unless `message_action="SUPPRESS"`. `message_action="RESEND"` re-invites an existing
    FORCE_CHANGE_PASSWORD user with a fresh temporary password and expiry.

    Returns the user and the temporary password's plaintext, for the operator to hand over
    when the invitation is suppressed."""
    mediums = _check_delivery(delivery, message_action)
    attributes = dict(attributes or {})
    if temporary_password is not None:
        policy.check_password(pool, temporary_password)
    password = temporary_password or generate_temporary_password(pool)

    if message_action == "RESEND":
        user = find_for_sign_in(pool, username) if isinstance(username, str) else None
        if user is None:
            raise UserNotFoundException()
        if user.status != UserStatus.FORCE_CHANGE_PASSWORD:
            raise UnsupportedUserStateException(
                f"Resend not possible. {user.username} status is not FORCE_CHANGE_PASSWORD: "
                f"it is {user.status}.",
                field="message_action",
            )
        with transaction.atomic():
            passwords.store(user, password, temporary=True)
            send_invitation(
                user,
                sign_in_name=username,
                temporary_password=password,
                mediums=mediums,
                client_metadata=client_metadata,
            )
        return user, password

    user = users.prepare(
        pool=pool,
        username=username,
        attributes=attributes,
        status=UserStatus.FORCE_CHANGE_PASSWORD,
        password=password,
        temporary=True,
        admin=True,
        trigger_source=users.PRE_SIGN_UP_ADMIN_CREATE_USER,
        client_metadata=client_metadata,
        validation_data=validation_data,
    )
    if message_action != "SUPPRESS":
        # Refuse before writing anything: a missing destination is the operator's input error.
        for medium, attribute in (("EMAIL", "email"), ("SMS", "phone_number")):
            if medium in mediums and not getattr(user, attribute):
                raise InvalidParameterException(
                    f"The user has no {attribute.replace('_', ' ')} to send the invitation to; "
                    "give one or suppress the message.",
                    field=attribute,
                )
    with transaction.atomic():
        users.save(user, force_alias=force_alias_creation)
        if message_action != "SUPPRESS":
            send_invitation(
                user,
                sign_in_name=username,
                temporary_password=password,
                mediums=mediums,
                client_metadata=client_metadata,
            )
    return user, password


def admin_confirm_sign_up(
    *,
    user: User,
    context: RequestContext | None = None,
    client_metadata: dict[str, str] | None = None,
) -> User:
    """AdminConfirmSignUp: confirm an UNCONFIRMED user without a code. The post-confirmation
    trigger runs after the commit (callerContext.clientId CLIENT_ID_NOT_APPLICABLE)."""
    if user.status != UserStatus.UNCONFIRMED:
        raise NotAuthorizedException(f"User cannot be confirmed. Current status is {user.status}")
    with transaction.atomic():
        policy.set_status(user)
        policy.save_user(user)
        codes.discard(user, CodePurpose.SIGN_UP)
        events.record(
            pool=user.pool,
            event_type=AuthEvent.Type.CONFIRM_SIGN_UP,
            success=True,
            user=user,
            reason="admin",
            context=context,
        )
    triggers.post_confirmation(
        user,
        trigger_source="PostConfirmation_ConfirmSignUp",
        client=None,
        client_metadata=client_metadata,
    )
    return user


def _revoke_sessions(user: User, reason: str) -> int:
    from pool.services import tokens

    return tokens.revoke_user_sessions(user=user, reason=reason)


def set_enabled(*, user: User, enabled: bool, context: RequestContext | None = None) -> User:
    """AdminEnableUser / AdminDisableUser. Disabling also ends every session and refresh
    token the user has, so a disabled user is out at once, not at the next refresh."""
    if not isinstance(enabled, bool):
        raise InvalidParameterException("enabled must be true or false.", field="enabled")
    with transaction.atomic():
        user.enabled = enabled
        user.save(update_fields=["enabled", "updated_at"])
        if not enabled:
            _revoke_sessions(user, "disabled")
    return user


def delete_user(*, user: User, context: RequestContext | None = None) -> None:
    """AdminDeleteUser: the user, their codes, devices, tokens and memberships go."""
    with transaction.atomic():
        user.delete()


def delete_own_account(
    *, user: User, password: str | None, context: RequestContext | None = None
) -> None:
    """DeleteUser and the account page's "delete my account": allowed where the pool allows it
    (UserPool.allow_self_deletion). `password` is the account page's confirmation; the JSON
    API's caller proved itself with an access token (None)."""
    if not user.enabled:
        raise NotAuthorizedException("User is disabled.")
    if not user.pool.allow_self_deletion:
        raise NotAuthorizedException("This user pool does not let users delete their account.")
    if password is not None:
        passwords.confirm_own_password(user=user, password=password, context=context)
    delete_user(user=user, context=context)


def global_sign_out(
    *, user: User, context: RequestContext | None = None, by_user: bool = False
) -> int:
    """AdminUserGlobalSignOut (and GlobalSignOut, `by_user`, the user's own): revoke every
    refresh token family, end hosted-UI sessions and void issued access tokens, at every door.
    Returns how many token families were revoked."""
    with transaction.atomic():
        revoked = _revoke_sessions(user, "global_sign_out")
        events.record(
            pool=user.pool,
            event_type=AuthEvent.Type.SIGN_OUT,
            success=True,
            user=user,
            reason="global sign-out" if by_user else "admin global sign-out",
            context=context,
        )
    return revoked
