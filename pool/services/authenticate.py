"""Signing in with a password, and answering the challenges that may follow.

`password()` finds the user by username or sign-in alias, applies the lockout, checks the
password (a dummy hash for unknown users, so both cost the same), then the status rules, then
the MFA decision. What it returns is either `Authenticated` (the door issues tokens or starts a
session) or a `Challenge` whose opaque, single-use session `respond_to_challenge()` takes back.

Challenge sessions are stored only as digests, bound to the pool, the user and the client, and
expire after the client's auth-session validity. Three wrong codes void a session, and wrong
codes also feed the per-user OTP lockout, so starting new sessions does not buy more guesses.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from django.db import transaction
from django.db.models import F

from pool import clock, crypto, messaging
from pool.errors import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    LimitExceededException,
    MFAMethodNotFoundException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    SoftwareTokenMFANotFoundException,
    UserNotConfirmedException,
    UserNotFoundException,
)
from pool.models import (
    AppClient,
    AuthEvent,
    ChallengeSession,
    CodePurpose,
    User,
    UserPool,
    UserStatus,
)
from pool.selectors import users as user_selectors
from pool.selectors.clients import ensure_pool_client
from pool.services import codes, events, lockout, mfa, passwords, ratelimit
from pool.services.results import Authenticated, Challenge, RequestContext

INCORRECT = "Incorrect username or password."
INVALID_SESSION = "Invalid session for the user."
EXPIRED_SESSION = "Invalid session for the user, session is expired."
TEMPORARY_EXPIRED = "Temporary password has expired and must be reset by an administrator."
# Wrong answers one challenge session tolerates; the last one voids it.
MAX_WRONG_ANSWERS = 3
SESSION_BOUNDS = (3 * 60, 15 * 60)
# A code sent by SMS or email for sign-in lives as long as its session, but never more than
# 10 minutes (OTP by message: shared/reference/security.md), even when sessions last 15.
MAX_MESSAGE_CODE_LIFETIME = dt.timedelta(minutes=10)
MFA_CHALLENGES = ("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP")
# amr value for each second factor (results.Authenticated.methods).
_AMR = {"SOFTWARE_TOKEN_MFA": "otp", "SMS_MFA": "sms", "EMAIL_OTP": "email"}
_CODE_KEYS = {
    "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
    "SMS_MFA": "SMS_MFA_CODE",
    "EMAIL_OTP": "EMAIL_OTP_CODE",
}
_PURPOSES = {"SMS_MFA": CodePurpose.MFA_SMS, "EMAIL_OTP": CodePurpose.MFA_EMAIL}
_ANY_CLIENT = object()


# ------------------------------------------------------------------------- challenge sessions


def session_validity(pool: UserPool, client: AppClient | None) -> dt.timedelta:
    """Client's AuthSessionValidity, else the pool's; Cognito's 3-15 minute range."""
    seconds = client.auth_session_validity if client else pool.auth_session_validity_minutes * 60
    low, high = SESSION_BOUNDS
    return dt.timedelta(seconds=min(max(seconds or low, low), high))


def start_session(*, user: User, client: AppClient | None, challenge_name: str, data: dict) -> str:
    """Store a new challenge session (as a digest) and return its opaque handle."""
    token = crypto.token(48)
    ChallengeSession.objects.create(
        digest=crypto.digest(token),
        pool_id=user.pool_id,
        user=user,
        client=client,
        challenge_name=challenge_name,
        data=data,
        expires_at=clock.now() + session_validity(user.pool, client),
    )
    return token


def load_session(
    *,
    token: str,
    challenge_name: str,
    pool: UserPool | None = None,
    client: AppClient | None | object = _ANY_CLIENT,
) -> ChallengeSession:
    """The live session behind `token` for this challenge (and pool and client, when given),
    or NotAuthorizedException "Invalid session for the user." (expired: ", session is
    expired")."""
    if not token or not isinstance(token, str) or len(token) > 2048:
        raise NotAuthorizedException(INVALID_SESSION)
    row = (
        ChallengeSession.objects.select_related("user", "user__pool", "client")
        .filter(digest=crypto.digest(token))
        .first()
    )
    if row is None or row.challenge_name != challenge_name:
        raise NotAuthorizedException(INVALID_SESSION)
    if pool is not None and row.pool_id != pool.pk:
        raise NotAuthorizedException(INVALID_SESSION)
    if client is not _ANY_CLIENT:
        expected = client.client_id if client is not None else None
        if row.client_id != expected:
            raise NotAuthorizedException(INVALID_SESSION)
    if row.expires_at <= clock.now():
        row.delete()
        raise NotAuthorizedException(EXPIRED_SESSION)
    if not row.user.enabled:
        row.delete()
        raise NotAuthorizedException("User is disabled.")
    return row


