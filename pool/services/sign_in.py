"""What happens once a first factor has passed, whatever it was.

Every way of proving who one is (password today; SRP, a federated assertion, a passwordless
code or a passkey next) ends in `complete_first_factor`, the one place for the status rules
(disabled, UNCONFIRMED, RESET_REQUIRED, FORCE_CHANGE_PASSWORD and its expiry), the MFA decision
(pool configuration x the user's methods x their preference) and the end of a sign-in
(last_sign_in_at, the success event, `Authenticated`). The challenges it starts are answered by
handlers registered in `challenges` (NEW_PASSWORD_REQUIRED in passwords.py, the MFA ones in
mfa.py), which end here too (`second_factor_or_done`, `finish`).
"""

from __future__ import annotations

import datetime as dt
import json

from pool import clock, metrics, triggers
from pool.errors import (
    CognitoError,
    MFAMethodNotFoundException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserNotConfirmedException,
)
from pool.models import (
    AppClient,
    AuthEvent,
    CodePurpose,
    Device,
    TriggerKind,
    User,
    UserPool,
    UserStatus,
)
from pool.selectors import compiled
from pool.services import challenges, codes, delivery, devices, events, pre_token
from pool.services.results import Authenticated, Challenge, RequestContext

INCORRECT = "Incorrect username or password."
TEMPORARY_EXPIRED = "Temporary password has expired and must be reset by an administrator."
# A code sent by SMS or email for sign-in lives as long as its session, but never more than
# 10 minutes (OTP by message: shared/reference/security.md), even when sessions last 15.
MAX_MESSAGE_CODE_LIFETIME = dt.timedelta(minutes=10)
# The second factors whose code is sent in a message, and the purpose it is stored under.
# The challenge a remembered device answers (pool.services.device_srp) before the MFA decision.
DEVICE_CHALLENGE = "DEVICE_SRP_AUTH"
MESSAGE_CODE_PURPOSES = {"SMS_MFA": CodePurpose.MFA_SMS, "EMAIL_OTP": CodePurpose.MFA_EMAIL}
PRE_AUTHENTICATION = "PreAuthentication_Authentication"
# The amr value of a federated first factor (pool.services.federation).
FEDERATED = "fed"
POST_AUTHENTICATION = "PostAuthentication_Authentication"


def record_failure(
    pool: UserPool,
    reason: str,
    *,
    user: User | None = None,
    username: str = "",
    client: AppClient | None,
    context: RequestContext | None,
) -> None:
    """A refused sign-in step, for the console's event list, audits and metrics."""
    metrics.sign_in_failed(reason)
    events.record(
        pool=pool,
        event_type=AuthEvent.Type.SIGN_IN,
        success=False,
        user=user,
        username=username,
        reason=reason,
        client=client,
        context=context,
    )


def complete_first_factor(
    *,
    user: User,
    client: AppClient | None,
    context: RequestContext | None,
    method: str,
) -> Authenticated | Challenge:
    """The user proved who they are with `method` (its amr value: "pwd", ...). Apply the status
    rules, then decide on a second factor; return `Authenticated` or the next `Challenge`.

    The pre-authentication trigger fires here, before the status rules (it may refuse), and
    the post-authentication trigger in `finish`, so that they fire the same way for every first
    factor and every door."""
    pool = user.pool
    try:
        triggers.fire(
            pool,
            TriggerKind.PRE_AUTHENTICATION,
            trigger_source=PRE_AUTHENTICATION,
            user_name=user.username,
            client=client,
            request=triggers.request_for(
                user,
                validationData=dict(context.validation_data)
                if context and context.validation_data
                else None,
            ),
        )
    except CognitoError as exc:
        record_failure(pool, exc.code, user=user, client=client, context=context)
        raise
    if not user.enabled:
        record_failure(pool, "disabled", user=user, client=client, context=context)
        raise NotAuthorizedException("User is disabled.")
    if method == FEDERATED:
        # The provider authenticated the user: no password state applies and, as in Cognito,
        # no MFA is asked of a federated sign-in.
        return finish(user=user, client=client, context=context, methods=(method,))
    if user.status == UserStatus.EXTERNAL_PROVIDER:
        # A federated user signs in only through its provider, which may have shut it out:
        # never by a password or challenge of ours, however one was set.
        record_failure(pool, "external provider user", user=user, client=client, context=context)
        raise NotAuthorizedException(INCORRECT)
    if user.status == UserStatus.UNCONFIRMED:
        record_failure(pool, "not confirmed", user=user, client=client, context=context)
        raise UserNotConfirmedException("User is not confirmed.")
    if user.status == UserStatus.RESET_REQUIRED:
        record_failure(pool, "password reset required", user=user, client=client, context=context)
        raise PasswordResetRequiredException("Password reset required for the user")
    if user.status == UserStatus.FORCE_CHANGE_PASSWORD:
        expires = user.temporary_password_expires_at
        if expires is not None and expires <= clock.now():
            record_failure(
                pool, "temporary password expired", user=user, client=client, context=context
            )
            raise NotAuthorizedException(TEMPORARY_EXPIRED)
        return _new_password_challenge(user, client, methods=(method,))
    return second_factor_or_done(user=user, client=client, context=context, methods=(method,))


