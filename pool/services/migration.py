"""The user migration trigger: a user who exists only in a legacy store becomes a user of the
pool the first time they sign in with a password, or ask for a password reset.

Cognito calls its UserMigration trigger when a password sign-in (the hosted page,
USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH with a PASSWORD) or ForgotPassword
finds no user. It never calls it for USER_SRP_AUTH: SRP never shows the server the password
the legacy store would check, so a client whose users may still be in the legacy store signs
in with USER_PASSWORD_AUTH until they are migrated (Amplify's `authFlowType:
'USER_PASSWORD_AUTH'`, pycognito's `admin_authenticate`). Cognate does the same
(pool.services.srp_auth refuses an unknown name as any other).

The event carries the typed name (`userName`) and, at sign-in, the typed `password`
(`UserMigration_Authentication`; `UserMigration_ForgotPassword` has none), with
`validationData` and `clientMetadata`. The answer's `response`:
- `userAttributes` (required): the new user's attributes, checked against the pool's schema
  as an administrator's would be (email_verified allowed). `sub` is refused: it is not
  writable in Cognito (the trigger cannot choose it) and Cognate keeps that rule, so the
  migrated user gets a new sub, as every Cognito user does.
- `finalUserStatus`: CONFIRMED (the typed password is kept: hashed, with its SRP verifier) or
  RESET_REQUIRED (no password is kept; the sign-in answers PasswordResetRequiredException).
  A forgot-password migration always creates a RESET_REQUIRED user: the code is then sent.
- `messageAction` (SUPPRESS), `desiredDeliveryMediums` (EMAIL / SMS): checked; Cognate sends
  no welcome message for a migrated user (they already know their password), so they have
  nothing else to change.
- `forceAliasCreation`: moves a verified email / phone alias held by another user, as
  AdminCreateUser's ForceAliasCreation; otherwise a taken alias refuses the migration.
- `enableSMSMFA`: turns on SMS MFA for the new user (who must have a phone number).
The password policy is not applied to the typed password (Cognito's rule: it came from the
legacy store).

Outcomes: an answer without userAttributes means the legacy store does not know the name,
and the caller answers as for any unknown name (`None` here). A refusal (the handler raised,
as a legacy store does for a wrong password) is UserLambdaValidationException, which the
sign-in maps to "Incorrect username or password.". A timeout, an unreachable webhook or an
answer that is not a valid user is Cognito's UnexpectedLambdaException /
InvalidLambdaResponseException. The trigger runs before anything is written: every failure
leaves no user.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from pool import triggers
from pool.errors import (
    InvalidLambdaResponseException,
    InvalidParameterException,
    UsernameExistsException,
)
from pool.models import AppClient, TriggerKind, User, UserPool, UserStatus
from pool.services import credentials, users
from pool.services.results import RequestContext

AUTHENTICATION = "UserMigration_Authentication"
FORGOT_PASSWORD = "UserMigration_ForgotPassword"
FINAL_STATUSES = (UserStatus.CONFIRMED, UserStatus.RESET_REQUIRED)
MESSAGE_ACTIONS = ("SUPPRESS", "RESEND")
DELIVERY_MEDIUMS = ("EMAIL", "SMS")


def is_configured(pool: UserPool) -> bool:
    """Whether the pool has a user migration trigger (a cached lookup, no query when warm)."""
    return TriggerKind.USER_MIGRATION in triggers.configured_kinds(pool)


def _can_be_a_username(pool: UserPool, username: str) -> bool:
    """Whether `username` could name a new user of this pool. A name that could not (an
    email-shaped name in an email-alias pool, an empty or oversized one) is never sent to the
    trigger: it is answered as an unknown name."""
    try:
        users.sign_in_name(pool, username, {})
    except InvalidParameterException:
        return False
    return True


def migrate(
    *,
    pool: UserPool,
    username: str,
    password: str | None,
    client: AppClient | None,
    context: RequestContext | None,
    client_metadata: dict[str, str] | None = None,
) -> User | None:
    """Ask the pool's migration trigger about `username` (unknown to the pool) and create the
    user it describes. `password` is the typed one at sign-in, None for a forgot-password
    migration. None when the pool has no such trigger, the name cannot be a username, the
    legacy store does not know it, or another request created the user meanwhile. Raises the
    trigger's errors; creates nothing then."""
    if not is_configured(pool) or not isinstance(username, str):
        return None
    if not _can_be_a_username(pool, username):
        return None
    request: dict[str, Any] = {
        "validationData": dict(context.validation_data)
        if context and context.validation_data
        else None,
    }
    if password is not None:
        request["password"] = password
    metadata = client_metadata or (context.client_metadata if context else None)
    if metadata:
        request["clientMetadata"] = dict(metadata)
    answer = triggers.fire(
        pool,
        TriggerKind.USER_MIGRATION,
        trigger_source=AUTHENTICATION if password is not None else FORGOT_PASSWORD,
        user_name=username,
        client=client,
        request=request,
        response={
            "userAttributes": None,
            "finalUserStatus": None,
            "messageAction": None,
            "desiredDeliveryMediums": None,
            "forceAliasCreation": None,
            "enableSMSMFA": None,
        },
    )
    if not answer or not answer.get("userAttributes"):
        return None
    return _create(pool, username=username, password=password, answer=answer)


