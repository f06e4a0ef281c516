"""Challenge sessions, and the registry of the challenges a sign-in can answer.

A challenge session is the state between two steps of one sign-in (password done, MFA code
next). It is stored only as a digest of its opaque handle, bound to the pool, the user and the
client, and lives as long as the client's auth-session validity (3-15 minutes). Each answer
spends it (`consume`) or hands out a fresh one for the next step (`continue_session`); wrong
answers are counted and the MAX_WRONG_ANSWERS-th voids it.

Each challenge kind (NEW_PASSWORD_REQUIRED, SMS_MFA, ... and later SRP's PASSWORD_VERIFIER, a
custom-auth challenge, a passkey) joins by registering its handler here, from the module that
owns it:

    @challenges.handles("SMS_MFA", "EMAIL_OTP")
    def answer(*, session, responses, client, context) -> Authenticated | Challenge: ...

`authenticate.respond_to_challenge` dispatches through `handler_for`, so a new kind needs no
edit there. A kind whose answer does not carry the `Session` (SRP's PASSWORD_VERIFIER: Cognito
sends none, the state travels in PASSWORD_CLAIM_SECRET_BLOCK) also registers an opener
(`opens_session`) that finds the live session in the answer instead of `load_session`.

This module imports no handler: the dispatcher does (so registration always happens before the
first answer), which keeps the import graph one-way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from django.db import transaction
from django.db.models import F

from pool import clock, crypto
from pool.errors import NotAuthorizedException
from pool.models import AppClient, ChallengeSession, User, UserPool
from pool.services.results import Authenticated, Challenge, RequestContext

INVALID_SESSION = "Invalid session for the user."
EXPIRED_SESSION = "Invalid session for the user, session is expired."
# Wrong answers one challenge session tolerates; the last one voids it.
MAX_WRONG_ANSWERS = 3
SESSION_BOUNDS = (3 * 60, 15 * 60)
ANY_CLIENT = object()


class ChallengeHandler(Protocol):
    """Answers one kind of challenge. `session` is the live, loaded row (pool, client and the
    USERNAME response already checked); the handler spends or continues it itself."""

    def __call__(
        self,
        *,
        session: ChallengeSession,
        responses: dict[str, str],
        client: AppClient | None,
        context: RequestContext | None,
    ) -> Authenticated | Challenge: ...


class SessionOpener(Protocol):
    """Finds the live session an answer belongs to, for kinds whose state is not in `Session`:
    the same checks as `load_session` (pool, client, expiry, USERNAME), or raises as Cognito
    answers that kind."""

    def __call__(
        self,
        *,
        pool: UserPool,
        client: AppClient | None,
        session: str,
        responses: dict[str, str],
        context: RequestContext | None,
    ) -> ChallengeSession: ...


class Continuation(Protocol):
    """Takes a sign-in on after a built-in challenge was passed inside another flow (the
    password verified by SRP inside CUSTOM_AUTH goes back to the Define trigger). `session` is
    the spent row of the passed challenge; its data holds the flow's state."""

    def __call__(
        self,
        *,
        session: ChallengeSession,
        client: AppClient | None,
        context: RequestContext | None,
    ) -> Authenticated | Challenge: ...


_HANDLERS: dict[str, ChallengeHandler] = {}
_OPENERS: dict[str, SessionOpener] = {}
_CONTINUATIONS: dict[str, Continuation] = {}


# ----------------------------------------------------------------------------------- registry


def register(name: str, handler: ChallengeHandler) -> ChallengeHandler:
    """Make challenge `name` answerable by `handler`. Two different handlers for one name is a
    programming error (two modules claiming the same challenge), not a silent override."""
    if not name or not isinstance(name, str):
        raise ValueError("A challenge name is a non-empty string.")
    known = _HANDLERS.get(name)
    if known is not None and known is not handler:
        raise ValueError(f"Challenge {name} already has a handler: {known!r}.")
    _HANDLERS[name] = handler
    return handler


def handles(*names: str) -> Callable[[ChallengeHandler], ChallengeHandler]:
    """Decorator form of `register`, for one handler that answers several names."""

    def decorate(handler: ChallengeHandler) -> ChallengeHandler:
        for name in names:
            register(name, handler)
        return handler

    return decorate


def opens_session(*names: str) -> Callable[[SessionOpener], SessionOpener]:
    """Register the opener that finds the session of challenges `names` in their answers."""

    def decorate(opener: SessionOpener) -> SessionOpener:
        for name in names:
            known = _OPENERS.get(name)
            if known is not None and known is not opener:
                raise ValueError(f"Challenge {name} already has a session opener: {known!r}.")
            _OPENERS[name] = opener
        return opener

    return decorate


def continues(flow: str) -> Callable[[Continuation], Continuation]:
    """Register how `flow` goes on after a challenge it borrowed (without an import cycle:
    the challenge's module looks the continuation up here)."""

    def decorate(continuation: Continuation) -> Continuation:
        known = _CONTINUATIONS.get(flow)
        if known is not None and known is not continuation:
            raise ValueError(f"{flow} already has a continuation: {known!r}.")
        _CONTINUATIONS[flow] = continuation
        return continuation

    return decorate


