"""Second factors: authenticator-app (TOTP) enrolment, the user's MFA preferences, and the
answers to the MFA challenges a sign-in may meet (registered in `challenges`).

TOTP maths come from django_otp (RFC 6238: 6 digits, 30 s, ±1 step); this module only keeps the
seed (20 random bytes, base32 for apps, encrypted at rest) and remembers the last accepted
time step on the device, so a code is never accepted twice. Enrolment works for a signed-in user
(access token) or inside a sign-in that must set MFA up first (the MFA_SETUP challenge session).
"""

from __future__ import annotations

import base64
import string
from urllib.parse import quote, urlencode

from django.db import transaction
from django_otp.oath import TOTP

from pool import clock, crypto
from pool.errors import (
    CodeMismatchException,
    EnableSoftwareTokenMFAException,
    ExpiredCodeException,
    InvalidParameterException,
    LimitExceededException,
    NotAuthorizedException,
    SoftwareTokenMFANotFoundException,
)
from pool.models import AppClient, ChallengeSession, TotpDevice, User
from pool.services import challenges, codes, lockout, passwords, ratelimit, sign_in
from pool.services.results import Authenticated, Challenge, RequestContext

STEP = 30
DIGITS = 6
TOLERANCE = 1
# 32 base32 characters are exactly 20 bytes (160 bits), RFC 4226's recommended seed size.
_BASE32 = string.ascii_uppercase + "234567"
SECRET_LENGTH = 32
METHODS = ("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP")
# Cognito's ChallengeResponses key for each second factor's code, and its amr value.
CODE_RESPONSE_KEYS = {
    "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
    "SMS_MFA": "SMS_MFA_CODE",
    "EMAIL_OTP": "EMAIL_OTP_CODE",
}
AMR = {"SOFTWARE_TOKEN_MFA": "otp", "SMS_MFA": "sms", "EMAIL_OTP": "email"}


def new_secret() -> str:
    return crypto.random_string(SECRET_LENGTH, _BASE32)


def _totp(secret: str) -> TOTP:
    totp = TOTP(base64.b32decode(secret), step=STEP, digits=DIGITS)
    totp.time = clock.timestamp()
    return totp


def _well_formed(code: str) -> bool:
    return isinstance(code, str) and len(code.strip()) == DIGITS and code.strip().isdigit()


def check_device_code(device: TotpDevice, code: str) -> bool:
    """Whether `code` is valid for the device now (±1 step) and newer than the last accepted
    one; on success the step is remembered. Locks the device row so that two requests cannot
    both spend the same code."""
    if not _well_formed(code):
        return False
    with transaction.atomic():
        row = TotpDevice.objects.select_for_update().filter(pk=device.pk).first()
        if row is None:
            return False
        totp = _totp(crypto.decrypt(row.secret))
        if not totp.verify(int(code.strip()), tolerance=TOLERANCE, min_t=row.last_t + 1):
            row.failed_attempts += 1
            row.save(update_fields=["failed_attempts"])
            return False
        row.last_t = totp.t()
        row.failed_attempts = 0
        row.save(update_fields=["last_t", "failed_attempts"])
    device.last_t = row.last_t
    return True


def verify_sign_in_code(user: User, code: str) -> bool:
    """A SOFTWARE_TOKEN_MFA answer against the user's confirmed authenticator."""
    device = user.totp_devices.filter(confirmed=True).first()
    return device is not None and check_device_code(device, code)


def otpauth_uri(*, user: User, secret: str) -> str:
    """The `otpauth://` URI an authenticator app scans: issuer = pool name, label = username."""
    issuer = user.pool.name
    label = quote(f"{issuer}:{user.username}", safe=":@")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP}
    )
    return f"otpauth://totp/{label}?{query}"


def _new_device(user: User) -> tuple[TotpDevice, str]:
    secret = new_secret()
    with transaction.atomic():
        # One pending enrolment at a time; a confirmed device keeps working until replaced.
        TotpDevice.objects.filter(user=user, confirmed=False).delete()
        device = TotpDevice.objects.create(user=user, secret=crypto.encrypt(secret))
    return device, secret


def associate_software_token(
    *, user: User | None = None, session: str | None = None
) -> tuple[str, str | None]:
    """Start TOTP enrolment: a new base32 secret for the user's app. With a MFA_SETUP challenge
    session (a sign-in that must set MFA up), also returns the session to continue with."""
    if (user is None) == (session is None):
        raise InvalidParameterException("Give either an access token or a session.")
    if user is not None:
        _, secret = _new_device(user)
        return secret, None
    row = challenges.load_session(token=session, challenge_name="MFA_SETUP")
    if row.data.get("stage") == "verified":
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    device, secret = _new_device(row.user)
    continuation = challenges.continue_session(
        row, data={**row.data, "stage": "associated", "device": device.pk}
    )
    return secret, continuation


