"""Changing, recovering and administering passwords."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail

from pool import clock, crypto, srp
from pool.errors import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    InvalidPasswordException,
    LimitExceededException,
    NotAuthorizedException,
    UserNotFoundException,
)
from pool.models import AuthEvent, OutboxMessage, RefreshFamily, User, UserStatus
from pool.services import passwords
from pool.services.results import RequestContext
from tests import factories
from tests.pool.helpers import code_in, emailed_code, wrong_code

CTX = RequestContext(ip="127.0.0.1", user_agent="pytest")
NEW = "Battery-Staple-42"


def _family(user, client) -> RefreshFamily:
    now = clock.now()
    return RefreshFamily.objects.create(
        pool=user.pool,
        user=user,
        client=client,
        auth_time=now,
        expires_at=now + dt.timedelta(days=1),
    )


@pytest.fixture
def legacy_pool(db):
    """A pool that does not hide user existence: Cognito's explicit errors (the default pool
    answers those calls as for an unknown name, see tests/security/test_enumeration.py)."""
    return factories.make_pool(prevent_user_existence_errors=False)


def _reload(user) -> User:
    return User.objects.select_related("pool").get(pk=user.pk)


# ------------------------------------------------------------------------------ change_password


def test_change_password_replaces_the_password(user):
    passwords.change_password(user=user, previous=factories.PASSWORD, proposed=NEW, context=CTX)
    user = _reload(user)
    assert passwords.verify(user, NEW)
    assert not passwords.verify(user, factories.PASSWORD)


def test_change_password_writes_a_new_srp_verifier(user):
    salt = user.srp_salt
    passwords.change_password(user=user, previous=factories.PASSWORD, proposed=NEW, context=CTX)
    user = _reload(user)
    assert user.srp_salt != salt
    expected = srp.verifier(user.pool.id_suffix, user.username, NEW, user.srp_salt)
    assert int(crypto.decrypt(user.srp_verifier), 16) == expected


def test_change_password_needs_the_previous_password(user):
    with pytest.raises(NotAuthorizedException) as caught:
        passwords.change_password(user=user, previous="Wrong-Guess-1", proposed=NEW, context=CTX)
    assert caught.value.message == "Incorrect username or password."
    assert passwords.verify(_reload(user), factories.PASSWORD)


def test_change_password_applies_the_policy(user):
    with pytest.raises(InvalidPasswordException):
        passwords.change_password(
            user=user, previous=factories.PASSWORD, proposed="short", context=CTX
        )


def test_change_password_is_capped_at_5_an_hour(user):
    clock.freeze()
    for _ in range(5):
        with pytest.raises(NotAuthorizedException):
            passwords.change_password(user=user, previous="Wrong-1a", proposed=NEW, context=CTX)
    with pytest.raises(LimitExceededException):
        passwords.change_password(user=user, previous=factories.PASSWORD, proposed=NEW, context=CTX)


def test_change_password_ends_every_session(user, app_client):
    family = _family(user, app_client)
    passwords.change_password(user=user, previous=factories.PASSWORD, proposed=NEW, context=CTX)
    family.refresh_from_db()
    assert family.revoked_at is not None
    assert _reload(user).tokens_valid_after is not None


def test_disabled_user_cannot_change_password(pool):
    user = factories.make_user(pool, "off", enabled=False)
    with pytest.raises(NotAuthorizedException):
        passwords.change_password(user=user, previous=factories.PASSWORD, proposed=NEW, context=CTX)


def test_password_change_is_recorded(user):
    passwords.change_password(user=user, previous=factories.PASSWORD, proposed=NEW, context=CTX)
    assert AuthEvent.objects.filter(
        user=user, event_type=AuthEvent.Type.PASSWORD_CHANGE, success=True
    ).exists()


# ------------------------------------------------------------------------------ forgot_password


def test_forgot_password_emails_a_code(db, smtp_sink):
    pool = factories.make_pool()
    factories.make_user(pool, "alice")
    delivery = passwords.forgot_password(pool=pool, username="alice", context=CTX)
    assert (delivery.medium, delivery.attribute, delivery.destination) == (
        "EMAIL",
        "email",
        "a***@e***",
    )
    body = smtp_sink.body(smtp_sink.wait_for("alice@example.com"))
    code = code_in(body)
    passwords.confirm_forgot_password(
        pool=pool, username="alice", code=code, password=NEW, context=CTX
    )
    assert passwords.verify(User.objects.get(pool=pool, username="alice"), NEW)


def test_forgot_password_for_an_unknown_user_pretends_and_sends_nothing(pool):
    delivery = passwords.forgot_password(pool=pool, username="ghost", context=CTX)
    assert delivery.medium == "EMAIL"
    assert re.fullmatch(r"\w\*\*\*@\w\*\*\*", delivery.destination)
    assert delivery == passwords.forgot_password(pool=pool, username="ghost", context=CTX)
    assert mail.outbox == []


def test_forgot_password_for_an_unknown_email_masks_it_like_a_real_one(pool):
    delivery = passwords.forgot_password(pool=pool, username="zed@example.org", context=CTX)
    assert delivery.destination == "z***@e***"


def test_forgot_password_for_an_unknown_user_is_user_not_found_in_legacy_pools(db):
    pool = factories.make_pool(prevent_user_existence_errors=False)
    with pytest.raises(UserNotFoundException):
        passwords.forgot_password(pool=pool, username="ghost", context=CTX)


def test_forgot_password_needs_a_verified_destination(legacy_pool):
    pool = legacy_pool
    factories.make_user(pool, "unverified", email_verified=False)
    with pytest.raises(InvalidParameterException) as caught:
        passwords.forgot_password(pool=pool, username="unverified", context=CTX)
    assert caught.value.message == (
        "Cannot reset password for the user as there is no registered/verified email or "
        "phone_number"
    )


def test_forgot_password_uses_a_verified_phone_when_the_email_is_not(pool):
    factories.make_user(
        pool,
        "phoney",
        email_verified=False,
        phone_number="+15555550142",
        phone_number_verified=True,
    )
    delivery = passwords.forgot_password(pool=pool, username="phoney", context=CTX)
    assert delivery.medium == "SMS" and delivery.destination.endswith("0142")
    assert OutboxMessage.objects.filter(channel="sms", to="+15555550142").exists()


def test_forgot_password_follows_the_pools_recovery_order(db):
    pool = factories.make_pool(account_recovery=["verified_phone_number", "verified_email"])
    factories.make_user(pool, "both", phone_number="+15555550143", phone_number_verified=True)
    delivery = passwords.forgot_password(pool=pool, username="both", context=CTX)
    assert delivery.attribute == "phone_number"
    assert mail.outbox == []


def test_forgot_password_is_refused_when_recovery_is_admin_only(db):
    pool = factories.make_pool(account_recovery=["admin_only"])
    factories.make_user(pool, "alice")
    with pytest.raises(NotAuthorizedException):
        passwords.forgot_password(pool=pool, username="alice", context=CTX)


def test_forgot_password_is_refused_for_a_disabled_user(legacy_pool):
    pool = legacy_pool
    factories.make_user(pool, "off", enabled=False)
    with pytest.raises(NotAuthorizedException) as caught:
        passwords.forgot_password(pool=pool, username="off", context=CTX)
    assert caught.value.message == "User is disabled."


def test_forgot_password_is_capped_per_user(pool):
    clock.freeze()
    factories.make_user(pool, "alice")
    for _ in range(5):
        passwords.forgot_password(pool=pool, username="alice", context=CTX)
    with pytest.raises(LimitExceededException):
        passwords.forgot_password(pool=pool, username="alice", context=CTX)


def test_forgot_password_cap_treats_unknown_names_like_known_ones(pool):
    clock.freeze()
    for _ in range(5):
        passwords.forgot_password(pool=pool, username="nobody", context=CTX)
    with pytest.raises(LimitExceededException):
        passwords.forgot_password(pool=pool, username="nobody", context=CTX)


def test_forgot_password_accepts_a_verified_alias(db):
    pool = factories.make_pool(alias_attributes=["email"])
    factories.make_user(pool, "alice")
    delivery = passwords.forgot_password(pool=pool, username="ALICE@example.com", context=CTX)
    assert delivery.attribute == "email"


# ------------------------------------------------------------------------------ confirm_forgot


def _forgot(pool, username="alice") -> str:
    passwords.forgot_password(pool=pool, username=username, context=CTX)
    return emailed_code(f"{username}@example.com")


def test_confirm_forgot_password_sets_the_password(pool):
    factories.make_user(pool, "alice")
    code = _forgot(pool)
    passwords.confirm_forgot_password(
        pool=pool, username="alice", code=code, password=NEW, context=CTX
    )
    user = User.objects.get(pool=pool, username="alice")
    assert passwords.verify(user, NEW) and not passwords.verify(user, factories.PASSWORD)


@pytest.mark.parametrize("status", [UserStatus.RESET_REQUIRED, UserStatus.FORCE_CHANGE_PASSWORD])
def test_confirm_forgot_password_confirms_reset_and_forced_users(pool, status):
    user = factories.make_user(pool, "alice", status=status, email_verified=True)
    code = _forgot(pool)
    passwords.confirm_forgot_password(
        pool=pool, username="alice", code=code, password=NEW, context=CTX
    )
    user = _reload(user)
    assert user.status == UserStatus.CONFIRMED
    assert user.temporary_password_expires_at is None


def test_confirm_forgot_password_with_a_wrong_code(pool):
    factories.make_user(pool, "alice")
    right = _forgot(pool)
    with pytest.raises(CodeMismatchException):
        passwords.confirm_forgot_password(
            pool=pool,
            username="alice",
            code=wrong_code(right),
            password=NEW,
            context=CTX,
        )


def test_forgot_password_code_expires_after_an_hour(legacy_pool):
    pool = legacy_pool
    clock.freeze()
    factories.make_user(pool, "alice")
    code = _forgot(pool)
    clock.advance(hours=1, seconds=1)
    with pytest.raises(ExpiredCodeException):
        passwords.confirm_forgot_password(
            pool=pool, username="alice", code=code, password=NEW, context=CTX
        )


def test_forgot_password_code_is_voided_after_5_wrong_guesses(legacy_pool):
    pool = legacy_pool
    factories.make_user(pool, "alice")
    right = _forgot(pool)
    wrong = wrong_code(right)
    for _ in range(5):
        with pytest.raises(CodeMismatchException):
            passwords.confirm_forgot_password(
                pool=pool, username="alice", code=wrong, password=NEW, context=CTX
            )
    with pytest.raises(LimitExceededException):
        passwords.confirm_forgot_password(
            pool=pool, username="alice", code=right, password=NEW, context=CTX
        )


def test_refused_new_password_does_not_use_up_the_code(pool):
    factories.make_user(pool, "alice")
    code = _forgot(pool)
    with pytest.raises(InvalidPasswordException):
        passwords.confirm_forgot_password(
            pool=pool, username="alice", code=code, password="weak", context=CTX
        )
    passwords.confirm_forgot_password(
        pool=pool, username="alice", code=code, password=NEW, context=CTX
    )


def test_forgot_password_code_is_single_use(legacy_pool):
    pool = legacy_pool
    factories.make_user(pool, "alice")
    code = _forgot(pool)
    passwords.confirm_forgot_password(
        pool=pool, username="alice", code=code, password=NEW, context=CTX
    )
    with pytest.raises(ExpiredCodeException):
        passwords.confirm_forgot_password(
            pool=pool, username="alice", code=code, password="Another-Pass-7", context=CTX
        )


def test_confirm_forgot_password_for_an_unknown_user_looks_like_a_wrong_code(pool):
    with pytest.raises(CodeMismatchException):
        passwords.confirm_forgot_password(
            pool=pool, username="ghost", code="123456", password=NEW, context=CTX
        )


def test_confirm_forgot_password_ends_every_session(pool, app_client):
    user = factories.make_user(pool, "alice")
    family = _family(user, app_client)
    code = _forgot(pool)
    passwords.confirm_forgot_password(
        pool=pool, username="alice", code=code, password=NEW, context=CTX
    )
    family.refresh_from_db()
    assert family.revoked_at is not None


# ------------------------------------------------------------------------------ admin


def test_admin_permanent_password_confirms_the_user(pool):
    user = factories.make_user(pool, "new", status=UserStatus.UNCONFIRMED)
    passwords.admin_set_password(user=user, password=NEW, permanent=True)
    user = _reload(user)
    assert user.status == UserStatus.CONFIRMED
    assert passwords.verify(user, NEW)
    assert user.temporary_password_expires_at is None


def test_admin_temporary_password_forces_a_change_before_it_expires(db):
    pool = factories.make_pool(temporary_password_validity_days=3)
    user = factories.make_user(pool, "temp")
    moment = clock.freeze()
    passwords.admin_set_password(user=user, password=NEW, permanent=False)
    user = _reload(user)
    assert user.status == UserStatus.FORCE_CHANGE_PASSWORD
    assert user.temporary_password_expires_at == moment + dt.timedelta(days=3)


def test_admin_set_password_applies_the_policy(user):
    with pytest.raises(InvalidPasswordException):
        passwords.admin_set_password(user=user, password="password", permanent=True)


def test_admin_set_password_ends_every_session(user, app_client):
    family = _family(user, app_client)
    passwords.admin_set_password(user=user, password=NEW, permanent=True)
    family.refresh_from_db()
    assert family.revoked_at is not None


def test_admin_reset_requires_a_reset_and_emails_a_code(db, smtp_sink):
    pool = factories.make_pool()
    user = factories.make_user(pool, "alice")
    delivery = passwords.admin_reset_password(user=user, context=CTX)
    assert _reload(user).status == UserStatus.RESET_REQUIRED
    assert delivery.medium == "EMAIL"
    code = code_in(smtp_sink.body(smtp_sink.wait_for("alice@example.com")))
    passwords.confirm_forgot_password(
        pool=pool, username="alice", code=code, password=NEW, context=CTX
    )
    assert _reload(user).status == UserStatus.CONFIRMED


def test_admin_reset_without_a_verified_destination_sends_nothing(pool):
    user = factories.make_user(pool, "quiet", email_verified=False)
    assert passwords.admin_reset_password(user=user, context=CTX) is None
    assert _reload(user).status == UserStatus.RESET_REQUIRED
    assert mail.outbox == []
