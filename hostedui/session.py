"""The hosted-UI session: who signed in here, to which pool, and when.

Kept in Django's (server-side) session as (pool id, user sub, auth_time), under a key per pool.
The session key is rotated at every sign-in. A session is honoured only while the sign-in still
stands (pool.selectors.sign_in: the user exists, is enabled and confirmed (or federated), and
signed in after their tokens_valid_after, which global sign-out, password change and disable
move forward).
Challenge state (MFA, new password) is kept server-side too, so a challenge cannot be replayed
from another browser.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import HttpRequest

from config.security import client_ip
from pool import clock, crypto
from pool.models import User, UserPool
from pool.selectors.sign_in import sign_in_valid
from pool.services.results import Challenge, RequestContext

CHALLENGE_KEY = "hostedui:challenge"
# A sign-in that passed every factor but waits for the user's missing required attributes.
PENDING_KEY = "hostedui:pending"


def _key(pool: UserPool) -> str:
    return f"hostedui:{pool.id}"


@dataclass(frozen=True)
class SignedIn:
    user: User
    auth_time: dt.datetime
    # The app client the user signed in through (None if it has since been deleted): the
    # account page writes attributes within its write_attributes.
    client_id: str = ""


def start(
    request: HttpRequest,
    *,
    pool: UserPool,
    user: User,
    auth_time: dt.datetime,
    client_id: str = "",
) -> None:
    """Remember a completed sign-in (and the app client it went through); a new session id
    each time (no session fixation)."""
    request.session.pop(CHALLENGE_KEY, None)
    request.session.pop(PENDING_KEY, None)
    request.session.cycle_key()
    request.session[_key(pool)] = {
        "sub": str(user.sub),
        "auth_time": auth_time.timestamp(),
        "client_id": client_id,
    }


def current(request: HttpRequest, pool: UserPool) -> SignedIn | None:
    entry = request.session.get(_key(pool))
    if not entry:
        return None
    user = User.objects.select_related("pool").filter(pool=pool, sub=entry.get("sub")).first()
    auth_time = dt.datetime.fromtimestamp(entry.get("auth_time", 0), tz=dt.UTC)
    # The hosted session is the pool's, not one app client's: no client to check.
    if not sign_in_valid(user=user, client=None, signed_in_at=auth_time, require_confirmed=True):
        request.session.pop(_key(pool), None)
        return None
    return SignedIn(user=user, auth_time=auth_time, client_id=entry.get("client_id") or "")


def fresh_enough(signed_in: SignedIn, max_age: int | None) -> bool:
    """OIDC max_age: the sign-in happened at most `max_age` seconds ago."""
    if max_age is None:
        return True
    return (clock.now() - signed_in.auth_time).total_seconds() <= max_age


def end(request: HttpRequest) -> None:
    """Sign out of every pool in this browser: the whole session goes."""
    request.session.flush()


def keep_challenge(
    request: HttpRequest, *, pool: UserPool, challenge: Challenge, username: str
) -> None:
    request.session[CHALLENGE_KEY] = {
        "pool": pool.id,
        "name": challenge.name,
        # Encrypted: the session table is read by whoever reads the database or a backup, and a
        # challenge handle is half a sign-in (the ChallengeSession row keeps only its digest).
        "session": crypto.encrypt(challenge.session),
        "parameters": dict(challenge.parameters),
        "username": challenge.parameters.get("USERNAME") or username,
    }


def pending_challenge(request: HttpRequest, pool: UserPool, *names: str) -> dict | None:
    entry = request.session.get(CHALLENGE_KEY)
    if not entry or entry.get("pool") != pool.id or (names and entry.get("name") not in names):
        return None
    try:
        handle = crypto.decrypt(entry.get("session") or "")
    except ValueError:  # stored under a retired key, or not ours: start the sign-in again
        return None
    return {**entry, "session": handle}


def advance_challenge(request: HttpRequest, handle: str, **extra: str) -> dict:
    """The pending challenge moved on to a new session handle (and, for MFA setup, keeps
    `extra` such as the encrypted secret); returns it as `pending_challenge` does."""
    entry = request.session[CHALLENGE_KEY]
    entry.update(extra, session=crypto.encrypt(handle))
    request.session.modified = True
    return {**entry, "session": handle}


def drop_challenge(request: HttpRequest) -> None:
    request.session.pop(CHALLENGE_KEY, None)


def keep_pending(
    request: HttpRequest, *, pool: UserPool, user: User, auth_time: dt.datetime
) -> None:
    """Hold a completed sign-in that must first give the attributes the pool now requires
    (pool.services.pool_changes.missing_required); the session starts when they are given."""
    request.session.pop(CHALLENGE_KEY, None)
    request.session[PENDING_KEY] = {
        "pool": pool.id,
        "sub": str(user.sub),
        "auth_time": auth_time.timestamp(),
    }


def pending(request: HttpRequest, pool: UserPool) -> SignedIn | None:
    """The held sign-in, while it stands and within the pool's challenge lifetime."""
    entry = request.session.get(PENDING_KEY)
    if not entry or entry.get("pool") != pool.id:
        return None
    user = User.objects.select_related("pool").filter(pool=pool, sub=entry.get("sub")).first()
    auth_time = dt.datetime.fromtimestamp(entry.get("auth_time", 0), tz=dt.UTC)
    lifetime = dt.timedelta(minutes=pool.auth_session_validity_minutes)
    stands = sign_in_valid(user=user, client=None, signed_in_at=auth_time, require_confirmed=True)
    if not stands or clock.now() - auth_time > lifetime:
        request.session.pop(PENDING_KEY, None)
        return None
    return SignedIn(user=user, auth_time=auth_time)


def drop_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def context(request: HttpRequest) -> RequestContext:
    """Who is asking, for events and rate limits (the client address as every door sees it)."""
    return RequestContext(
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        source="hostedui",
    )
