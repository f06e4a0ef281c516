"""Signing in: the entry points a door calls.

`password()` is the password first factor: it finds the user by username or sign-in alias,
applies the lockout and checks the password (a dummy hash for unknown users, so both cost the
same), then hands over to `sign_in.complete_first_factor`, where every first factor ends (status
rules, MFA decision). `respond_to_challenge()` answers the `Challenge` a step returned, through
the handler its kind registered in `challenges` (the session store and registry).

Which AuthFlow a request uses (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, ...) is the door's
to say: the JSON API passes it and the client's explicit_auth_flows must allow it. The hosted
UI's own sign-in page passes none: Cognito's managed login works whatever explicit_auth_flows
say (they govern the API, not the hosted pages).
"""

from __future__ import annotations

from pool.errors import (
    CognitoError,
    InvalidParameterException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserLambdaValidationException,
    UserNotFoundException,
)
from pool.models import AppClient, User, UserPool, UserStatus
from pool.selectors import sign_in as sign_in_checks
from pool.selectors import users as user_selectors
from pool.selectors.clients import ensure_pool_client
from pool.services import (
    challenges,
    device_srp,
    lockout,
    mfa,
    migration,
    passwords,
    ratelimit,
    sign_in,
    srp_auth,
)
from pool.services import custom_auth as custom_auth_flow
from pool.services.results import Authenticated, Challenge, RequestContext

# The modules whose challenge handlers this dispatcher answers with. Importing them here
# registers every built-in kind before the first answer: mfa (SOFTWARE_TOKEN_MFA, SMS_MFA,
# EMAIL_OTP, SELECT_MFA_TYPE, MFA_SETUP), passwords (NEW_PASSWORD_REQUIRED), srp_auth
# (PASSWORD_VERIFIER, with its session opener), device_srp (DEVICE_SRP_AUTH and
# DEVICE_PASSWORD_VERIFIER, with their openers), custom_auth (CUSTOM_CHALLENGE, with its opener).
CHALLENGE_MODULES = (mfa, passwords, srp_auth, device_srp, custom_auth_flow)
INCORRECT = "Incorrect username or password."
# The AuthFlow values that end in a password check here (USER_AUTH: when the user chose the
# PASSWORD factor and sent it, see `choice_based`).
PASSWORD_FLOWS = (
    "USER_PASSWORD_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_AUTH",
)
NO_CUSTOM_AUTH = custom_auth_flow.NO_CUSTOM_AUTH
USER_AUTH_NEEDS_PASSWORD = (
    "USER_AUTH is answered only with PREFERRED_CHALLENGE PASSWORD and the PASSWORD: Cognate "
    "signs in with a password alone (use USER_SRP_AUTH or USER_PASSWORD_AUTH otherwise)."
)


def password(
    *,
    pool: UserPool,
    username: str,
    password: str,
    client: AppClient | None = None,
    context: RequestContext | None = None,
    flow: str | None = None,
) -> Authenticated | Challenge:
    """Check a username (or alias) and password, then the user's status and MFA. `flow` is the
    AuthFlow of an API request (one of PASSWORD_FLOWS), checked against the client's
    explicit_auth_flows; None for the hosted UI's sign-in page."""
    ensure_pool_client(pool, client)
    if flow is not None:
        if flow not in PASSWORD_FLOWS:
            raise InvalidParameterException(
                f"{flow} is not a password sign-in flow.", field="AuthFlow"
            )
        sign_in_checks.check_flow(client, flow)
    ratelimit.check(ratelimit.SIGN_IN, context)
    username = username if isinstance(username, str) else ""
    password = password if isinstance(password, str) else ""
    user = user_selectors.find_for_sign_in(pool, username)
    who = lockout.subject(
        pool.pk,
        user_id=user.pk if user else None,
        identifier=pool.normalize(username),
    )
    fail = sign_in.record_failure
    try:
        # The time of a first attempt is written only if it fails (lockout: a success makes
        # it moot), by `_verified`'s every way out but the right password.
        counted = lockout.attempt(lockout.PASSWORD, who, note_failure=False)
    except NotAuthorizedException:
        fail(pool, "locked out", user=user, username=username, client=client, context=context)
        raise
    try:
        signed_in = _verified(pool, user, username, password, client=client, context=context)
    except BaseException:
        lockout.failed(counted)
        raise
    lockout.reset(lockout.PASSWORD, who, counted)
    return sign_in.complete_first_factor(
        user=signed_in, client=client, context=context, method="pwd"
    )


