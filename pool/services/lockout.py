"""Growing per-user lockouts against password (and one-time code) guessing, as Cognito does.

After 5 failures each further failure locks the subject for 2^(n-5) seconds (1 s, 2 s, 4 s, ...)
up to 15 minutes. Attempts while locked are refused without being counted and without
extending the lock; 15 minutes without a failure, or a success, forget everything. Counters live
in Django's cache, so they are shared between processes when REDIS_URL is set; timestamps come
from the domain clock so tests can advance time instead of sleeping.

A lock only ever lasts 15 minutes, so an attacker cannot lock a user out for good.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from pool import clock, crypto
from pool.errors import NotAuthorizedException

FREE_FAILURES = 5
MAX_LOCK_SECONDS = 15 * 60
RESET_AFTER_SECONDS = 15 * 60
# Cache entries outlive every rule above; the rules themselves read the stored timestamps.
_TTL = RESET_AFTER_SECONDS + MAX_LOCK_SECONDS + 60


@dataclass(frozen=True)
class Counter:
    """A kind of guess being counted, and what a locked-out guesser is told."""

    kind: str
    message: str


PASSWORD = Counter("password", "Password attempts exceeded")
OTP = Counter("otp", "Too many invalid codes. Try again later.")


def subject(pool_id: str, *, user_id: int | None = None, identifier: str = "") -> str:
    """Who is being guessed at: a user, or (for names that match no user) the typed name, so
    that unknown and known users behave the same."""
    if user_id is not None:
        return f"{pool_id}:u{user_id}"
    # Typed names can be long or hold spaces: keep cache keys short and portable.
    return f"{pool_id}:n{crypto.digest(identifier)[:32]}"


def _keys(counter: Counter, who: str) -> tuple[str, str]:
    base = f"lockout:{counter.kind}:{who}"
    return f"{base}:n", f"{base}:t"


def lock_seconds(failures: int) -> int:
    """How long the `failures`-th consecutive failure locks the subject."""
    if failures < FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS)


def _state(counter: Counter, who: str) -> dict | None:
    count_key, times_key = _keys(counter, who)
    state = cache.get(times_key)
    if state is None:
        return None
    if clock.now().timestamp() - state["last"] >= RESET_AFTER_SECONDS:
        cache.delete_many([count_key, times_key])
        return None
    return state


def check(counter: Counter, who: str) -> None:
    """Raise NotAuthorizedException(counter.message) while the subject is locked."""
    state = _state(counter, who)
    if state is not None and clock.now().timestamp() < state["until"]:
        raise NotAuthorizedException(counter.message)


def failure(counter: Counter, who: str) -> int:
    """Count a failed guess; returns the number of consecutive failures."""
    count_key, times_key = _keys(counter, who)
    _state(counter, who)  # forgets a counter that is older than RESET_AFTER_SECONDS
    cache.add(count_key, 0, timeout=_TTL)
    try:
        failures = cache.incr(count_key)
    except ValueError:  # evicted between add and incr
        cache.set(count_key, 1, timeout=_TTL)
        failures = 1
    cache.touch(count_key, timeout=_TTL)
    now = clock.now().timestamp()
    cache.set(times_key, {"last": now, "until": now + lock_seconds(failures)}, timeout=_TTL)
    return failures


def reset(counter: Counter, who: str) -> None:
    """A success: forget the failures."""
    cache.delete_many(list(_keys(counter, who)))


def failures(counter: Counter, who: str) -> int:
    """Consecutive failures currently counted (for the console and tests)."""
    if _state(counter, who) is None:
        return 0
    return int(cache.get(_keys(counter, who)[0]) or 0)