def continuation_for(flow: str) -> Continuation | None:
    return _CONTINUATIONS.get(flow)


def opener_for(name: str) -> SessionOpener | None:
    return _OPENERS.get(name) if isinstance(name, str) else None


def unregister(name: str) -> None:
    """Forget a challenge kind (a plug-in switched off; tests)."""
    _HANDLERS.pop(name, None)
    _OPENERS.pop(name, None)


def handler_for(name: str) -> ChallengeHandler | None:
    return _HANDLERS.get(name) if isinstance(name, str) else None


def registered() -> frozenset[str]:
    return frozenset(_HANDLERS)


# ---------------------------------------------------------------------------------- sessions


def session_validity(pool: UserPool, client: AppClient | None) -> dt.timedelta:
    """Client's AuthSessionValidity, else the pool's; Cognito's 3-15 minute range."""
    seconds = client.auth_session_validity if client else pool.auth_session_validity_minutes * 60
    low, high = SESSION_BOUNDS
    return dt.timedelta(seconds=min(max(seconds or low, low), high))


def start_session(
    *,
    user: User | None,
    client: AppClient | None,
    challenge_name: str,
    data: dict,
    token: str | None = None,
    pool: UserPool | None = None,
) -> str:
    """Store a new challenge session (as a digest) and return its opaque handle (`token`, when
    the caller drew it itself: SRP derives its secret from it). `user` is None only for a
    custom-auth sign-in of an unknown user (then `pool` says whose session it is)."""
    token = token or crypto.token(48)
    pool = user.pool if user is not None else pool
    if pool is None:
        raise ValueError("A session without a user needs its pool.")
    ChallengeSession.objects.create(
        digest=crypto.digest(token),
        pool_id=pool.pk,
        user=user,
        client=client,
        challenge_name=challenge_name,
        data=data,
        expires_at=clock.now() + session_validity(pool, client),
    )
    return token


def issue(
    *, user: User, client: AppClient | None, name: str, parameters: dict, data: dict
) -> Challenge:
    """A new challenge `name` for the user, with its session; every challenge's parameters
    carry USER_ID_FOR_SRP (the internal username), as Cognito's do."""
    session = start_session(user=user, client=client, challenge_name=name, data=data)
    return Challenge(
        name=name,
        session=session,
        parameters={"USER_ID_FOR_SRP": user.username, **parameters},
    )


def load_session(
    *,
    token: str,
    challenge_name: str,
    pool: UserPool | None = None,
    client: AppClient | None | object = ANY_CLIENT,
    require_enabled: bool = True,
) -> ChallengeSession:
    """The live session behind `token` for this challenge (and pool and client, when given),
    or NotAuthorizedException "Invalid session for the user." (expired: ", session is
    expired"; a disabled user: "User is disabled.", unless the first factor is still to be
    checked: `require_enabled=False`, and the status rules come after it)."""
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
    if client is not ANY_CLIENT:
        expected = client.client_id if client is not None else None
        if row.client_id != expected:
            raise NotAuthorizedException(INVALID_SESSION)
    if row.expires_at <= clock.now():
        row.delete()
        raise NotAuthorizedException(EXPIRED_SESSION)
    if require_enabled and row.user is not None and not row.user.enabled:
        row.delete()
        raise NotAuthorizedException("User is disabled.")
    return row


def consume(row: ChallengeSession) -> None:
    """Spend a session: exactly one caller succeeds, the others get an invalid session."""
    deleted, _ = ChallengeSession.objects.filter(digest=row.digest).delete()
    if not deleted:
        raise NotAuthorizedException(INVALID_SESSION)


def expire(row: ChallengeSession) -> None:
    """End a session now, whoever holds it (its code expired or ran out of attempts)."""
    ChallengeSession.objects.filter(digest=row.digest).delete()


def continue_session(row: ChallengeSession, *, data: dict, challenge_name: str = "") -> str:
    """Spend `row` and hand out a fresh session for the next step of the same sign-in."""
    consume(row)
    return start_session(
        user=row.user,
        pool=row.pool,
        client=row.client,
        challenge_name=challenge_name or row.challenge_name,
        data=data,
    )


def wrong_answer(row: ChallengeSession) -> None:
    """Count a wrong answer; the MAX_WRONG_ANSWERS-th voids the session and raises
    NotAuthorizedException (a handler that sent a code discards it on that exception)."""
    with transaction.atomic():
        ChallengeSession.objects.filter(digest=row.digest).update(attempts=F("attempts") + 1)
        attempts = (
            ChallengeSession.objects.filter(digest=row.digest)
            .values_list("attempts", flat=True)
            .first()
        )
        void = attempts is None or attempts >= MAX_WRONG_ANSWERS
        if void:
            ChallengeSession.objects.filter(digest=row.digest).delete()
    if void:
        raise NotAuthorizedException(INVALID_SESSION)