def consume(row: ChallengeSession) -> None:
    """Spend a session: exactly one caller succeeds, the others get an invalid session."""
    deleted, _ = ChallengeSession.objects.filter(digest=row.digest).delete()
    if not deleted:
        raise NotAuthorizedException(INVALID_SESSION)


def continue_session(row: ChallengeSession, *, data: dict, challenge_name: str = "") -> str:
    """Spend `row` and hand out a fresh session for the next step of the same sign-in."""
    consume(row)
    return start_session(
        user=row.user,
        client=row.client,
        challenge_name=challenge_name or row.challenge_name,
        data=data,
    )


def wrong_answer(row: ChallengeSession) -> None:
    """Count a wrong answer; the MAX_WRONG_ANSWERS-th voids the session and raises."""
    with transaction.atomic():
        ChallengeSession.objects.filter(digest=row.digest).update(attempts=F("attempts") + 1)
        attempts = (
            ChallengeSession.objects.filter(digest=row.digest)
            .values_list("attempts", flat=True)
            .first()
        )
        if attempts is None or attempts >= MAX_WRONG_ANSWERS:
            ChallengeSession.objects.filter(digest=row.digest).delete()
            void = True
        else:
            void = False
    if void:
        for purpose in _PURPOSES.values():
            codes.discard(row.user, purpose)
        raise NotAuthorizedException(INVALID_SESSION)


# ----------------------------------------------------------------------------------- sign-in


def _fail(
    pool: UserPool,
    reason: str,
    *,
    user: User | None = None,
    username: str = "",
    client: AppClient | None,
    context: RequestContext | None,
    event_type: str = AuthEvent.Type.SIGN_IN,
) -> None:
    events.record(
        pool=pool,
        event_type=event_type,
        success=False,
        user=user,
        username=username,
        reason=reason,
        client=client,
        context=context,
    )


def password(
    *,
    pool: UserPool,
    username: str,
    password: str,
    client: AppClient | None = None,
    context: RequestContext | None = None,
) -> Authenticated | Challenge:
    """Check a username (or alias) and password, then the user's status and MFA."""
    ensure_pool_client(pool, client)
    ratelimit.check(ratelimit.SIGN_IN, context)
    username = username if isinstance(username, str) else ""
    password = password if isinstance(password, str) else ""
    user = user_selectors.find_for_sign_in(pool, username)
    who = lockout.subject(
        pool.pk,
        user_id=user.pk if user else None,
        identifier=pool.normalize(username),
    )
    try:
        lockout.check(lockout.PASSWORD, who)
    except NotAuthorizedException:
        _fail(pool, "locked out", user=user, username=username, client=client, context=context)
        raise
    if not passwords.verify(user, password):
        lockout.failure(lockout.PASSWORD, who)
        if user is None:
            _fail(pool, "unknown user", username=username, client=client, context=context)
            if not pool.prevent_user_existence_errors:
                raise UserNotFoundException("User does not exist.")
            raise NotAuthorizedException(INCORRECT)
        _fail(pool, "wrong password", user=user, client=client, context=context)
        if (
            user.status == UserStatus.RESET_REQUIRED
            and not user.password
            and not pool.prevent_user_existence_errors
        ):
            # Imported users have no password until they reset it.
            raise PasswordResetRequiredException("Password reset required for the user")
        raise NotAuthorizedException(INCORRECT)
    lockout.reset(lockout.PASSWORD, who)
    return _after_password(user, client, context)


def _after_password(
    user: User, client: AppClient | None, context: RequestContext | None
) -> Authenticated | Challenge:
    pool = user.pool
    if not user.enabled:
        _fail(pool, "disabled", user=user, client=client, context=context)
        raise NotAuthorizedException("User is disabled.")
    if user.status == UserStatus.UNCONFIRMED:
        _fail(pool, "not confirmed", user=user, client=client, context=context)
        raise UserNotConfirmedException("User is not confirmed.")
    if user.status == UserStatus.RESET_REQUIRED:
        _fail(pool, "password reset required", user=user, client=client, context=context)
        raise PasswordResetRequiredException("Password reset required for the user")
    if user.status == UserStatus.FORCE_CHANGE_PASSWORD:
        expires = user.temporary_password_expires_at
        if expires is not None and expires <= clock.now():
            _fail(pool, "temporary password expired", user=user, client=client, context=context)
            raise NotAuthorizedException(TEMPORARY_EXPIRED)
        return _new_password_challenge(user, client)
    return _mfa_or_done(user, client, context, methods=("pwd",))


def _new_password_challenge(user: User, client: AppClient | None) -> Challenge:
    attributes = user.attribute_map()
    attributes.pop("sub", None)
    missing = [
        f"userAttributes.{name}"
        for name in user.pool.required_attributes or []
        if not attributes.get(name)
    ]
    return _challenge(
        user,
        client,
        "NEW_PASSWORD_REQUIRED",
        parameters={
            "userAttributes": json.dumps(attributes),
            "requiredAttributes": json.dumps(missing),
        },
        data={"methods": ["pwd"]},
    )


