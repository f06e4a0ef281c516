"""Self-service sign-up and its confirmation by a code sent to the user's email or phone.

Which errors reveal that an account exists follows Cognito with PreventUserExistenceErrors
ENABLED: sign-up itself answers "User already exists" for a taken username (or, in pools that
sign in by email/phone, for a taken email/phone), as Cognito does; an alias someone else holds is
accepted at sign-up and only refused at confirmation, by which time the caller has proved they
own the address. Confirming or re-sending for an unknown user looks like a wrong code / a code
sent, and so does every user these calls cannot serve (already confirmed, disabled, no address,
a code expired or voided): in such pools those two calls never reveal who exists, and their caps
count the name as typed. Pools that do not hide existence get Cognito's explicit errors.
"""

from __future__ import annotations

from django.db import transaction

from pool import policy, triggers
from pool.errors import (
    CodeMismatchException,
    CognitoError,
    InvalidParameterException,
    NotAuthorizedException,
    UserNotFoundException,
)
from pool.models import AuthEvent, CodePurpose, User, UserPool, UserStatus, VerificationCode
from pool.selectors.clients import ensure_pool_client
from pool.selectors.users import find_for_sign_in
from pool.services import codes, events, ratelimit, users
from pool.services.attributes import simulated_delivery
from pool.services.delivery import Source, send, send_code
from pool.services.results import CodeDelivery, RequestContext, SignUpResult

POST_CONFIRMATION_SIGN_UP = "PostConfirmation_ConfirmSignUp"


def verification_target(user: User) -> str | None:
    """The attribute a sign-up code goes to: the phone number when the pool auto-verifies it
    (as Cognito prefers SMS when both are auto-verified), else the email; None when neither
    applies and an administrator must confirm the user."""
    auto = user.pool.auto_verified_attributes or []
    for attribute in ("phone_number", "email"):
        if attribute in auto and getattr(user, attribute):
            return attribute
    return None


def _record_failure(pool: UserPool, username: str, exc: Exception, *, client, context) -> None:
    events.record(
        pool=pool,
        event_type=AuthEvent.Type.SIGN_UP,
        success=False,
        username=username,
        reason=type(exc).__name__,
        client=client,
        context=context,
    )


def sign_up(
    *,
    pool: UserPool,
    username: str,
    password: str,
    attributes: dict[str, str],
    client=None,
    context: RequestContext,
    client_metadata: dict[str, str] | None = None,
    validation_data: dict[str, str] | None = None,
) -> SignUpResult:
    """Register an UNCONFIRMED user and send a confirmation code where the pool auto-verifies
    an attribute the user gave. The pre-sign-up trigger (users.prepare) may refuse, or confirm
    the user at once: then no code is sent."""
    ensure_pool_client(pool, client)
    ratelimit.check(ratelimit.SIGN_UP, context)
    if not pool.allow_self_sign_up:
        raise NotAuthorizedException("SignUp is not permitted for this user pool.")
    user = users.prepare(
        pool=pool,
        username=username,
        attributes=attributes,
        status=UserStatus.UNCONFIRMED,
        password=password or "",  # never None: sign-up always sets one
        client=client,
        trigger_source=users.PRE_SIGN_UP_SIGN_UP,
        client_metadata=client_metadata,
        validation_data=validation_data,
    )
    delivery = None
    confirmed = user.status == UserStatus.CONFIRMED
    attribute = None if confirmed else verification_target(user)
    try:
        # The user and their sign-up code are written in one transaction: a crash between the
        # two must not leave an account that nobody can confirm. The message goes out after
        # the commit, so no write lock is held for an SMTP exchange; a failed delivery undoes
        # the sign-up, so the person can simply try again (a crash before it leaves a user who
        # can ask for the code again).
        with transaction.atomic():
            users.save(user)
            destination = getattr(user, attribute) if attribute else ""
            code = (
                codes.issue(user, CodePurpose.SIGN_UP, destination=destination) if attribute else ""
            )
        if attribute:
            try:
                delivery = send(
                    user,
                    source=Source.SIGN_UP,
                    attribute=attribute,
                    code=code,
                    destination=destination,
                    client=client,
                    client_metadata=client_metadata,
                )
            except Exception:
                user.delete()
                raise
    except Exception as exc:
        _record_failure(pool, username, exc, client=client, context=context)
        raise
    events.record(
        pool=pool,
        event_type=AuthEvent.Type.SIGN_UP,
        success=True,
        user=user,
        client=client,
        context=context,
    )
    return SignUpResult(user=user, confirmed=confirmed, delivery=delivery)