def verify_software_token(
    *,
    code: str,
    user: User | None = None,
    session: str | None = None,
    friendly_name: str = "",
    context: RequestContext | None = None,
) -> str | None:
    """Confirm the pending authenticator with a first code. For a signed-in user the device is
    then ready to be enabled (set_preference); inside a MFA_SETUP sign-in, TOTP MFA is enabled
    at once and the session to answer the MFA_SETUP challenge with is returned."""
    if (user is None) == (session is None):
        raise InvalidParameterException("Give either an access token or a session.")
    ratelimit.check(ratelimit.VERIFY_CODE, context)
    row = None
    if session is not None:
        row = challenges.load_session(token=session, challenge_name="MFA_SETUP")
        if row.data.get("stage") != "associated":
            raise NotAuthorizedException(challenges.INVALID_SESSION)
        user = row.user
        device = TotpDevice.objects.filter(pk=row.data.get("device"), user=user).first()
    else:
        device = user.totp_devices.filter(confirmed=False).first()
    if device is None:
        raise InvalidParameterException("Call AssociateSoftwareToken first.")
    who = lockout.subject(user.pool_id, user_id=user.pk)
    counted = lockout.attempt(lockout.OTP, who)
    if not check_device_code(device, code):
        if row is not None:
            _wrong_answer(row)
        raise EnableSoftwareTokenMFAException("Code mismatch and fail enable Software Token MFA.")
    lockout.reset(lockout.OTP, who, counted)
    with transaction.atomic():
        device.confirmed = True
        device.name = (friendly_name or device.name)[:64]
        device.save(update_fields=["confirmed", "name"])
        TotpDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        if row is not None:
            user.software_token_mfa_enabled = True
            if not user.preferred_mfa:
                user.preferred_mfa = "SOFTWARE_TOKEN_MFA"
            user.save(update_fields=["software_token_mfa_enabled", "preferred_mfa", "updated_at"])
    if row is None:
        return None
    return challenges.continue_session(row, data={**row.data, "stage": "verified"})


def set_preference(
    *,
    user: User,
    totp: bool | None = None,
    sms: bool | None = None,
    email: bool | None = None,
    preferred: str | None = None,
) -> None:
    """SetUserMFAPreference: enable or disable each method (None leaves it), and choose the
    preferred one ("" clears it). A method must be allowed by the pool; TOTP needs a confirmed
    authenticator, SMS a phone number, email OTP an email address."""
    pool = user.pool
    wanted = {"SOFTWARE_TOKEN_MFA": totp, "SMS_MFA": sms, "EMAIL_OTP": email}
    for method, enable in wanted.items():
        if not enable:
            continue
        if pool.mfa_configuration == pool.Mfa.OFF or method not in pool.mfa_methods:
            raise InvalidParameterException(f"{method} is not enabled for this user pool.")
    if totp and not user.totp_devices.filter(confirmed=True).exists():
        raise InvalidParameterException("User has not verified software token mfa")
    if sms and not user.phone_number:
        raise InvalidParameterException("User does not have a phone number.")
    if email and not user.email:
        raise InvalidParameterException("User does not have an email address.")
    if totp is not None:
        user.software_token_mfa_enabled = totp
    if sms is not None:
        user.sms_mfa_enabled = sms
    if email is not None:
        user.email_mfa_enabled = email
    if preferred is not None:
        if preferred and preferred not in METHODS:
            raise InvalidParameterException(f"Unknown MFA method {preferred}.")
        if preferred and preferred not in user.mfa_enabled_methods:
            raise InvalidParameterException(f"{preferred} is not enabled for the user.")
        user.preferred_mfa = preferred
    if user.preferred_mfa and user.preferred_mfa not in user.mfa_enabled_methods:
        user.preferred_mfa = ""
    user.save(
        update_fields=[
            "software_token_mfa_enabled",
            "sms_mfa_enabled",
            "email_mfa_enabled",
            "preferred_mfa",
            "updated_at",
        ]
    )


def self_service_totp(pool) -> bool:
    """Whether users manage their own authenticator app on the account page: in pools where MFA
    is OPTIONAL and TOTP one of its methods (where MFA is ON, taking the only factor away would
    only send the user to MFA_SETUP at the next sign-in)."""
    return pool.mfa_configuration == pool.Mfa.OPTIONAL and "SOFTWARE_TOKEN_MFA" in (
        pool.mfa_methods or []
    )


def _check_self_service(user: User) -> None:
    if not user.enabled:
        raise NotAuthorizedException("User is disabled.")
    if not self_service_totp(user.pool):
        raise InvalidParameterException(
            "This user pool does not let users manage their authenticator app."
        )


def start_own_software_token(*, user: User) -> str:
    """The account page's "add an authenticator app": a new pending authenticator; its secret
    (for the QR code) is returned, nothing is enabled until `enable_own_software_token`."""
    _check_self_service(user)
    secret, _ = associate_software_token(user=user)
    return secret


def enable_own_software_token(
    *, user: User, code: str, friendly_name: str = "", context: RequestContext | None
) -> None:
    """Confirm the pending authenticator with its first code and turn TOTP MFA on (preferred
    when the user had no preference): VerifySoftwareToken then SetUserMFAPreference, at once."""
    _check_self_service(user)
    verify_software_token(code=code, user=user, friendly_name=friendly_name, context=context)
    user.refresh_from_db()
    set_preference(
        user=user,
        totp=True,
        preferred=None if user.preferred_mfa else "SOFTWARE_TOKEN_MFA",
    )