def _challenge(
    user: User, client: AppClient | None, name: str, *, parameters: dict, data: dict
) -> Challenge:
    session = start_session(user=user, client=client, challenge_name=name, data=data)
    return Challenge(
        name=name,
        session=session,
        parameters={"USER_ID_FOR_SRP": user.username, **parameters},
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


def _mfa_or_done(
    user: User,
    client: AppClient | None,
    context: RequestContext | None,
    *,
    methods: tuple[str, ...],
) -> Authenticated | Challenge:
    """The MFA decision: pool configuration × the user's methods × their preference."""
    pool = user.pool
    if pool.mfa_configuration == UserPool.Mfa.OFF:
        return _done(user, client, context, methods)
    usable = usable_mfa_methods(user)
    if not usable:
        if pool.mfa_configuration == UserPool.Mfa.OPTIONAL:
            return _done(user, client, context, methods)
        # MFA is required and the user has none: set one up now, or fall back to a verified
        # contact the pool can send codes to.
        if "SOFTWARE_TOKEN_MFA" in pool.mfa_methods:
            return _challenge(
                user,
                client,
                "MFA_SETUP",
                parameters={"MFAS_CAN_SETUP": json.dumps(["SOFTWARE_TOKEN_MFA"])},
                data={"methods": list(methods), "stage": "setup"},
            )
        if "SMS_MFA" in pool.mfa_methods and user.phone_number and user.phone_number_verified:
            return _mfa_challenge(user, client, "SMS_MFA", methods)
        if "EMAIL_OTP" in pool.mfa_methods and user.email and user.email_verified:
            return _mfa_challenge(user, client, "EMAIL_OTP", methods)
        _fail(pool, "no MFA method", user=user, client=client, context=context)
        raise MFAMethodNotFoundException("No MFA method is available for the user.")
    if len(usable) == 1:
        return _mfa_challenge(user, client, usable[0], methods)
    if user.preferred_mfa in usable:
        return _mfa_challenge(user, client, user.preferred_mfa, methods)
    return _challenge(
        user,
        client,
        "SELECT_MFA_TYPE",
        parameters={"MFAS_CAN_CHOOSE": json.dumps(usable)},
        data={"methods": list(methods), "choices": usable},
    )


def _mfa_message(pool: UserPool, user: User, code: str) -> str:
    return pool.mfa_message.replace("{####}", code).replace("{username}", user.username)


def _mfa_challenge(
    user: User, client: AppClient | None, name: str, methods: tuple[str, ...]
) -> Challenge:
    """Issue a second-factor challenge; SMS and email ones send their code now."""
    pool = user.pool
    parameters: dict[str, str] = {}
    if name in _PURPOSES:
        medium, destination = (
            ("SMS", user.phone_number) if name == "SMS_MFA" else ("EMAIL", user.email)
        )
        code = codes.issue(
            user,
            _PURPOSES[name],
            destination=destination,
            lifetime=min(session_validity(pool, client), MAX_MESSAGE_CODE_LIFETIME),
        )
        body = _mfa_message(pool, user, code)
        if medium == "SMS":
            messaging.send_sms(destination, body)
        else:
            messaging.send_email(destination, "Your sign-in code", body, from_email=pool.email_from)
        parameters = {
            "CODE_DELIVERY_DELIVERY_MEDIUM": medium,
            "CODE_DELIVERY_DESTINATION": messaging.mask(destination),
        }
    return _challenge(user, client, name, parameters=parameters, data={"methods": list(methods)})


def _done(
    user: User,
    client: AppClient | None,
    context: RequestContext | None,
    methods: tuple[str, ...] | list[str],
) -> Authenticated:
    now = clock.now()
    User.objects.filter(pk=user.pk).update(last_sign_in_at=now)
    user.last_sign_in_at = now
    events.record(
        pool=user.pool,
        event_type=AuthEvent.Type.SIGN_IN,
        success=True,
        user=user,
        reason="+".join(methods),
        client=client,
        context=context,
    )
    return Authenticated(user=user, client=client, auth_time=now, methods=tuple(methods))


# ---------------------------------------------------------------------------------- challenges


def respond_to_challenge(
    *,
    pool: UserPool,
    challenge_name: str,
    session: str,
    responses: dict[str, str],
    client: AppClient | None = None,
    context: RequestContext | None = None,
) -> Authenticated | Challenge:
    """Answer a challenge from `password()` (or from an earlier answer) with its session."""
    ensure_pool_client(pool, client)
    ratelimit.check(ratelimit.VERIFY_CODE, context)
    handler = _HANDLERS.get(challenge_name)
    if handler is None:
        raise InvalidParameterException(
            f"Unsupported challenge name {challenge_name!r}.", field="ChallengeName"
        )
    if not isinstance(responses, dict):
        raise InvalidParameterException("ChallengeResponses must be name/value pairs.")
    row = load_session(token=session, challenge_name=challenge_name, pool=pool, client=client)
    named = responses.get("USERNAME")
    if named:
        found = user_selectors.find_for_sign_in(pool, str(named))
        if found is None or found.pk != row.user_id:
            raise NotAuthorizedException(INVALID_SESSION)
    return handler(row, responses, client, context)


def _answer_new_password(
    row: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated | Challenge:
    from pool import policy  # H1's module; imported late so the two can evolve apart

    user, pool = row.user, row.user.pool
    if user.status != UserStatus.FORCE_CHANGE_PASSWORD:
        consume(row)
        raise NotAuthorizedException(INVALID_SESSION)
    expires = user.temporary_password_expires_at
    if expires is not None and expires <= clock.now():
        consume(row)
        raise NotAuthorizedException(TEMPORARY_EXPIRED)
    new_password = responses.get("NEW_PASSWORD")
    if not isinstance(new_password, str) or not new_password:
        raise InvalidParameterException("NEW_PASSWORD is required.", field="password")
    policy.check_password(pool, new_password)
    given = {
        name.removeprefix("userAttributes."): value
        for name, value in responses.items()
        if name.startswith("userAttributes.")
    }
    clean = policy.validate_attributes(pool, given, creating=False, client=client) if given else {}
    for name in pool.required_attributes or []:
        if not clean.get(name) and not user.get_attribute(name):
            raise InvalidParameterException(
                f"Invalid attributes given, {name} is missing", field=name
            )
    consume(row)
    with transaction.atomic():
        policy.apply_attributes(user, clean)
        passwords.store(user, new_password, temporary=False, save=False)
        user.status = UserStatus.CONFIRMED
        policy.save_user(user)
    return _mfa_or_done(user, client, context, methods=tuple(row.data.get("methods", ["pwd"])))


def _check_code(row: ChallengeSession, code: str) -> bool:
    user = row.user
    if row.challenge_name == "SOFTWARE_TOKEN_MFA":
        return mfa.verify_sign_in_code(user, code)
    try:
        codes.verify(user, _PURPOSES[row.challenge_name], code)
    except CodeMismatchException:
        return False
    except (ExpiredCodeException, LimitExceededException):
        ChallengeSession.objects.filter(digest=row.digest).delete()
        raise
    return True


def _answer_mfa(
    row: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated:
    user, pool = row.user, row.user.pool
    code = responses.get(_CODE_KEYS[row.challenge_name])
    if not isinstance(code, str) or not code.strip():
        raise InvalidParameterException(
            f"{_CODE_KEYS[row.challenge_name]} is required.", field="code"
        )
    who = lockout.subject(pool.pk, user_id=user.pk)
    try:
        lockout.check(lockout.OTP, who)
    except NotAuthorizedException:
        _fail(pool, "MFA locked out", user=user, client=client, context=context)
        raise
    if not _check_code(row, code):
        lockout.failure(lockout.OTP, who)
        _fail(
            pool, f"{row.challenge_name} code mismatch", user=user, client=client, context=context
        )
        wrong_answer(row)
        raise CodeMismatchException("Invalid code or auth state for the user.")
    lockout.reset(lockout.OTP, who)
    consume(row)
    methods = [*row.data.get("methods", ["pwd"]), _AMR[row.challenge_name]]
    return _done(user, client, context, methods)


def _answer_select(
    row: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Challenge:
    answer = responses.get("ANSWER")
    if answer not in row.data.get("choices", []):
        raise InvalidParameterException("ANSWER must be one of MFAS_CAN_CHOOSE.", field="ANSWER")
    consume(row)
    return _mfa_challenge(row.user, client, answer, tuple(row.data.get("methods", ["pwd"])))


def _answer_mfa_setup(
    row: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated:
    if row.data.get("stage") != "verified":
        raise SoftwareTokenMFANotFoundException(
            "Verify the software token (VerifySoftwareToken) before answering MFA_SETUP."
        )
    consume(row)
    methods = [*row.data.get("methods", ["pwd"]), "otp"]
    return _done(row.user, client, context, methods)


_HANDLERS: dict[str, Callable] = {
    "NEW_PASSWORD_REQUIRED": _answer_new_password,
    "SOFTWARE_TOKEN_MFA": _answer_mfa,
    "SMS_MFA": _answer_mfa,
    "EMAIL_OTP": _answer_mfa,
    "SELECT_MFA_TYPE": _answer_select,
    "MFA_SETUP": _answer_mfa_setup,
}