def _lookup(pool: UserPool, username: str) -> User | None:
    if not isinstance(username, str):
        return None
    return find_for_sign_in(pool, username)


def confirm_sign_up(
    *,
    pool: UserPool,
    username: str,
    code: str,
    context: RequestContext,
    force_alias_creation: bool = False,
    client=None,
    client_metadata: dict[str, str] | None = None,
) -> User:
    """Confirm an UNCONFIRMED user with the code sent at sign-up: the user becomes CONFIRMED,
    the address the code went to becomes verified and, where the pool allows, a sign-in name.
    An alias another user holds is refused (AliasExistsException) and the code stays usable,
    unless `force_alias_creation` moves the alias to this user. The post-confirmation
    trigger runs after the commit: its failure is the caller's error, the user stays
    confirmed (as in Cognito)."""
    ratelimit.check(ratelimit.VERIFY_CODE, context)
    policy.enforce_name_cap("confirm_sign_up", pool, username)
    hide = pool.prevent_user_existence_errors
    user = _lookup(pool, username)
    if user is None:
        raise CodeMismatchException() if hide else UserNotFoundException()
    if user.status != UserStatus.UNCONFIRMED:
        if hide:
            raise CodeMismatchException()
        raise NotAuthorizedException(f"User cannot be confirmed. Current status is {user.status}")
    row = VerificationCode.objects.filter(user=user, purpose=CodePurpose.SIGN_UP).first()
    try:
        codes.verify(user, CodePurpose.SIGN_UP, code)
    except CognitoError as exc:
        events.record(
            pool=pool,
            event_type=AuthEvent.Type.CONFIRM_SIGN_UP,
            success=False,
            user=user,
            reason=type(exc).__name__,
            context=context,
        )
        if hide:
            raise codes.as_wrong_code(exc) from None
        raise
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().select_related("pool").get(pk=user.pk)
            policy.set_status(user)
            destination = row.destination if row else ""
            for attribute in ("email", "phone_number"):
                if destination and getattr(user, attribute) == destination:
                    setattr(user, f"{attribute}_verified", True)
                    policy.refresh_sign_in_key(user, attribute)
            policy.save_user(user, force_alias=force_alias_creation)
    except Exception:
        if row is not None:
            # Give the (correct) code back, so the user can retry, e.g. with force_alias_creation.
            VerificationCode.objects.update_or_create(
                user_id=row.user_id,
                purpose=row.purpose,
                defaults={
                    "digest": row.digest,
                    "destination": row.destination,
                    "attempts": row.attempts,
                    "expires_at": row.expires_at,
                },
            )
        raise
    events.record(
        pool=pool,
        event_type=AuthEvent.Type.CONFIRM_SIGN_UP,
        success=True,
        user=user,
        context=context,
    )
    triggers.post_confirmation(
        user,
        trigger_source=POST_CONFIRMATION_SIGN_UP,
        client=client,
        client_metadata=client_metadata,
    )
    return user


def resend_confirmation_code(
    *,
    pool: UserPool,
    username: str,
    client=None,
    context: RequestContext,
    client_metadata: dict[str, str] | None = None,
) -> CodeDelivery:
    """Send a new sign-up code (the previous one stops working). At most 5 an hour per name.
    In pools that hide user existence, a name this cannot serve (unknown, disabled, already
    confirmed, no address to send to) gets a simulated CodeDelivery and nothing is sent."""
    ensure_pool_client(pool, client)
    ratelimit.check(ratelimit.FORGOT_PASSWORD, context)  # the per-IP limit on sending codes
    if not pool.auto_verified_attributes:
        raise InvalidParameterException("Cannot resend codes. Auto verification not turned on.")
    policy.enforce_name_cap("resend_confirmation_code", pool, username)
    user = _lookup(pool, username)
    attribute = verification_target(user) if user is not None else None
    if user is None:
        refusal: CognitoError = UserNotFoundException()
    elif not user.enabled:
        refusal = NotAuthorizedException("User is disabled.")
    elif user.status != UserStatus.UNCONFIRMED:
        refusal = InvalidParameterException("User is already confirmed.")
    elif attribute is None:
        refusal = InvalidParameterException("Cannot resend codes. Auto verification not turned on.")
    else:
        return send_code(
            user,
            source=Source.RESEND_CODE,
            attribute=attribute,
            client=client,
            client_metadata=client_metadata,
        )
    if pool.prevent_user_existence_errors:
        auto = pool.auto_verified_attributes or []
        preferred = ["phone_number"] if "phone_number" in auto else ["email"]
        return simulated_delivery(pool, username if isinstance(username, str) else "", preferred)
    raise refusal