def _verified(
    pool: UserPool,
    user: User | None,
    username: str,
    password: str,
    *,
    client: AppClient | None,
    context: RequestContext | None,
) -> User:
    """The user whose password this is (migrated into the pool by its trigger if need be), or
    the sign-in's refusal, recorded. Exactly one argon2 verification: a dummy hash for unknown
    users, so that both cost the same."""
    fail = sign_in.record_failure
    if user is None and password:
        migrated = _migrate(pool, username, password, client=client, context=context)
        if migrated is not None:
            return migrated
        if migration.is_configured(pool):
            # The user may have been created meanwhile (a concurrent sign-in or sign-up): then
            # the pool's own password decides, as for any user.
            user = user_selectors.find_for_sign_in(pool, username)
    if not passwords.verify(user, password):
        if user is None:
            fail(pool, "unknown user", username=username, client=client, context=context)
            if not pool.prevent_user_existence_errors:
                raise UserNotFoundException("User does not exist.")
            raise NotAuthorizedException(INCORRECT)
        fail(pool, "wrong password", user=user, client=client, context=context)
        if (
            user.status == UserStatus.RESET_REQUIRED
            and not user.password
            and not pool.prevent_user_existence_errors
        ):
            # Imported users have no password until they reset it.
            raise PasswordResetRequiredException("Password reset required for the user")
        raise NotAuthorizedException(INCORRECT)
    return user


def _migrate(
    pool: UserPool,
    username: str,
    password: str,
    *,
    client: AppClient | None,
    context: RequestContext | None,
) -> User | None:
    """A name the pool does not know, given to its user migration trigger
    (pool.services.migration): the created user, or None (no trigger, or the legacy store does
    not know the name). A refusal, which is how a legacy store says the password is wrong, is
    "Incorrect username or password.", counted as any wrong password; a trigger that fails
    raises Cognito's error. Nothing is created on any failure."""
    try:
        return migration.migrate(
            pool=pool, username=username, password=password, client=client, context=context
        )
    except UserLambdaValidationException:
        sign_in.record_failure(
            pool, "migration refused", username=username, client=client, context=context
        )
        raise NotAuthorizedException(INCORRECT) from None
    except CognitoError as exc:
        sign_in.record_failure(pool, exc.code, username=username, client=client, context=context)
        raise


def respond_to_challenge(
    *,
    pool: UserPool,
    challenge_name: str,
    session: str,
    responses: dict[str, str],
    client: AppClient | None = None,
    context: RequestContext | None = None,
) -> Authenticated | Challenge:
    """Answer a challenge from `password()` (or from an earlier answer) with its session: the
    session must be live and bound to this pool and client (and to the user named by USERNAME,
    when given); the handler registered for `challenge_name` does the rest."""
    ensure_pool_client(pool, client)
    ratelimit.check(ratelimit.VERIFY_CODE, context)
    handler = challenges.handler_for(challenge_name)
    if handler is None:
        raise InvalidParameterException(
            f"Unsupported challenge name {challenge_name!r}.", field="ChallengeName"
        )
    if not isinstance(responses, dict):
        raise InvalidParameterException("ChallengeResponses must be name/value pairs.")
    opener = challenges.opener_for(challenge_name)
    if opener is not None:
        row = opener(
            pool=pool, client=client, session=session, responses=responses, context=context
        )
    else:
        row = challenges.load_session(
            token=session, challenge_name=challenge_name, pool=pool, client=client
        )
        named = responses.get("USERNAME")
        if named:
            found = user_selectors.find_for_sign_in(pool, str(named))
            if found is None or found.pk != row.user_id:
                raise NotAuthorizedException(challenges.INVALID_SESSION)
    return handler(session=row, responses=responses, client=client, context=context)


def custom_auth(
    *,
    pool: UserPool,
    client: AppClient,
    username: str,
    context: RequestContext | None = None,
    flow: str | None = "CUSTOM_AUTH",
    challenge_name: str | None = None,
    srp_a: str | None = None,
) -> Authenticated | Challenge:
    """CUSTOM_AUTH: the sign-in the pool's define/create/verify-auth-challenge triggers run
    (pool.services.custom_auth). A pool without them gets Cognito's InvalidParameterException
    (after the client's explicit_auth_flows, which come first; `flow=None`: the hosted UI)."""
    return custom_auth_flow.start(
        pool=pool,
        client=client,
        username=username,
        context=context,
        flow=flow,
        challenge_name=challenge_name,
        srp_a=srp_a,
    )


def choice_based(
    *,
    pool: UserPool,
    client: AppClient,
    username: str,
    preferred_challenge: str | None,
    given_password: str | None,
    context: RequestContext | None = None,
) -> Authenticated | Challenge:
    """USER_AUTH (choice-based sign-in). Cognate's pools allow the PASSWORD first factor only,
    so the one form answered is the user choosing PASSWORD and sending it, which is a password
    sign-in under the client's ALLOW_USER_AUTH; any other form is refused, never guessed."""
    ensure_pool_client(pool, client)
    sign_in_checks.check_flow(client, "USER_AUTH")
    if preferred_challenge != "PASSWORD" or not given_password:
        raise InvalidParameterException(USER_AUTH_NEEDS_PASSWORD, field="PREFERRED_CHALLENGE")
    return password(
        pool=pool,
        client=client,
        username=username,
        password=given_password,
        context=context,
        flow="USER_AUTH",
    )
