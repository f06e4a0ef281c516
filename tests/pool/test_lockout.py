"""Growing per-user lockouts: the counter itself, and through password sign-in."""

from __future__ import annotations

import pytest

from pool import clock
from pool.errors import NotAuthorizedException
from pool.services import authenticate, lockout
from pool.services.results import Authenticated
from tests import factories

WHO = "local_pool:u1"


def fail(n: int, who: str = WHO, counter: lockout.Counter = lockout.PASSWORD) -> None:
    """`n` counted wrong guesses, each made the moment the previous one's lock ends (a guess
    made while locked is refused and counts nothing). The clock stops at the last guess."""
    for done in range(n):
        if done:
            clock.advance(seconds=lockout.lock_seconds(done))
        lockout.attempt(counter, who)


def refused(who: str = WHO) -> bool:
    """Make a guess; True if the lock refused it."""
    try:
        lockout.attempt(lockout.PASSWORD, who)
    except NotAuthorizedException as exc:
        assert exc.message == "Password attempts exceeded"
        return True
    return False


def locked(who: str = WHO) -> bool:
    return lockout.is_locked(lockout.PASSWORD, who)


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock.freeze()


def test_lock_schedule_doubles_from_the_fifth_failure_up_to_15_minutes():
    assert [lockout.lock_seconds(n) for n in range(1, 9)] == [0, 0, 0, 0, 1, 2, 4, 8]
    assert lockout.lock_seconds(15) == 900 and lockout.lock_seconds(40) == 900


def test_four_failures_do_not_lock():
    fail(4)
    assert not locked()
    assert not refused()


def test_fifth_failure_locks_for_one_second():
    fail(5)
    assert locked() and refused()
    clock.advance(seconds=1)
    assert not refused()


def test_sixth_failure_locks_for_two_seconds():
    fail(6)
    clock.advance(seconds=1.5)
    assert refused()
    clock.advance(seconds=0.5)
    assert not refused()


def test_attempts_while_locked_do_not_extend_the_lock():
    fail(8)  # 8 s
    clock.advance(seconds=7)
    for _ in range(3):
        assert refused()
    clock.advance(seconds=1)
    assert lockout.failures(lockout.PASSWORD, WHO) == 8
    assert not refused()


def test_probing_the_lock_counts_nothing():
    fail(4)
    for _ in range(3):
        assert not locked()
    assert lockout.failures(lockout.PASSWORD, WHO) == 4


def test_lock_is_capped_at_15_minutes():
    fail(20)
    clock.advance(seconds=899)
    assert refused()
    clock.advance(seconds=1)
    assert not refused()


def test_a_guess_after_a_15_minute_lock_meets_another_one():
    fail(15)  # the 15th failure locks for the full 15 minutes
    clock.advance(seconds=lockout.MAX_LOCK_SECONDS)
    assert not refused()  # one guess when the lock ends...
    assert refused()  # ...and the next 15-minute lock, not five free guesses
    assert lockout.failures(lockout.PASSWORD, WHO) == 16


def test_failures_are_forgotten_15_quiet_minutes_after_the_lock_ends():
    fail(15)
    clock.advance(seconds=lockout.MAX_LOCK_SECONDS + lockout.RESET_AFTER_SECONDS - 1)
    assert lockout.failures(lockout.PASSWORD, WHO) == 15
    clock.advance(seconds=1)
    assert lockout.failures(lockout.PASSWORD, WHO) == 0
    fail(4)
    assert not locked()


def test_failures_before_any_lock_are_forgotten_after_15_quiet_minutes():
    fail(4)
    clock.advance(minutes=15)
    assert lockout.failures(lockout.PASSWORD, WHO) == 0
    fail(4)
    assert not refused()  # the fifth of the new series


def test_success_resets_the_counter():
    fail(5)
    clock.advance(seconds=1)
    lockout.reset(lockout.PASSWORD, WHO)
    fail(4)
    assert not locked() and not refused()


def test_after_a_success_the_lock_schedule_starts_over():
    fail(7)
    clock.advance(seconds=lockout.lock_seconds(7))
    lockout.reset(lockout.PASSWORD, WHO)
    fail(6)  # five free guesses again, then one when the 1-second lock ends
    assert lockout.failures(lockout.PASSWORD, WHO) == 6
    assert refused()


def test_a_right_fifth_guess_forgets_the_lock_it_set():
    """reset() with the Attempt reads nothing again: the Attempt must carry the lock its own
    guess set, or the success would leave the subject locked."""
    fail(4)
    counted = lockout.attempt(lockout.PASSWORD, WHO)
    assert counted.failures == lockout.FREE_FAILURES
    lockout.reset(lockout.PASSWORD, WHO, counted)
    assert not locked() and lockout.failures(lockout.PASSWORD, WHO) == 0
    fail(4)
    assert not locked() and not refused()


def test_a_right_guess_after_a_lock_forgets_the_series():
    fail(6)
    clock.advance(seconds=lockout.lock_seconds(6))
    counted = lockout.attempt(lockout.PASSWORD, WHO)
    assert counted.failures == 7
    lockout.reset(lockout.PASSWORD, WHO, counted)
    assert not locked() and lockout.failures(lockout.PASSWORD, WHO) == 0
    fail(5)
    assert locked()  # the new series' own 5 free guesses, no leftover "after lock" place
    clock.advance(seconds=1)
    assert not refused()


