"""Per-user lockout (pool.services.lockout) seen from the hosted sign-in page: growing locks
after five failures, a correct password refused while locked, unknown names locked alike, and
never longer than 15 minutes."""

from __future__ import annotations

import pytest

from pool import clock
from pool.services import lockout
from tests import factories
from tests.security.conftest import authorize_url

pytestmark = pytest.mark.django_db
LOCKED = "Password attempts exceeded"


@pytest.fixture
def login(client, pool, app_client, settings):
    settings.RATE_LIMIT_PER_MINUTE = 0  # the per-IP limit is tested on its own
    clock.freeze()
    return client.get(authorize_url(pool, app_client))["Location"]


def fail(client, login, username="alice", times=1):
    for _ in range(times):
        client.post(login, {"username": username, "password": "Wrong-Horse-9"})


def test_correct_password_is_refused_while_locked(client, login, user):
    fail(client, login, times=lockout.FREE_FAILURES)
    response = client.post(login, {"username": "alice", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert LOCKED in response.content.decode()


def test_lock_ends_and_the_user_signs_in(client, login, user):
    fail(client, login, times=lockout.FREE_FAILURES)
    clock.advance(seconds=2)
    response = client.post(login, {"username": "alice", "password": factories.PASSWORD})
    assert response.status_code == 302 and "code=" in response["Location"]


def test_locks_grow_with_each_failure(client, login, user):
    fail(client, login, times=lockout.FREE_FAILURES + 3)  # last three refused while locked
    clock.advance(seconds=1)
    fail(client, login)  # 6th counted failure: locked 2 s
    clock.advance(seconds=1)
    response = client.post(login, {"username": "alice", "password": factories.PASSWORD})
    assert LOCKED in response.content.decode()


def test_lock_never_exceeds_fifteen_minutes(client, login, user):
    failures = 0
    while lockout.lock_seconds(failures + 1) < lockout.MAX_LOCK_SECONDS:
        fail(client, login)
        failures += 1
        clock.advance(seconds=lockout.lock_seconds(failures))  # wait out each lock, then fail
    fail(client, login)  # the lock that would be 2^n seconds is capped at 15 minutes
    clock.advance(seconds=lockout.MAX_LOCK_SECONDS - 5)
    still = client.post(login, {"username": "alice", "password": factories.PASSWORD})
    clock.advance(seconds=5)
    response = client.post(login, {"username": "alice", "password": factories.PASSWORD})
    assert LOCKED in still.content.decode()
    assert response.status_code == 302 and "code=" in response["Location"]


def test_unknown_name_locks_like_a_real_user(client, login, user):
    fail(client, login, username="ghost", times=lockout.FREE_FAILURES)
    fail(client, login, username="alice", times=lockout.FREE_FAILURES)
    ghost = client.post(login, {"username": "ghost", "password": "Wrong-Horse-9"})
    alice = client.post(login, {"username": "alice", "password": "Wrong-Horse-9"})
    assert ghost.status_code == alice.status_code == 400
    assert LOCKED in ghost.content.decode() and LOCKED in alice.content.decode()


def test_lock_of_one_user_does_not_touch_another(client, login, user, pool):
    factories.make_user(pool, "bob")
    fail(client, login, times=lockout.FREE_FAILURES)
    response = client.post(login, {"username": "bob", "password": factories.PASSWORD})
    assert response.status_code == 302 and "code=" in response["Location"]


def test_a_guess_after_a_fifteen_minute_lock_meets_another_one(client, login, user):
    failures = 0
    while lockout.lock_seconds(failures) < lockout.MAX_LOCK_SECONDS:
        clock.advance(seconds=lockout.lock_seconds(failures))  # each guess when its lock ends
        fail(client, login)
        failures += 1
    clock.advance(seconds=lockout.MAX_LOCK_SECONDS)
    guess = client.post(login, {"username": "alice", "password": "Wrong-Horse-9"})
    after = client.post(login, {"username": "alice", "password": factories.PASSWORD})
    assert "Incorrect username or password." in guess.content.decode()
    assert LOCKED in after.content.decode()  # not five more free guesses


def test_the_count_is_forgotten_fifteen_quiet_minutes_after_the_lock_ends(client, login, user):
    fail(client, login, times=lockout.FREE_FAILURES)  # locked for 1 s
    clock.advance(seconds=1 + lockout.RESET_AFTER_SECONDS)
    fail(client, login, times=lockout.FREE_FAILURES - 1)
    response = client.post(login, {"username": "alice", "password": factories.PASSWORD})
    assert response.status_code == 302 and "code=" in response["Location"]