def _new_password_challenge(
    user: User, client: AppClient | None, *, methods: tuple[str, ...]
) -> Challenge:
    """NEW_PASSWORD_REQUIRED with the user's attributes and the required ones still missing
    (answered by passwords.answer_new_password)."""
    attributes = user.attribute_map()
    attributes.pop("sub", None)
    missing = [
        f"userAttributes.{name}"
        for name in user.pool.required_attributes or []
        if not attributes.get(name)
    ]
    return challenges.issue(
        user=user,
        client=client,
        name="NEW_PASSWORD_REQUIRED",
        parameters={
            "userAttributes": json.dumps(attributes),
            "requiredAttributes": json.dumps(missing),
        },
        data={"methods": list(methods)},
    )


def usable_mfa_methods(user: User) -> list[str]:
    """The user's enabled second factors that the pool allows and that can be delivered."""
    pool = user.pool
    if pool.mfa_configuration == UserPool.Mfa.OFF:
        return []
    usable = []
    for method in user.mfa_enabled_methods:
        if method not in pool.mfa_methods:
            continue
        if method == "SOFTWARE_TOKEN_MFA" and not user.totp_devices.filter(confirmed=True):
            continue
        if method == "SMS_MFA" and not user.phone_number:
            continue
        if method == "EMAIL_OTP" and not user.email:
            continue
        usable.append(method)
    return usable


def second_factor_or_done(
    *,
    user: User,
    client: AppClient | None,
    context: RequestContext | None,
    methods: tuple[str, ...],
    device: Device | None = None,
    token_source: str = pre_token.AUTHENTICATION,
) -> Authenticated | Challenge:
    """The MFA decision: pool configuration x the user's methods x their preference.

    A sign-in that names a remembered device of the user (DEVICE_KEY) first proves it holds
    the device (DEVICE_SRP_AUTH, pool.services.device_srp), which comes back here with
    `device`: that device then stands in for MFA when the pool sets
    ChallengeRequiredOnNewDevice; otherwise MFA is asked as for any device."""
    pool = user.pool
    if device is None:
        remembered = devices.remembered_device(user, context.device_key if context else "")
        if remembered is not None:
            return challenges.issue(
                user=user,
                client=client,
                name=DEVICE_CHALLENGE,
                parameters={},
                data={"methods": list(methods), "device_key": remembered.key},
            )
    device_stands_in = device is not None and pool.device_challenge_required_on_new_device
    if device_stands_in or pool.mfa_configuration == UserPool.Mfa.OFF:
        return finish(
            user=user,
            client=client,
            context=context,
            methods=methods,
            device=device,
            token_source=token_source,
        )
    usable = usable_mfa_methods(user)
    if not usable:
        if pool.mfa_configuration == UserPool.Mfa.OPTIONAL:
            return finish(
                user=user,
                client=client,
                context=context,
                methods=methods,
                device=device,
                token_source=token_source,
            )
        # MFA is required and the user has none: set one up now, or fall back to a verified
        # contact the pool can send codes to.
        if "SOFTWARE_TOKEN_MFA" in pool.mfa_methods:
            return challenges.issue(
                user=user,
                client=client,
                name="MFA_SETUP",
                parameters={"MFAS_CAN_SETUP": json.dumps(["SOFTWARE_TOKEN_MFA"])},
                data={"methods": list(methods), "stage": "setup"},
            )
        if "SMS_MFA" in pool.mfa_methods and user.phone_number and user.phone_number_verified:
            return start_mfa_challenge(user=user, client=client, name="SMS_MFA", methods=methods)
        if "EMAIL_OTP" in pool.mfa_methods and user.email and user.email_verified:
            return start_mfa_challenge(user=user, client=client, name="EMAIL_OTP", methods=methods)
        record_failure(pool, "no MFA method", user=user, client=client, context=context)
        raise MFAMethodNotFoundException("No MFA method is available for the user.")
    if len(usable) == 1:
        return start_mfa_challenge(user=user, client=client, name=usable[0], methods=methods)
    if user.preferred_mfa in usable:
        return start_mfa_challenge(
            user=user, client=client, name=user.preferred_mfa, methods=methods
        )
    return challenges.issue(
        user=user,
        client=client,
        name="SELECT_MFA_TYPE",
        parameters={"MFAS_CAN_CHOOSE": json.dumps(usable)},
        data={"methods": list(methods), "choices": usable},
    )