def remove_own_software_token(
    *, user: User, code: str = "", password: str = "", context: RequestContext | None
) -> None:
    """The account page's "remove the authenticator app": the user proves it is them with a
    current code from the app or their password (a stolen, unattended session alone cannot take
    the second factor away). Wrong codes feed the per-user OTP lockout, wrong passwords the
    change-password cap."""
    _check_self_service(user)
    ratelimit.check(ratelimit.VERIFY_CODE, context)
    device = user.totp_devices.filter(confirmed=True).first()
    if device is None:
        raise SoftwareTokenMFANotFoundException("Software Token MFA is not set up for the user.")
    if code:
        who = lockout.subject(user.pool_id, user_id=user.pk)
        counted = lockout.attempt(lockout.OTP, who)
        if not check_device_code(device, code):
            raise CodeMismatchException("Invalid code received for user", field="code")
        lockout.reset(lockout.OTP, who, counted)
    elif password:
        passwords.confirm_own_password(user=user, password=password, context=context)
    else:
        raise InvalidParameterException(
            "Enter a code from your authenticator app or your password.", field="code"
        )
    remove_software_token(user=user)


def remove_software_token(*, user: User) -> None:
    """Forget the user's authenticators and disable TOTP MFA."""
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        user.software_token_mfa_enabled = False
        if user.preferred_mfa == "SOFTWARE_TOKEN_MFA":
            user.preferred_mfa = ""
        user.save(update_fields=["software_token_mfa_enabled", "preferred_mfa", "updated_at"])


# ------------------------------------------------------------------- answering MFA challenges


def _wrong_answer(row: ChallengeSession) -> None:
    """Count a wrong code; when that voids the session, the codes sent for it go too."""
    try:
        challenges.wrong_answer(row)
    except NotAuthorizedException:
        for purpose in sign_in.MESSAGE_CODE_PURPOSES.values():
            codes.discard(row.user, purpose)
        raise


def _code_matches(row: ChallengeSession, code: str) -> bool:
    user = row.user
    if row.challenge_name == "SOFTWARE_TOKEN_MFA":
        return verify_sign_in_code(user, code)
    try:
        codes.verify(user, sign_in.MESSAGE_CODE_PURPOSES[row.challenge_name], code)
    except CodeMismatchException:
        return False
    except (ExpiredCodeException, LimitExceededException):
        challenges.expire(row)
        raise
    return True


@challenges.handles("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP")
def answer_code(
    *,
    session: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated:
    """The code of the second factor. Wrong codes feed the per-user OTP lockout as well as the
    session's own count, so starting new sessions does not buy more guesses."""
    row = session
    user, pool = row.user, row.user.pool
    key = CODE_RESPONSE_KEYS[row.challenge_name]
    code = responses.get(key)
    if not isinstance(code, str) or not code.strip():
        raise InvalidParameterException(f"{key} is required.", field="code")
    who = lockout.subject(pool.pk, user_id=user.pk)
    try:
        counted = lockout.attempt(lockout.OTP, who)
    except NotAuthorizedException:
        sign_in.record_failure(pool, "MFA locked out", user=user, client=client, context=context)
        raise
    if not _code_matches(row, code):
        sign_in.record_failure(
            pool, f"{row.challenge_name} code mismatch", user=user, client=client, context=context
        )
        _wrong_answer(row)
        raise CodeMismatchException("Invalid code or auth state for the user.")
    lockout.reset(lockout.OTP, who, counted)
    challenges.consume(row)
    methods = [*row.data.get("methods", ["pwd"]), AMR[row.challenge_name]]
    return sign_in.finish(user=user, client=client, context=context, methods=methods)


@challenges.handles("SELECT_MFA_TYPE")
def answer_select(
    *,
    session: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Challenge:
    """The user chose one of MFAS_CAN_CHOOSE: that factor's challenge follows."""
    answer = responses.get("ANSWER")
    if answer not in session.data.get("choices", []):
        raise InvalidParameterException("ANSWER must be one of MFAS_CAN_CHOOSE.", field="ANSWER")
    challenges.consume(session)
    return sign_in.start_mfa_challenge(
        user=session.user,
        client=client,
        name=answer,
        methods=tuple(session.data.get("methods", ["pwd"])),
    )


@challenges.handles("MFA_SETUP")
def answer_setup(
    *,
    session: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated:
    """The end of a sign-in that had to set MFA up: allowed once the new authenticator's first
    code was verified (verify_software_token with the session)."""
    if session.data.get("stage") != "verified":
        raise SoftwareTokenMFANotFoundException(
            "Verify the software token (VerifySoftwareToken) before answering MFA_SETUP."
        )
    challenges.consume(session)
    methods = [*session.data.get("methods", ["pwd"]), "otp"]
    return sign_in.finish(user=session.user, client=client, context=context, methods=methods)
