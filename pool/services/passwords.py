"""Setting and checking passwords. Every path that sets a password goes through `store`
(pool.services.credentials, imported here as `passwords.store`), which writes the argon2id hash
and the SRP verifier together; that includes the answer to the NEW_PASSWORD_REQUIRED challenge
(registered in `challenges`)."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.db import transaction

from pool import clock, policy, triggers
from pool.errors import (
    CodeMismatchException,
    CognitoError,
    InvalidParameterException,
    NotAuthorizedException,
    UserNotFoundException,
)
from pool.hashers import unmatchable_hash
from pool.models import (
    AppClient,
    AuthEvent,
    ChallengeSession,
    CodePurpose,
    User,
    UserPool,
    UserStatus,
)
from pool.selectors.clients import ensure_pool_client
from pool.selectors.users import find_for_sign_in
from pool.services import (
    challenges,
    codes,
    events,
    migration,
    pre_token,
    ratelimit,
    sign_in,
    tokens,
)
from pool.services.attributes import simulated_delivery
from pool.services.credentials import store
from pool.services.delivery import Source, send_code
from pool.services.results import Authenticated, Challenge, CodeDelivery, RequestContext


def verify(user: User | None, password: str) -> bool:
    """Check a password in constant cost; upgrades an imported or weaker hash on success, and
    stores the SRP verifier of a user who has none.
    With no user (or no password), a hash no password matches is checked, so that "no such
    user" costs what "wrong password" costs and timing does not reveal who exists."""
    if user is None or not user.password:
        check_password(password, unmatchable_hash())
        return False

    def upgrade(raw: str) -> None:
        # Rehash (and make the SRP verifier an imported user lacked); keep the expiry as it was.
        expires = user.temporary_password_expires_at
        store(user, raw, save=False)
        user.temporary_password_expires_at = expires
        user.save(update_fields=["password", "srp_salt", "srp_verifier", "updated_at"])

    correct = check_password(password, user.password, setter=upgrade)
    if correct and not (user.srp_verifier and user.srp_salt):
        # A hash imported without its verifier (the verifier needs the plaintext): make it now,
        # so USER_SRP_AUTH can serve the user from this sign-in on.
        upgrade(password)
    return correct


# ---------------------------------------------------------------------------------------------
# Changing, recovering and administering passwords. Each path validates the pool's policy,
# stores through `store`, and ends the user's other sessions.


def _revoke_sessions(user: User, reason: str) -> None:
    """End every session and refresh-token family of the user."""
    tokens.revoke_user_sessions(user=user, reason=reason)


def _recovery_destination(user: User) -> str | None:
    """The attribute a reset code goes to, in the pool's account_recovery order (Cognito's
    AccountRecoverySetting): a verified email or a verified phone number. None if the user has
    neither verified."""
    order = [m for m in (user.pool.account_recovery or []) if m != "admin_only"] or [
        "verified_email",
        "verified_phone_number",
    ]
    for mechanism in order:
        attribute = mechanism.removeprefix("verified_")
        if getattr(user, attribute, "") and getattr(user, f"{attribute}_verified", False):
            return attribute
    return None


def _record(
    user: User,
    event_type: str,
    *,
    success: bool,
    reason: str = "",
    context: RequestContext | None = None,
) -> None:
    events.record(
        pool=user.pool,
        event_type=event_type,
        success=success,
        user=user,
        reason=reason,
        context=context,
    )


def change_password(*, user: User, previous: str, proposed: str, context: RequestContext) -> None:
    """A signed-in user replaces their password: the previous one must match (5 tries an
    hour), the new one must meet the policy; every session is ended."""
    _check_own_password(user, previous, reason="wrong_previous", field="previous", context=context)
    policy.check_password(user.pool, proposed)
    with transaction.atomic():
        store(user, proposed)
        _revoke_sessions(user, "password_change")
    _record(user, AuthEvent.Type.PASSWORD_CHANGE, success=True, context=context)


def confirm_own_password(*, user: User, password: str, context: RequestContext | None) -> None:
    """A signed-in user confirms a sensitive step (removing a second factor, deleting the
    account) with their password; tries share change_password's cap (5 an hour)."""
    _check_own_password(
        user, password, reason="wrong_password_confirmation", field="password", context=context
    )