def _refused(detail: str) -> InvalidLambdaResponseException:
    return InvalidLambdaResponseException(f"Invalid lambda response: {detail}")


def _checked(answer: dict[str, Any]) -> tuple[dict[str, str], str | None, bool, bool]:
    """The answer's userAttributes, finalUserStatus, forceAliasCreation and enableSMSMFA,
    each of the type Cognito takes; anything else is InvalidLambdaResponseException."""
    attributes = answer.get("userAttributes")
    if not isinstance(attributes, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in attributes.items()
    ):
        raise _refused("userAttributes must map attribute names to strings.")
    if "sub" in attributes:
        raise _refused("the sub attribute cannot be set by the migration trigger.")
    status = answer.get("finalUserStatus")
    if status is not None and status not in FINAL_STATUSES:
        raise _refused("finalUserStatus must be CONFIRMED or RESET_REQUIRED.")
    action = answer.get("messageAction")
    if action is not None and action not in MESSAGE_ACTIONS:
        raise _refused("messageAction must be SUPPRESS or RESEND.")
    mediums = answer.get("desiredDeliveryMediums")
    if mediums is not None and (
        not isinstance(mediums, list) or not all(m in DELIVERY_MEDIUMS for m in mediums)
    ):
        raise _refused("desiredDeliveryMediums must be a list of EMAIL and SMS.")
    flags = []
    for flag in ("forceAliasCreation", "enableSMSMFA"):
        if answer.get(flag) not in (None, True, False):
            raise _refused(f"{flag} must be a boolean.")
        flags.append(answer.get(flag) is True)
    return attributes, status, flags[0], flags[1]


def _create(
    pool: UserPool,
    *,
    username: str,
    password: str | None,
    answer: dict[str, Any],
) -> User | None:
    """The user the answer describes, through users.prepare / users.save (the one way a user
    comes to exist): the typed name, the answer's attributes, the typed password when the
    final status is CONFIRMED. None when the name was taken meanwhile."""
    attributes, status, force_alias, sms_mfa = _checked(answer)
    confirmed = password is not None and (status or UserStatus.CONFIRMED) == UserStatus.CONFIRMED
    try:
        user = users.prepare(
            pool=pool,
            username=username,
            attributes=attributes,
            status=UserStatus.CONFIRMED if confirmed else UserStatus.RESET_REQUIRED,
            admin=True,
        )
    except InvalidParameterException as exc:
        raise _refused(exc.message) from None
    if sms_mfa:
        if not user.phone_number:
            raise _refused("enableSMSMFA needs a phone_number.")
        user.sms_mfa_enabled = True
    if confirmed:
        # The legacy store checked the password: the pool's policy does not apply to it.
        credentials.store(user, password, save=False)
    try:
        with transaction.atomic():
            return users.save(user, force_alias=force_alias)
    except UsernameExistsException:
        # Another request made this user while the trigger ran: the pool knows the name now,
        # and its own password decides (the caller looks the user up again).
        return None
