"""Growing per-user lockouts against password (and one-time code) guessing, as Cognito does.

After 5 failures each further failure locks the subject for 2^(n-5) seconds (1 s, 2 s, 4 s, ...)
up to 15 minutes. Attempts while locked are refused without being counted and without
extending the lock. A success forgets everything; so does a quiet period of 15 minutes counted
from the END of the last lock (or from the last failure, before any lock): the count survives
the end of a lock, so an attacker who waits out a 15-minute lock meets another one at once,
not five free guesses.

Attempts are counted *before* the guess is verified (`attempt()`, then `reset()` on success):
each attempt takes a numbered place in one atomic cache step (pool.services.counters), so a
burst of parallel guesses gets the 5 free places and then one place per ended lock, however
many arrive at once. The places:
- the first 5 attempts of a series: one shared counter; the 5th sets the first lock;
- after the k-th failure's lock ends: a counter for "after lock k"; only its first attempt is
  let through, and it sets lock k+1.
A quiet period, or a success once a lock was set, starts a new *series* (new keys; the old
ones expire), so no count is ever decremented. Counters live in Django's cache, shared by every
server process (Redis with REDIS_URL, otherwise the database: config/cache.py); times come
from the domain clock so tests advance it.

The first attempt of a series may leave its time unwritten (`attempt(note_failure=False)`)
and write it with `failed()` only if the guess was wrong: a success deletes that time anyway,
so a user's right first guess (nearly every sign-in) writes neither it nor its deletion. The
time only decides when a series is quiet (15 minutes after it): written a verification later,
with the clock of that moment, it is never earlier than when written before the verification,
and until then the series holds no time, which is never quiet. Later places (2 to 4), which a
parallel burst takes, write their time at once, as does every attempt of the other callers.
The places are counted as before.

A lock only ever lasts 15 minutes, so an attacker cannot lock a user out for good. Unknown
names are counted exactly like users (see `subject`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.core.cache import cache

from pool import clock, crypto, metrics
from pool.errors import NotAuthorizedException
from pool.services import counters

FREE_FAILURES = 5
MAX_LOCK_SECONDS = 15 * 60
# Quiet time after the end of the last lock (or the last failure) that forgets the failures.
RESET_AFTER_SECONDS = 15 * 60
# Cache entries outlive every rule above (wall time); the rules read the stored timestamps.
_TTL = RESET_AFTER_SECONDS + MAX_LOCK_SECONDS + 60
_FIRST_SERIES = "0"


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


def lock_seconds(failures: int) -> int:
    """How long the `failures`-th consecutive failure locks the subject."""
    if failures < FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS)


@dataclass(frozen=True)
class _Series:
    """One run of consecutive failures: its cache keys and what they hold now."""

    series_key: str
    prefix: str
    lock: dict | None  # {"failures": k, "until": timestamp}, set by the 5th and later failures
    seen: float | None  # when the last of the first 4 failures was counted
    named: bool = True  # the series key is stored (False: the first series, never named)

    @property
    def free_key(self) -> str:
        return f"{self.prefix}:free"

    @property
    def lock_key(self) -> str:
        return f"{self.prefix}:lock"

    @property
    def seen_key(self) -> str:
        return f"{self.prefix}:seen"

    def after_key(self, failures: int) -> str:
        return f"{self.prefix}:after:{failures}"

    def quiet_since(self) -> float | None:
        if self.lock is not None:
            return self.lock["until"]
        return self.seen


def _read(counter: Counter, who: str, series: str | None = None) -> _Series:
    """The subject's series as stored. Its name and the first series' entries are read in one
    cache step: a subject who never met a lock or a quiet period (nearly every user) is
    still in the first series, and costs no second read."""
    series_key = f"lockout:{counter.kind}:{who}:series"
    named = True
    if series is None:
        first = f"lockout:{counter.kind}:{who}:{_FIRST_SERIES}"
        held = cache.get_many([series_key, f"{first}:lock", f"{first}:seen"])
        series = held.get(series_key)
        if series is None:
            return _Series(
                series_key, first, held.get(f"{first}:lock"), held.get(f"{first}:seen"), False
            )
    prefix = f"lockout:{counter.kind}:{who}:{series}"
    held = cache.get_many([f"{prefix}:lock", f"{prefix}:seen"])
    return _Series(
        series_key, prefix, held.get(f"{prefix}:lock"), held.get(f"{prefix}:seen"), named
    )


def _is_quiet(state: _Series, now: float) -> bool:
    since = state.quiet_since()
    return since is not None and now - since >= RESET_AFTER_SECONDS


def _current(counter: Counter, who: str, now: float) -> _Series:
    """The subject's series, moving on to a fresh one after a quiet period. The next series'
    name is derived from the quiet one, so parallel requests that all notice the quiet move
    to the same fresh series (and share its 5 free places) instead of one each."""
    state = _read(counter, who)
    if not _is_quiet(state, now):
        if state.named:  # (touching a key that is not stored does nothing)
            cache.touch(state.series_key, timeout=_TTL)
        return state
    following = crypto.digest(f"{state.prefix}:quiet")[:16]
    cache.set(state.series_key, following, timeout=_TTL)
    return _read(counter, who, following)


def _locked(counter: Counter) -> NotAuthorizedException:
    return NotAuthorizedException(counter.message)


@dataclass(frozen=True)
class Attempt:
    """A counted guess: the consecutive failure it becomes if it is wrong, and the series it
    was counted in (with the lock it met or set), so that `reset` needs no second read."""

    failures: int
    series: _Series
    # A free place whose time is not written yet: `failed()` writes it if the guess was wrong.
    unnoted: bool = False


def attempt(counter: Counter, who: str, *, note_failure: bool = True) -> Attempt:
    """Count a guess BEFORE verifying it, or raise NotAuthorizedException(counter.message)
    while the subject is locked (a refused guess is not counted and extends nothing).

    Returns the Attempt; `.failures` is the consecutive failure this guess becomes if it is
    wrong. Call `reset()` with it when the guess is right; a wrong guess needs nothing more
    (it is already counted), unless `note_failure` was False: then call `failed()` with it
    whenever the guess was not right (a success makes the time of the attempt moot, so it is
    written only for a failure)."""
    now = clock.now().timestamp()
    state = _current(counter, who, now)
    lock = state.lock
    if lock is None:
        # The count lives _TTL from the latest failure (it slides in the same cache step).
        place = counters.hit(state.free_key, timeout=_TTL, slide=True)
        if place < FREE_FAILURES:
            if place == 1 and not note_failure:
                return Attempt(place, state, unnoted=True)
            cache.set(state.seen_key, now, timeout=_TTL)
            return Attempt(place, state)
        if place == FREE_FAILURES:
            lock = {"failures": place, "until": now + lock_seconds(place)}
            cache.set(state.lock_key, lock, _TTL)
            metrics.locked(counter.kind)
            return Attempt(place, replace(state, lock=lock))
        # The free places are taken; the lock is set by whoever took the last one.
        lock = cache.get(state.lock_key)
        if lock is None:
            raise _locked(counter)
    if now < lock["until"]:
        raise _locked(counter)
    # The lock has ended: one guess may go through, and it sets the next lock.
    if counters.hit(state.after_key(lock["failures"]), timeout=_TTL) != 1:
        raise _locked(counter)
    failures = lock["failures"] + 1
    lock = {"failures": failures, "until": now + lock_seconds(failures)}
    cache.set(state.lock_key, lock, _TTL)
    metrics.locked(counter.kind)
    return Attempt(failures, replace(state, lock=lock))


def reset(counter: Counter, who: str, attempted: Attempt | None = None) -> None:
    """A success: forget the failures. Before any lock (the usual case) the free counter is
    simply dropped; once locks were set the subject starts a new series, so no "after lock k"
    place of the old one can be met again.

    Given the right guess's Attempt, the series is not read again: a lock that a parallel
    wrong guess set meanwhile then stays in force (the success forgets the series it was
    counted in, as it saw it). Without it, the series as stored now is forgotten."""
    state = attempted.series if attempted is not None else _read(counter, who)
    if state.lock is None:
        if attempted is not None and attempted.unnoted and state.seen is None:
            # The series' first attempt, its time unwritten, and none stored when it was
            # counted: only the count is there to forget.
            counters.forget(state.free_key)
            return
        cache.delete_many([state.free_key, state.seen_key])
    else:
        cache.set(state.series_key, crypto.token(12), timeout=_TTL)


def failed(attempted: Attempt) -> None:
    """A wrong guess counted by `attempt(..., note_failure=False)`: write the time of the
    failure (now), which the quiet period counts from. Nothing for a guess whose time was
    written, or that met or set a lock (the lock holds its own time)."""
    if attempted.unnoted:
        cache.set(attempted.series.seen_key, clock.now().timestamp(), timeout=_TTL)


def failures(counter: Counter, who: str) -> int:
    """Consecutive failures currently counted (for the console and tests)."""
    state = _read(counter, who)
    if _is_quiet(state, clock.now().timestamp()):
        return 0
    if state.lock is not None:
        return state.lock["failures"]
    return min(counters.value(state.free_key), FREE_FAILURES)


def is_locked(counter: Counter, who: str) -> bool:
    """Whether a guess now would be refused, without counting one (for the console and tests)."""
    now = clock.now().timestamp()
    state = _read(counter, who)
    if state.lock is None or _is_quiet(state, now):
        return False
    return now < state.lock["until"] or (
        counters.value(state.after_key(state.lock["failures"])) > 0
    )