def _check_own_password(
    user: User, password: str, *, reason: str, field: str, context: RequestContext | None
) -> None:
    """The signed-in user's own password, for a change or a confirmation: an enabled user,
    5 tries an hour (one cap for both), a wrong one recorded as a failed password change."""
    if not user.enabled:
        raise NotAuthorizedException("User is disabled.")
    policy.enforce_cap("change_password", user.pk)
    if not verify(user, password or ""):
        _record(user, AuthEvent.Type.PASSWORD_CHANGE, success=False, reason=reason, context=context)
        raise NotAuthorizedException("Incorrect username or password.", field=field)


def forgot_password(
    *,
    pool: UserPool,
    username: str,
    client=None,
    context: RequestContext,
    client_metadata: dict[str, str] | None = None,
) -> CodeDelivery:
    """Send a FORGOT_PASSWORD code to the user's verified email or phone (pool's recovery
    order). In pools that hide user existence, a name this cannot serve (unknown, disabled, no
    verified email or phone) gets a plausible simulated CodeDelivery and nothing is sent."""
    ensure_pool_client(pool, client)
    ratelimit.check(ratelimit.FORGOT_PASSWORD, context)
    if "admin_only" in (pool.account_recovery or []):
        # The pool's rule, the same for every name.
        raise NotAuthorizedException(
            "User password cannot be reset in the current state: an administrator must reset it."
        )
    typed = username if isinstance(username, str) else ""
    policy.enforce_name_cap("forgot_password", pool, typed)
    user = find_for_sign_in(pool, typed)
    if user is None and migration.is_configured(pool):
        # A name only the legacy store knows becomes a RESET_REQUIRED user here, and the code
        # goes out below as for any user (or the user someone else made meanwhile).
        user = migration.migrate(
            pool=pool,
            username=typed,
            password=None,
            client=client,
            context=context,
            client_metadata=client_metadata,
        ) or find_for_sign_in(pool, typed)
    attribute = _recovery_destination(user) if user is not None else None
    if user is None:
        refusal: CognitoError = UserNotFoundException()
    elif not user.enabled:
        refusal = NotAuthorizedException("User is disabled.")
    elif user.status == UserStatus.EXTERNAL_PROVIDER:
        # A federated user has no password of ours to reset: its provider signs it in.
        refusal = NotAuthorizedException("User password cannot be reset in the current state.")
    elif attribute is None:
        refusal = InvalidParameterException(
            "Cannot reset password for the user as there is no registered/verified email or "
            "phone_number"
        )
    else:
        delivery = send_code(
            user,
            source=Source.FORGOT_PASSWORD,
            attribute=attribute,
            client=client,
            client_metadata=client_metadata,
        )
        _record(user, AuthEvent.Type.FORGOT_PASSWORD, success=True, context=context)
        return delivery
    if user is not None:
        _record(
            user,
            AuthEvent.Type.FORGOT_PASSWORD,
            success=False,
            reason=type(refusal).__name__,
            context=context,
        )
    if pool.prevent_user_existence_errors:
        order = [m.removeprefix("verified_") for m in pool.account_recovery or []]
        return simulated_delivery(pool, typed, order)
    raise refusal


