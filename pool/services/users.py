"""The one way a user comes to exist, and the one rule for the name they sign in with.

Sign-up (`sign_up.sign_up`), AdminCreateUser (`admin.admin_create_user`), CSV import
(`user_import._import_row`) and the user migration trigger (`migration.migrate`) all go through
`prepare` + `save` (or `create`, both at once); federated first sign-in (`federation.sign_in`) too.
`prepare` decides the stored username (`sign_in_name`), validates the attributes against the
pool's schema, applies them and sets the password; `save` claims every sign-in name in the
pool's register (`policy.save_user`): names are normalised (NFKC and the pool's case rule,
`pool.names`) and unique across username, verified email/phone and a confirmed user's
preferred_username.

Cognito's pre-sign-up trigger fires in `prepare` (when the caller names its `trigger_source`:
sign-up and AdminCreateUser do, an import does not, as in Cognito), after the name, password
and attributes passed their checks and before anything is written: a refusal leaves no user and
sends no code. For a sign-up its answer may auto-confirm the user and auto-verify the email /
phone number; for AdminCreateUser Cognito ignores those flags, and so does Cognate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pool import policy, triggers
from pool.errors import InvalidParameterException
from pool.models import AppClient, TriggerKind, User, UserPool, UserStatus
from pool.services import credentials

PRE_SIGN_UP_SIGN_UP = "PreSignUp_SignUp"
PRE_SIGN_UP_ADMIN_CREATE_USER = "PreSignUp_AdminCreateUser"
PRE_SIGN_UP_EXTERNAL_PROVIDER = "PreSignUp_ExternalProvider"

_WANTED = {
    ("email",): "Username should be an email.",
    ("phone_number",): "Username should be a phone number.",
}
_EITHER = "Username should be either an email or a phone number."


@dataclass(frozen=True)
class DecidedName:
    """What a typed username becomes: the username to store, the `sub` it fixes (in pools
    with username attributes the username is the sub) and the username attribute it fills."""

    username: str
    sub: uuid.UUID | None = None
    attribute: str = ""


def _is_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def sign_in_name(
    pool: UserPool, username: str, attributes: dict[str, str], *, exported_sub: bool = False
) -> DecidedName:
    """Decide what `username` means in this pool, with Cognito's messages; fills the username
    attribute into `attributes` where it applies.

    - Pools with username attributes: the name must be an email / phone number as the pool
      allows; it fills that attribute (a given value must be the same name, as the pool
      compares names) and the stored username is a new UUID, the user's `sub`. An import
      (`exported_sub`) may instead give a UUID, an exported user's sub, kept when free, with
      the sign-in attribute among its attributes.
    - Alias pools: a username shaped like an enabled email/phone alias is refused, since it
      would make sign-in ambiguous.
    """
    policy.check_username(username)
    if len(pool.normalize(username)) > policy.USERNAME_MAX_LENGTH:
        raise InvalidParameterException(
            "Username must be between 1 and 128 characters.", field="username"
        )
    allowed = pool.username_attributes or []
    if allowed:
        sub = _is_uuid(username) if exported_sub else None
        if sub is not None:
            if not any(attributes.get(a) for a in allowed):
                raise InvalidParameterException(
                    f"{' or '.join(allowed)} is required: it is this pool's sign-in name."
                )
            if User.objects.filter(sub=sub).exists():
                sub = uuid.uuid4()
            return DecidedName(username=str(sub), sub=sub)
        if "email" in allowed and policy.is_email(username):
            attribute = "email"
        elif "phone_number" in allowed and policy.is_phone_number(username):
            attribute = "phone_number"
        else:
            raise InvalidParameterException(_WANTED.get(tuple(allowed), _EITHER), field="username")
        given = attributes.get(attribute)
        if given and pool.normalize(given) != pool.normalize(username):
            raise InvalidParameterException(
                f"The {attribute} attribute must match the username.", field=attribute
            )
        attributes[attribute] = username
        sub = uuid.uuid4()
        return DecidedName(username=str(sub), sub=sub, attribute=attribute)
    aliases = pool.alias_attributes or []
    if "email" in aliases and policy.is_email(username):
        raise InvalidParameterException(
            "Username cannot be of email format, since user pool is configured for email alias.",
            field="username",
        )
    if "phone_number" in aliases and policy.is_phone_number(username):
        raise InvalidParameterException(
            "Username cannot be of phone number format, since user pool is configured for "
            "phone number alias.",
            field="username",
        )
    return DecidedName(username=username)


def prepare(
    *,
    pool: UserPool,
    username: str,
    attributes: dict[str, str] | None,
    status: str,
    password: str | None = None,
    password_hash: str = "",
    temporary: bool = False,
    client: AppClient | None = None,
    admin: bool = False,
    exported_sub: bool = False,
    trigger_source: str | None = None,
    client_metadata: dict[str, str] | None = None,
    validation_data: dict[str, str] | None = None,
    federated: bool = False,
) -> User:
    """A new user, checked and built but not saved (save it with `save`): name decided by
    `sign_in_name`, `password` checked against the policy and hashed (a `temporary` one
    expires) or an imported Django `password_hash` kept, attributes checked against the schema
    (`admin` allows verified flags and developer-only attributes; `client` bounds what a
    self-service caller may write) and applied.

    Split from `save` so that a door hashes before it opens a write transaction (on SQLite
    that holds the database's write lock) and then saves the user together with what goes
    with it (a sign-up code, an invitation)."""
    attributes = dict(attributes or {})
    if federated:
        # `<ProviderName>_<subject>`, whatever the pool's sign-in names: a federated user
        # never signs in by name (`policy.refresh_sign_in_key`).
        policy.check_username(username)
        name = DecidedName(username=username)
    else:
        name = sign_in_name(pool, username, attributes, exported_sub=exported_sub)
    if password is not None:
        policy.check_password(pool, password)
    clean = policy.validate_attributes(pool, attributes, creating=True, client=client, admin=admin)
    answer = None
    if trigger_source is not None:
        answer = _pre_sign_up(
            pool,
            trigger_source=trigger_source,
            user_name=name.username,
            attributes=attributes,
            client=client,
            client_metadata=client_metadata,
            validation_data=validation_data,
        )
    user = User(pool=pool, username=name.username, status=status)
    if name.sub is not None:
        user.sub = name.sub
    policy.apply_attributes(user, clean, touch=not exported_sub)
    if answer is not None and trigger_source == PRE_SIGN_UP_SIGN_UP:
        _apply_pre_sign_up(user, answer)
    if "updated_at" not in clean and not exported_sub:
        # A user coming from an export carries its own updated_at (or none), unchanged.
        policy.touch_updated_at(user)
    if password is not None:
        # Hashed whether or not the name is free, so a taken name costs what a free one does.
        credentials.store(user, password, temporary=temporary, save=False)
    elif password_hash:
        user.password = password_hash
    return user


def save(user: User, *, force_alias: bool = False) -> User:
    """Save a prepared user with every sign-in name claimed: UsernameExistsException /
    AliasExistsException when one is taken (`force_alias` moves an alias, as Cognito's
    ForceAliasCreation). Runs in the caller's transaction when there is one."""
    policy.save_user(user, force_alias=force_alias)
    return user


def create(*, force_alias: bool = False, **fields: Any) -> User:
    """`prepare` and `save` in one call, for callers with nothing to write alongside."""
    return save(prepare(**fields), force_alias=force_alias)


def _pre_sign_up(
    pool: UserPool,
    *,
    trigger_source: str,
    user_name: str,
    attributes: dict[str, str],
    client: AppClient | None,
    client_metadata: dict[str, str] | None,
    validation_data: dict[str, str] | None,
) -> dict[str, Any] | None:
    """Cognito's pre-sign-up event (userAttributes as given, validationData, clientMetadata);
    the trigger's response, or None when the pool has none. A refusal raises."""
    request: dict[str, Any] = {
        "userAttributes": {name: str(value) for name, value in attributes.items()},
        "validationData": dict(validation_data) if validation_data else None,
    }
    if client_metadata:
        request["clientMetadata"] = dict(client_metadata)
    return triggers.fire(
        pool,
        TriggerKind.PRE_SIGN_UP,
        trigger_source=trigger_source,
        user_name=user_name,
        client=client,
        request=request,
        response={"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    )


def _apply_pre_sign_up(user: User, answer: dict[str, Any]) -> None:
    """autoConfirmUser confirms the user (no code is sent); autoVerifyEmail / autoVerifyPhone
    mark the address verified, only when the user has one (Cognito's rule). Flags that are not
    JSON booleans are refused, as Cognito refuses a malformed answer."""
    for flag in ("autoConfirmUser", "autoVerifyEmail", "autoVerifyPhone"):
        if answer.get(flag) not in (None, True, False):
            raise triggers.InvalidLambdaResponseException(triggers.UNRECOGNIZABLE)
    if answer.get("autoConfirmUser") is True:
        policy.set_status(user, status=UserStatus.CONFIRMED)
    for flag, attribute in (("autoVerifyEmail", "email"), ("autoVerifyPhone", "phone_number")):
        if answer.get(flag) is True and getattr(user, attribute):
            setattr(user, f"{attribute}_verified", True)
            policy.refresh_sign_in_key(user, attribute)
