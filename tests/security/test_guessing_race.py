"""Bursts of parallel guesses (real threads, each with its own database connection) against the
per-user lockout and the per-user caps: the burst gets no more tries than one guesser making
them one after another. Every thread starts at a barrier, so all guesses are in flight before
the first one is answered."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pool import clock
from pool.errors import CognitoError
from pool.models import UserStatus
from pool.services import authenticate, lockout, sign_up
from pool.services.results import RequestContext
from tests import factories, parallel

BURST = 20
INCORRECT = "Incorrect username or password."
LOCKED = "Password attempts exceeded"


def burst(call: Callable[[], object], threads: int = BURST) -> list:
    """Run `call` in `threads` threads at once; the result or the Cognito error of each."""
    return parallel.burst(call, threads)


def messages(results: list) -> list[str]:
    return [getattr(r, "message", repr(r)) for r in results]


def wrong_password_burst(pool, username: str) -> list[str]:
    return messages(
        burst(lambda: authenticate.password(pool=pool, username=username, password="Wrong-9-x"))
    )


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock.freeze()  # no lock ends during a burst: only the free guesses may be verified


@pytest.fixture(params=["configured", "database", "database table"])
def any_cache(request, settings):
    """The lockout bursts run on the test run's cache (in-process, or Redis with REDIS_URL)
    and on the default database cache (config.cache.SharedDatabaseCache), whose counters live
    in the slot file next to a SQLite database file (config/counter_slots.py) or in their
    table (PostgreSQL, an in-memory database: OPTIONS COUNTER_SLOTS 0)."""
    if request.param.startswith("database"):
        settings.CACHES = {
            "default": {
                "BACKEND": "config.cache.SharedDatabaseCache",
                "LOCATION": "cognate_cache",
                "OPTIONS": {"COUNTER_SLOTS": 0} if request.param == "database table" else {},
            }
        }
    yield request.param
    if request.param.startswith("database"):
        from django.core.cache import cache

        cache.clear()


@pytest.fixture
def alice(pool, settings):
    """A user whose password hash has the production cost, so that each verified guess takes
    as long as it does in production and the guesses of a burst really overlap."""
    settings.ARGON2_MEMORY_KIB = 19456
    settings.ARGON2_TIME_COST = 2
    return factories.make_user(pool, "alice")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("any_cache")
def test_parallel_wrong_passwords_get_only_the_free_guesses(pool, alice):
    answers = wrong_password_burst(pool, "alice")
    assert answers.count(INCORRECT) == lockout.FREE_FAILURES, answers
    assert answers.count(LOCKED) == BURST - lockout.FREE_FAILURES, answers


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("any_cache")
def test_parallel_guesses_at_an_unknown_name_are_limited_alike(pool):
    answers = wrong_password_burst(pool, "ghost")
    assert answers.count(INCORRECT) == lockout.FREE_FAILURES, answers
    assert answers.count(LOCKED) == BURST - lockout.FREE_FAILURES, answers


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("any_cache")
def test_when_a_lock_ends_a_parallel_burst_gets_one_guess(pool, alice):
    for _ in range(lockout.FREE_FAILURES):
        with pytest.raises(CognitoError):
            authenticate.password(pool=pool, username="alice", password="Wrong-9-x")
    clock.advance(seconds=lockout.lock_seconds(lockout.FREE_FAILURES))
    answers = wrong_password_burst(pool, "alice")
    assert answers.count(INCORRECT) == 1, answers
    assert answers.count(LOCKED) == BURST - 1, answers


@pytest.mark.django_db(transaction=True)
def test_parallel_resends_are_held_to_the_hourly_cap(pool, mailoutbox):
    factories.make_user(pool, "newbie", status=UserStatus.UNCONFIRMED)
    context = RequestContext(source="api")
    results = burst(
        lambda: sign_up.resend_confirmation_code(pool=pool, username="newbie", context=context)
    )
    sent = [r for r in results if not isinstance(r, CognitoError)]
    refused = [r for r in results if getattr(r, "code", "") == "LimitExceededException"]
    assert len(sent) == 5 and len(refused) == BURST - 5, results
    assert len(mailoutbox) == 5