def confirm_forgot_password(
    *,
    pool: UserPool,
    username: str,
    code: str,
    password: str,
    context: RequestContext,
    client=None,
    client_metadata: dict[str, str] | None = None,
) -> None:
    """Set a new password with the FORGOT_PASSWORD code. RESET_REQUIRED and
    FORCE_CHANGE_PASSWORD users become CONFIRMED; every session is ended. In pools that hide
    user existence, every name whose code cannot be checked (unknown, disabled, no reset
    pending, code expired or voided) answers as a wrong code. The post-confirmation trigger
    (PostConfirmation_ConfirmForgotPassword) runs after the commit; the new password stands
    if it fails."""
    ratelimit.check(ratelimit.VERIFY_CODE, context)
    policy.enforce_name_cap("confirm_forgot_password", pool, username)
    # The policy is the pool's, checked before the lookup so that it answers alike for every
    # name, and before the code so that a refused password does not use the code up.
    policy.check_password(pool, password)
    hide = pool.prevent_user_existence_errors
    user = find_for_sign_in(pool, username) if isinstance(username, str) else None
    if user is None:
        raise CodeMismatchException() if hide else UserNotFoundException()
    if not user.enabled:
        raise CodeMismatchException() if hide else NotAuthorizedException("User is disabled.")
    try:
        codes.verify(user, CodePurpose.FORGOT_PASSWORD, code)
    except CognitoError as exc:
        _record(
            user,
            AuthEvent.Type.FORGOT_PASSWORD,
            success=False,
            reason=type(exc).__name__,
            context=context,
        )
        if hide:
            raise codes.as_wrong_code(exc) from None
        raise
    with transaction.atomic():
        user = User.objects.select_for_update().select_related("pool").get(pk=user.pk)
        store(user, password)
        if user.status in (UserStatus.RESET_REQUIRED, UserStatus.FORCE_CHANGE_PASSWORD):
            user.status = UserStatus.CONFIRMED
            user.save(update_fields=["status", "updated_at"])
        _revoke_sessions(user, "password_reset")
    _record(
        user, AuthEvent.Type.PASSWORD_CHANGE, success=True, reason="password_reset", context=context
    )
    triggers.post_confirmation(
        user,
        trigger_source="PostConfirmation_ConfirmForgotPassword",
        client=client,
        client_metadata=client_metadata,
    )


def admin_set_password(*, user: User, password: str, permanent: bool) -> None:
    """An administrator sets the password. Permanent: the user is CONFIRMED. Temporary: the
    user is FORCE_CHANGE_PASSWORD and must choose a new one at the next sign-in, before the
    pool's temporary_password_validity_days run out. Every session is ended."""
    policy.check_password(user.pool, password)
    with transaction.atomic():
        store(user, password, temporary=not permanent)
        policy.set_status(
            user, status=UserStatus.CONFIRMED if permanent else UserStatus.FORCE_CHANGE_PASSWORD
        )
        policy.save_user(user)
        _revoke_sessions(user, "admin_set_password")
    _record(user, AuthEvent.Type.PASSWORD_CHANGE, success=True, reason="admin_set_password")


def admin_reset_password(*, user: User, context: RequestContext) -> CodeDelivery | None:
    """An administrator voids the password: the user is RESET_REQUIRED (sign-in answers
    PasswordResetRequiredException) and gets a FORGOT_PASSWORD code at their verified email or
    phone, if they have one; otherwise None is returned and the administrator must set a
    password. Every session is ended."""
    with transaction.atomic():
        user.status = UserStatus.RESET_REQUIRED
        user.save(update_fields=["status", "updated_at"])
        _revoke_sessions(user, "admin_reset_password")
    attribute = _recovery_destination(user)
    delivery = (
        send_code(user, source=Source.FORGOT_PASSWORD, attribute=attribute) if attribute else None
    )
    _record(
        user,
        AuthEvent.Type.FORGOT_PASSWORD,
        success=True,
        reason="admin_reset_password",
        context=context,
    )
    return delivery


@challenges.handles("NEW_PASSWORD_REQUIRED")
def answer_new_password(
    *,
    session: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated | Challenge:
    """A user with a temporary password (FORCE_CHANGE_PASSWORD) chooses their own, and fills
    the required attributes still missing; the sign-in then goes on to its MFA decision."""
    row = session
    user, pool = row.user, row.user.pool
    if user.status != UserStatus.FORCE_CHANGE_PASSWORD:
        challenges.consume(row)
        raise NotAuthorizedException(challenges.INVALID_SESSION)
    expires = user.temporary_password_expires_at
    if expires is not None and expires <= clock.now():
        challenges.consume(row)
        raise NotAuthorizedException(sign_in.TEMPORARY_EXPIRED)
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
    challenges.consume(row)
    with transaction.atomic():
        policy.apply_attributes(user, clean)
        store(user, new_password, temporary=False, save=False)
        user.status = UserStatus.CONFIRMED
        policy.save_user(user)
    return sign_in.second_factor_or_done(
        user=user,
        client=client,
        context=context,
        methods=tuple(row.data.get("methods", ["pwd"])),
        token_source=pre_token.NEW_PASSWORD_CHALLENGE,
    )
