"""Growing per-user lockouts: the counter itself, and through password sign-in."""

from __future__ import annotations

import pytest

from pool import clock
from pool.errors import NotAuthorizedException
from pool.services import authenticate, lockout
from pool.services.results import Authenticated
from tests import factories

WHO = "local_pool:u1"


def fail(n: int, who: str = WHO) -> None:
    for _ in range(n):
        lockout.failure(lockout.PASSWORD, who)


def locked(who: str = WHO) -> bool:
    try:
        lockout.check(lockout.PASSWORD, who)
    except NotAuthorizedException as exc:
        assert exc.message == "Password attempts exceeded"
        return True
    return False


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock.freeze()


def test_lock_schedule_doubles_from_the_fifth_failure_up_to_15_minutes():
    assert [lockout.lock_seconds(n) for n in range(1, 9)] == [0, 0, 0, 0, 1, 2, 4, 8]
    assert lockout.lock_seconds(15) == 900 and lockout.lock_seconds(40) == 900


def test_four_failures_do_not_lock():
    fail(4)
    assert not locked()


def test_fifth_failure_locks_for_one_second():
    fail(5)
    assert locked()
    clock.advance(seconds=1)
    assert not locked()


def test_sixth_failure_locks_for_two_seconds():
    fail(6)
    clock.advance(seconds=1.5)
    assert locked()
    clock.advance(seconds=0.5)
    assert not locked()


def test_attempts_while_locked_do_not_extend_the_lock():
    fail(8)  # 8 s
    clock.advance(seconds=7)
    for _ in range(3):
        assert locked()
    clock.advance(seconds=1)
    assert not locked()
    assert lockout.failures(lockout.PASSWORD, WHO) == 8


def test_lock_is_capped_at_15_minutes():
    fail(20)
    clock.advance(seconds=899)
    assert locked()
    clock.advance(seconds=1)
    assert not locked()


def test_counter_resets_after_15_minutes_without_failures():
    fail(5)
    clock.advance(minutes=15)
    assert lockout.failures(lockout.PASSWORD, WHO) == 0
    fail(1)
    assert not locked()


def test_success_resets_the_counter():
    fail(5)
    clock.advance(seconds=1)
    lockout.reset(lockout.PASSWORD, WHO)
    fail(4)
    assert not locked()


def test_counters_are_per_subject_and_per_kind():
    fail(5)
    assert not locked("local_pool:u2")
    lockout.check(lockout.OTP, WHO)  # the OTP counter is separate


def test_otp_counter_has_its_own_message():
    for _ in range(5):
        lockout.failure(lockout.OTP, WHO)
    with pytest.raises(NotAuthorizedException, match="Too many invalid codes"):
        lockout.check(lockout.OTP, WHO)


# ------------------------------------------------------------------------- through sign-in


def sign_in(pool, username, password):
    return authenticate.password(pool=pool, username=username, password=password)


def test_sign_in_locks_after_five_wrong_passwords(pool, user):
    for _ in range(5):
        with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
            sign_in(pool, "alice", "wrong")
    with pytest.raises(NotAuthorizedException, match="Password attempts exceeded"):
        sign_in(pool, "alice", factories.PASSWORD)
    clock.advance(seconds=1)
    assert isinstance(sign_in(pool, "alice", factories.PASSWORD), Authenticated)


def test_unknown_user_locks_like_a_known_one(pool):
    for _ in range(5):
        with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
            sign_in(pool, "nobody", "wrong")
    with pytest.raises(NotAuthorizedException, match="Password attempts exceeded"):
        sign_in(pool, "nobody", "wrong")


def test_lock_applies_whichever_name_the_user_types(pool):
    from pool.models import UserPool

    UserPool.objects.filter(pk=pool.pk).update(alias_attributes=["email"])
    pool.refresh_from_db()
    factories.make_user(pool, "carol")
    for _ in range(5):
        with pytest.raises(NotAuthorizedException):
            sign_in(pool, "carol", "wrong")
    with pytest.raises(NotAuthorizedException, match="Password attempts exceeded"):
        sign_in(pool, "carol@example.com", factories.PASSWORD)