def test_a_lock_set_by_a_parallel_guess_outlives_an_earlier_right_one():
    """A right guess counted 4th, then a parallel wrong one counted 5th (it sets the lock)
    before the right one is verified: the success forgets what it was counted in, the lock
    it did not see stays in force."""
    fail(3)
    right = lockout.attempt(lockout.PASSWORD, WHO)
    lockout.attempt(lockout.PASSWORD, WHO)
    lockout.reset(lockout.PASSWORD, WHO, right)
    assert locked() and refused()
    clock.advance(seconds=1)
    assert not refused()


def test_a_lost_lock_still_ends_fifteen_minutes_after_the_last_free_failure():
    """The 5th place was taken but its lock never written (the process died between the two
    cache steps): the refused guesses that follow slide the count's expiry but never the time
    of the last free failure, so the quiet period still ends it; no one is locked out for good."""
    from pool.services import counters

    fail(4)
    counters.hit(f"lockout:password:{WHO}:0:free", timeout=60, slide=True)  # the 5th place
    for _ in range(15):
        assert refused()
        clock.advance(minutes=1)
    assert not refused()


def test_an_unnoted_first_attempt_is_never_quiet_until_its_failure_is_written():
    """A first attempt that leaves its time to `failed()`: the series holds no time while the
    guess is verified (never quiet), and the quiet period counts from the failure's moment."""
    counted = lockout.attempt(lockout.PASSWORD, WHO, note_failure=False)
    clock.advance(minutes=20)  # a slow verification: the unwritten time is not "quiet"
    assert lockout.failures(lockout.PASSWORD, WHO) == 1
    lockout.failed(counted)
    clock.advance(minutes=14)
    assert lockout.failures(lockout.PASSWORD, WHO) == 1
    clock.advance(minutes=1)
    assert lockout.failures(lockout.PASSWORD, WHO) == 0


def test_only_the_first_place_leaves_its_time_unwritten():
    """Places 2 to 4, which a parallel burst takes, write their time at once."""
    lockout.attempt(lockout.PASSWORD, WHO, note_failure=False)
    second = lockout.attempt(lockout.PASSWORD, WHO, note_failure=False)
    assert second.failures == 2 and not second.unnoted
    clock.advance(minutes=15)
    assert lockout.failures(lockout.PASSWORD, WHO) == 0


def test_a_right_unnoted_first_guess_forgets_its_count():
    counted = lockout.attempt(lockout.PASSWORD, WHO, note_failure=False)
    lockout.reset(lockout.PASSWORD, WHO, counted)
    assert lockout.failures(lockout.PASSWORD, WHO) == 0
    fail(4)
    assert not locked() and not refused()  # the fifth place of a new count


def test_a_right_unnoted_first_guess_forgets_a_time_stored_before_it():
    """A time stored when the first place was counted (a failure noted after an earlier
    success forgot the count) is forgotten with the count."""
    lockout.failed(lockout.attempt(lockout.PASSWORD, WHO, note_failure=False))
    from pool.services import counters

    counters.forget(f"lockout:password:{WHO}:0:free")
    counted = lockout.attempt(lockout.PASSWORD, WHO, note_failure=False)
    assert counted.failures == 1 and counted.series.seen is not None
    lockout.reset(lockout.PASSWORD, WHO, counted)
    assert lockout._read(lockout.PASSWORD, WHO).seen is None


def test_counters_are_per_subject_and_per_kind():
    fail(5)
    assert not locked("local_pool:u2")
    lockout.attempt(lockout.OTP, WHO)  # the OTP counter is separate


def test_otp_counter_has_its_own_message():
    fail(5, counter=lockout.OTP)
    with pytest.raises(NotAuthorizedException, match="Too many invalid codes"):
        lockout.attempt(lockout.OTP, WHO)


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


def test_a_wrong_first_password_is_forgotten_15_quiet_minutes_after_it(pool, user):
    """The sign-in writes its first attempt's time when the password is wrong: without it the
    series would never be quiet and the failure never forgotten."""
    with pytest.raises(NotAuthorizedException):
        sign_in(pool, "alice", "wrong")
    who = lockout.subject(pool.pk, user_id=user.pk)
    assert lockout.failures(lockout.PASSWORD, who) == 1
    clock.advance(minutes=15)
    assert lockout.failures(lockout.PASSWORD, who) == 0


def test_an_unknown_name_s_first_failure_is_forgotten_the_same_way(pool):
    with pytest.raises(NotAuthorizedException):
        sign_in(pool, "nobody", "wrong")
    who = lockout.subject(pool.pk, identifier=pool.normalize("nobody"))
    assert lockout.failures(lockout.PASSWORD, who) == 1
    clock.advance(minutes=15)
    assert lockout.failures(lockout.PASSWORD, who) == 0


def test_a_right_first_password_leaves_no_count(pool, user):
    assert isinstance(sign_in(pool, "alice", factories.PASSWORD), Authenticated)
    who = lockout.subject(pool.pk, user_id=user.pk)
    assert lockout.failures(lockout.PASSWORD, who) == 0
    state = lockout._read(lockout.PASSWORD, who)
    assert state.seen is None and state.lock is None