def start_mfa_challenge(
    *, user: User, client: AppClient | None, name: str, methods: tuple[str, ...]
) -> Challenge:
    """Issue a second-factor challenge; SMS and email ones send their code now."""
    parameters: dict[str, str] = {}
    if name in MESSAGE_CODE_PURPOSES:
        parameters = send_mfa_code(user=user, client=client, name=name)
    return challenges.issue(
        user=user, client=client, name=name, parameters=parameters, data={"methods": list(methods)}
    )


def send_mfa_code(*, user: User, client: AppClient | None, name: str) -> dict[str, str]:
    """Issue the code of an SMS_MFA or EMAIL_OTP challenge and send it; return the challenge
    parameters that say where it went (the message itself leaves through delivery)."""
    destination = getattr(user, delivery.MFA_ATTRIBUTE[name])
    code = codes.issue(
        user,
        MESSAGE_CODE_PURPOSES[name],
        destination=destination,
        lifetime=min(challenges.session_validity(user.pool, client), MAX_MESSAGE_CODE_LIFETIME),
    )
    sent = delivery.send_mfa_code(user, name, code, client=client)
    return {
        "CODE_DELIVERY_DELIVERY_MEDIUM": sent.medium,
        "CODE_DELIVERY_DESTINATION": sent.destination,
    }


def finish(
    *,
    user: User,
    client: AppClient | None,
    context: RequestContext | None,
    methods: tuple[str, ...] | list[str],
    device: Device | None = None,
    token_source: str = pre_token.AUTHENTICATION,
) -> Authenticated:
    """Every check passed: stamp last_sign_in_at, record the success (its reason is the amr
    values joined, "pwd+otp") and say so. The door issues tokens or starts a session. The
    sign-in's device is the one that proved itself (`device`), else the user's own device the
    request named (DEVICE_KEY), whose last sign-in is stamped too.

    The post-authentication trigger fires first: its refusal fails the sign-in, before
    anything is stamped. The stamps and the event are stored together (one statement on
    PostgreSQL, one transaction elsewhere: compiled.write); when the door answers with tokens
    (`context.with_tokens`) they are left in `Authenticated.unrecorded`, which the tokens
    store with their refresh family (tokens.for_api_sign_in), so that a sign-in writes once."""
    proved_device = device is not None
    device = device or devices.own_device(user, context.device_key if context else "")
    client_metadata = context.client_metadata if context else None
    try:
        triggers.fire(
            user.pool,
            TriggerKind.POST_AUTHENTICATION,
            trigger_source=POST_AUTHENTICATION,
            user_name=user.username,
            client=client,
            request=triggers.request_for(
                user,
                client_metadata=client_metadata,
                newDeviceUsed=device is None and devices.tracks_devices(user.pool),
            ),
        )
    except CognitoError as exc:
        record_failure(user.pool, exc.code, user=user, client=client, context=context)
        raise
    now = clock.now()
    stamps: list[tuple[Device | User, tuple[str, ...]]] = []
    if device is not None:
        stamps.append((device, devices.stamp_sign_in(device, context, now)))
    user.last_sign_in_at = now
    stamps.append((user, ("last_sign_in_at",)))
    success = events.event(
        pool=user.pool,
        event_type=AuthEvent.Type.SIGN_IN,
        success=True,
        user=user,
        reason="+".join(methods),
        client=client,
        context=context,
    )
    writes = compiled.Writes(updates=tuple(stamps), inserts=(success,))
    with_tokens = context is not None and context.with_tokens
    if not with_tokens:
        compiled.write(writes)
    metrics.signed_in(methods)
    return Authenticated(
        user=user,
        client=client,
        auth_time=now,
        methods=tuple(methods),
        device_key=device.key if device is not None else "",
        token_source=pre_token.AUTHENTICATE_DEVICE if proved_device else token_source,
        client_metadata=client_metadata,
        unrecorded=writes if with_tokens else None,
    )
