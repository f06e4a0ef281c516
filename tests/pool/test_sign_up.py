"""Self-service sign-up, confirmation by code, and re-sending the code."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection

from pool import clock
from pool.errors import (
    AliasExistsException,
    CodeDeliveryFailureException,
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    InvalidPasswordException,
    LimitExceededException,
    NotAuthorizedException,
    UsernameExistsException,
    UserNotFoundException,
)
from pool.models import AuthEvent, OutboxMessage, User, UserStatus
from pool.selectors.users import find_for_sign_in
from pool.services import passwords
from pool.services.results import RequestContext
from pool.services.sign_up import confirm_sign_up, resend_confirmation_code, sign_up
from tests import factories
from tests.conftest import free_port
from tests.pool.helpers import code_in, emailed_code, wrong_code

CTX = RequestContext(ip="127.0.0.1", user_agent="pytest", source="api")
PASSWORD = factories.PASSWORD


def _texted_code(to: str) -> str:
    return code_in(OutboxMessage.objects.filter(channel="sms", to=to).first().body)


def _sign_up(pool, username="alice", email="alice@example.com", **kwargs):
    attributes = kwargs.pop("attributes", {"email": email} if email else {})
    return sign_up(
        pool=pool,
        username=username,
        password=kwargs.pop("password", PASSWORD),
        attributes=attributes,
        context=CTX,
        **kwargs,
    )


@pytest.fixture
def legacy_pool(db):
    """A pool that does not hide user existence: Cognito's explicit errors (the default pool
    answers those calls as for an unknown name, see tests/security/test_enumeration.py)."""
    return factories.make_pool(prevent_user_existence_errors=False)


# ------------------------------------------------------------------------------ sign_up


def test_sign_up_creates_an_unconfirmed_user_with_password_and_srp_verifier(pool):
    result = _sign_up(pool, attributes={"email": "alice@example.com", "given_name": "Alice"})
    user = User.objects.get(pk=result.user.pk)
    assert result.confirmed is False
    assert user.status == UserStatus.UNCONFIRMED
    assert user.given_name == "Alice" and user.email_verified is False
    assert passwords.verify(user, PASSWORD)
    assert user.srp_salt and user.srp_verifier


def test_sign_up_emails_a_code_with_the_pools_template(db, smtp_sink):
    pool = factories.make_pool(
        verification_email_subject="Welcome to Acme",
        verification_email_message="Hi {username}, your Acme code is {####}.",
    )
    result = _sign_up(pool)
    message = smtp_sink.wait_for("alice@example.com")
    assert message["Subject"] == "Welcome to Acme"
    body = smtp_sink.body(message)
    assert re.search(r"Hi alice, your Acme code is \d{6}\.", body)
    assert result.delivery.medium == "EMAIL"
    assert result.delivery.attribute == "email"
    assert result.delivery.destination == "a***@e***"


def test_emailed_code_confirms_the_user(db, smtp_sink):
    pool = factories.make_pool()
    _sign_up(pool)
    code = code_in(smtp_sink.body(smtp_sink.wait_for("alice@example.com")))
    user = confirm_sign_up(pool=pool, username="alice", code=code, context=CTX)
    assert user.status == UserStatus.CONFIRMED and user.email_verified is True


def test_sign_up_is_refused_when_self_sign_up_is_off(db):
    pool = factories.make_pool(allow_self_sign_up=False)
    with pytest.raises(NotAuthorizedException) as caught:
        _sign_up(pool)
    assert caught.value.message == "SignUp is not permitted for this user pool."


@pytest.mark.parametrize("username", ["", "two words", "tab\there", "u" * 129])
def test_sign_up_refuses_bad_usernames(pool, username):
    with pytest.raises(InvalidParameterException) as caught:
        _sign_up(pool, username=username)
    assert caught.value.field == "username"


def test_sign_up_refuses_a_weak_password_and_creates_nobody(pool):
    with pytest.raises(InvalidPasswordException):
        _sign_up(pool, password="weak")
    assert not User.objects.filter(pool=pool).exists()


def test_sign_up_requires_the_pools_required_attributes(pool):
    with pytest.raises(InvalidParameterException) as caught:
        _sign_up(pool, email=None)
    assert caught.value.field == "email"


def test_sign_up_refuses_verified_flags_from_the_user(pool):
    with pytest.raises(NotAuthorizedException):
        _sign_up(pool, attributes={"email": "a@example.com", "email_verified": "true"})


def test_sign_up_respects_the_clients_write_attributes(pool):
    client = factories.make_client(pool, write_attributes=["email"])
    with pytest.raises(NotAuthorizedException) as caught:
        _sign_up(pool, attributes={"email": "a@example.com", "nickname": "al"}, client=client)
    assert caught.value.field == "nickname"


def test_taken_username_is_refused(pool):
    factories.make_user(pool, "alice")
    with pytest.raises(UsernameExistsException) as caught:
        _sign_up(pool, email="other@example.com")
    assert caught.value.message == "User already exists"


def test_usernames_are_compared_case_insensitively(pool):
    _sign_up(pool, username="Alice")
    with pytest.raises(UsernameExistsException):
        _sign_up(pool, username="ALICE", email="a2@example.com")


def test_case_sensitive_pool_keeps_differently_cased_usernames_apart(db):
    pool = factories.make_pool(case_sensitive=True)
    _sign_up(pool, username="Alice")
    _sign_up(pool, username="alice", email="a2@example.com")
    assert User.objects.filter(pool=pool).count() == 2


def test_failed_sign_up_is_recorded(pool):
    factories.make_user(pool, "alice")
    with pytest.raises(UsernameExistsException):
        _sign_up(pool)
    event = AuthEvent.objects.get(pool=pool, event_type=AuthEvent.Type.SIGN_UP)
    assert event.success is False and event.reason == "UsernameExistsException"


def test_successful_sign_up_is_recorded_with_its_context(pool):
    result = _sign_up(pool)
    event = AuthEvent.objects.get(pool=pool, event_type=AuthEvent.Type.SIGN_UP)
    assert event.success and event.user_id == result.user.pk and event.ip == "127.0.0.1"


def test_without_auto_verification_nothing_is_sent_and_the_user_waits_for_an_admin(db):
    pool = factories.make_pool(auto_verified_attributes=[])
    result = _sign_up(pool)
    assert result.delivery is None
    assert mail.outbox == []
    assert User.objects.get(pk=result.user.pk).status == UserStatus.UNCONFIRMED


def test_auto_verified_phone_gets_the_code_by_sms(db):
    pool = factories.make_pool(
        required_attributes=[], auto_verified_attributes=["email", "phone_number"]
    )
    result = _sign_up(
        pool, attributes={"email": "alice@example.com", "phone_number": "+15555550123"}
    )
    assert result.delivery.medium == "SMS" and result.delivery.attribute == "phone_number"
    assert result.delivery.destination.endswith("0123")
    code = _texted_code("+15555550123")
    user = confirm_sign_up(pool=pool, username="alice", code=code, context=CTX)
    assert user.phone_number_verified is True and user.email_verified is False


def test_failed_delivery_undoes_the_sign_up(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    pool = factories.make_pool()
    with pytest.raises(CodeDeliveryFailureException):
        _sign_up(pool)
    assert not User.objects.filter(pool=pool).exists()
    event = AuthEvent.objects.get(pool=pool, event_type=AuthEvent.Type.SIGN_UP)
    assert event.success is False and event.reason == "CodeDeliveryFailureException"


class _TransactionProbeBackend(BaseEmailBackend):
    """Records whether a database transaction was open while a message was being sent."""

    seen: list[bool] = []

    def send_messages(self, email_messages):
        _TransactionProbeBackend.seen.append(connection.in_atomic_block)
        return len(email_messages)


@pytest.mark.django_db(transaction=True)
def test_sign_up_sends_its_email_outside_any_transaction(settings):
    """No database write lock is held for the length of a mail exchange."""
    settings.EMAIL_BACKEND = f"{__name__}._TransactionProbeBackend"
    _TransactionProbeBackend.seen = []
    _sign_up(factories.make_pool())
    assert _TransactionProbeBackend.seen == [False]


# ------------------------------------------------------------------------------ username attributes


def test_email_username_makes_the_sub_the_username(db):
    pool = factories.make_pool(username_attributes=["email"])
    result = _sign_up(pool, username="Alice@Example.com", email=None)
    user = User.objects.get(pk=result.user.pk)
    assert user.username == str(user.sub)
    assert user.email == "Alice@Example.com"
    assert user.email_key == "alice@example.com"


def test_username_attribute_pool_refuses_a_plain_username(db):
    pool = factories.make_pool(username_attributes=["email"])
    with pytest.raises(InvalidParameterException) as caught:
        _sign_up(pool, username="alice", email=None)
    assert caught.value.message == "Username should be an email."


def test_phone_username_pool_accepts_a_phone_number(db):
    pool = factories.make_pool(
        username_attributes=["email", "phone_number"],
        required_attributes=[],
        auto_verified_attributes=["phone_number"],
    )
    result = _sign_up(pool, username="+15555550199", email=None)
    assert result.user.phone_number == "+15555550199"
    assert result.user.phone_number_key == "+15555550199"
    assert result.delivery.medium == "SMS"


def test_taken_username_email_is_refused_case_insensitively(db):
    pool = factories.make_pool(username_attributes=["email"])
    _sign_up(pool, username="alice@example.com", email=None)
    with pytest.raises(UsernameExistsException) as caught:
        _sign_up(pool, username="ALICE@example.com", email=None)
    assert caught.value.message == "An account with the given email already exists."


def test_email_attribute_must_match_an_email_username(db):
    pool = factories.make_pool(username_attributes=["email"])
    with pytest.raises(InvalidParameterException):
        _sign_up(pool, username="alice@example.com", email="bob@example.com")


def test_email_username_confirms_by_email(db):
    pool = factories.make_pool(username_attributes=["email"])
    _sign_up(pool, username="alice@example.com", email=None)
    code = emailed_code("alice@example.com")
    user = confirm_sign_up(pool=pool, username="alice@example.com", code=code, context=CTX)
    assert user.status == UserStatus.CONFIRMED


# ------------------------------------------------------------------------------ aliases


def test_email_shaped_username_is_refused_when_email_is_an_alias(db):
    pool = factories.make_pool(alias_attributes=["email"])
    with pytest.raises(InvalidParameterException) as caught:
        _sign_up(pool, username="alice@example.com")
    assert "email alias" in caught.value.message


def test_phone_shaped_username_is_refused_when_phone_is_an_alias(db):
    pool = factories.make_pool(alias_attributes=["phone_number"])
    with pytest.raises(InvalidParameterException) as caught:
        _sign_up(pool, username="+15555550100")
    assert "phone number alias" in caught.value.message


def test_alias_is_not_usable_before_confirmation(db):
    pool = factories.make_pool(alias_attributes=["email"])
    result = _sign_up(pool)
    assert result.user.email_key is None
    assert find_for_sign_in(pool, "alice@example.com") is None


def test_confirmation_makes_the_verified_email_an_alias(db):
    pool = factories.make_pool(alias_attributes=["email"])
    _sign_up(pool, email="Alice@Example.com")
    confirm_sign_up(
        pool=pool, username="alice", code=emailed_code("Alice@Example.com"), context=CTX
    )
    assert find_for_sign_in(pool, "alice@EXAMPLE.com").username == "alice"


def test_duplicate_alias_is_accepted_at_sign_up(db):
    pool = factories.make_pool(alias_attributes=["email"])
    factories.make_user(pool, "owner", email="shared@example.com")
    result = _sign_up(pool, email="shared@example.com")
    assert result.user.status == UserStatus.UNCONFIRMED


def test_duplicate_alias_is_refused_at_confirmation_and_the_code_stays_valid(db):
    pool = factories.make_pool(alias_attributes=["email"])
    factories.make_user(pool, "owner", email="shared@example.com")
    _sign_up(pool, email="Shared@example.com")
    code = emailed_code("Shared@example.com")
    with pytest.raises(AliasExistsException):
        confirm_sign_up(pool=pool, username="alice", code=code, context=CTX)
    assert User.objects.get(username="alice").status == UserStatus.UNCONFIRMED
    user = confirm_sign_up(
        pool=pool, username="alice", code=code, context=CTX, force_alias_creation=True
    )
    assert user.status == UserStatus.CONFIRMED


def test_forced_alias_creation_moves_the_alias(db):
    pool = factories.make_pool(alias_attributes=["email"])
    owner = factories.make_user(pool, "owner", email="shared@example.com")
    _sign_up(pool, email="shared@example.com")
    code = emailed_code("shared@example.com")
    confirm_sign_up(pool=pool, username="alice", code=code, context=CTX, force_alias_creation=True)
    owner.refresh_from_db()
    assert owner.email_key is None and owner.email_verified is False
    assert find_for_sign_in(pool, "shared@example.com").username == "alice"


def test_preferred_username_alias_signs_in_once_confirmed(db):
    pool = factories.make_pool(alias_attributes=["preferred_username"])
    _sign_up(pool, attributes={"email": "alice@example.com", "preferred_username": "Ally"})
    assert find_for_sign_in(pool, "ally") is None
    code = emailed_code("alice@example.com")
    confirm_sign_up(pool=pool, username="alice", code=code, context=CTX)
    assert find_for_sign_in(pool, "ally").username == "alice"


def test_preferred_username_alias_is_unique_case_insensitively(db):
    """A second account may sign up with a preferred_username someone holds; its confirmation
    is refused, as for any alias (Cognito checks aliases at confirmation)."""
    pool = factories.make_pool(alias_attributes=["preferred_username"])
    _sign_up(pool, attributes={"email": "alice@example.com", "preferred_username": "Ally"})
    confirm_sign_up(
        pool=pool, username="alice", code=emailed_code("alice@example.com"), context=CTX
    )
    _sign_up(
        pool, username="bob", attributes={"email": "bob@example.com", "preferred_username": "ALLY"}
    )
    with pytest.raises(AliasExistsException):
        confirm_sign_up(
            pool=pool, username="bob", code=emailed_code("bob@example.com"), context=CTX
        )
    assert find_for_sign_in(pool, "ally").username == "alice"


# ------------------------------------------------------------------------------ confirm_sign_up


def test_wrong_code_is_a_code_mismatch(pool):
    _sign_up(pool)
    right = emailed_code("alice@example.com")
    wrong = wrong_code(right)
    with pytest.raises(CodeMismatchException):
        confirm_sign_up(pool=pool, username="alice", code=wrong, context=CTX)


def test_sign_up_code_expires_after_24_hours(legacy_pool):
    pool = legacy_pool
    clock.freeze()
    _sign_up(pool)
    code = emailed_code("alice@example.com")
    clock.advance(hours=24, seconds=1)
    with pytest.raises(ExpiredCodeException):
        confirm_sign_up(pool=pool, username="alice", code=code, context=CTX)


def test_sign_up_code_still_works_just_before_24_hours(pool):
    clock.freeze()
    _sign_up(pool)
    code = emailed_code("alice@example.com")
    clock.advance(hours=23, minutes=59)
    assert confirm_sign_up(pool=pool, username="alice", code=code, context=CTX).confirmed


def test_too_many_wrong_codes_void_the_code(legacy_pool):
    pool = legacy_pool
    _sign_up(pool)
    right = emailed_code("alice@example.com")
    wrong = wrong_code(right)
    for _ in range(5):
        with pytest.raises(CodeMismatchException):
            confirm_sign_up(pool=pool, username="alice", code=wrong, context=CTX)
    with pytest.raises(LimitExceededException):
        confirm_sign_up(pool=pool, username="alice", code=right, context=CTX)


def test_confirm_is_capped_at_15_an_hour(pool):
    clock.freeze()
    _sign_up(pool)
    for _ in range(15):
        with pytest.raises((CodeMismatchException, ExpiredCodeException, LimitExceededException)):
            confirm_sign_up(pool=pool, username="alice", code="not-it", context=CTX)
    resend_confirmation_code(pool=pool, username="alice", context=CTX)
    with pytest.raises(LimitExceededException):
        confirm_sign_up(
            pool=pool, username="alice", code=emailed_code("alice@example.com"), context=CTX
        )


def test_confirmed_user_cannot_be_confirmed_again(legacy_pool):
    pool = legacy_pool
    factories.make_user(pool, "bob")
    with pytest.raises(NotAuthorizedException) as caught:
        confirm_sign_up(pool=pool, username="bob", code="123456", context=CTX)
    assert caught.value.message == "User cannot be confirmed. Current status is CONFIRMED"


def test_confirming_an_unknown_user_looks_like_a_wrong_code(pool):
    with pytest.raises(CodeMismatchException):
        confirm_sign_up(pool=pool, username="nobody", code="123456", context=CTX)


def test_confirming_an_unknown_user_is_user_not_found_in_legacy_pools(db):
    pool = factories.make_pool(prevent_user_existence_errors=False)
    with pytest.raises(UserNotFoundException):
        confirm_sign_up(pool=pool, username="nobody", code="123456", context=CTX)


def test_confirmation_is_recorded(pool):
    _sign_up(pool)
    confirm_sign_up(
        pool=pool, username="alice", code=emailed_code("alice@example.com"), context=CTX
    )
    assert AuthEvent.objects.filter(
        pool=pool, event_type=AuthEvent.Type.CONFIRM_SIGN_UP, success=True
    ).exists()


def test_confirm_accepts_the_username_in_any_case(pool):
    _sign_up(pool)
    code = emailed_code("alice@example.com")
    assert confirm_sign_up(pool=pool, username="ALICE", code=code, context=CTX).confirmed


# ------------------------------------------------------------------------------ resend


def test_resend_sends_a_new_code_and_voids_the_old_one(pool):
    _sign_up(pool)
    first = emailed_code("alice@example.com")
    delivery = resend_confirmation_code(pool=pool, username="alice", context=CTX)
    second = emailed_code("alice@example.com")
    assert delivery.destination == "a***@e***" and len(mail.outbox) == 2
    if first != second:
        with pytest.raises(CodeMismatchException):
            confirm_sign_up(pool=pool, username="alice", code=first, context=CTX)
    assert confirm_sign_up(pool=pool, username="alice", code=second, context=CTX).confirmed


def test_resent_code_reaches_the_mailbox(db, smtp_sink):
    pool = factories.make_pool()
    factories.make_user(pool, "carol", status=UserStatus.UNCONFIRMED)
    resend_confirmation_code(pool=pool, username="carol", context=CTX)
    body = smtp_sink.body(smtp_sink.wait_for("carol@example.com"))
    assert re.search(r"\d{6}", body)


def test_resend_is_capped_at_5_an_hour(pool):
    clock.freeze()
    factories.make_user(pool, "carol", status=UserStatus.UNCONFIRMED)
    for _ in range(5):
        resend_confirmation_code(pool=pool, username="carol", context=CTX)
    with pytest.raises(LimitExceededException):
        resend_confirmation_code(pool=pool, username="carol", context=CTX)
    clock.advance(hours=1)
    resend_confirmation_code(pool=pool, username="carol", context=CTX)


def test_resend_to_an_unknown_user_pretends_and_sends_nothing(pool):
    delivery = resend_confirmation_code(pool=pool, username="ghost", context=CTX)
    again = resend_confirmation_code(pool=pool, username="ghost", context=CTX)
    assert delivery.medium == "EMAIL" and re.fullmatch(r"\w\*\*\*@\w\*\*\*", delivery.destination)
    assert delivery == again
    assert mail.outbox == []


def test_resend_to_an_unknown_user_is_user_not_found_in_legacy_pools(db):
    pool = factories.make_pool(prevent_user_existence_errors=False)
    with pytest.raises(UserNotFoundException):
        resend_confirmation_code(pool=pool, username="ghost", context=CTX)


def test_resend_to_a_confirmed_user_is_refused(legacy_pool):
    pool = legacy_pool
    factories.make_user(pool, "bob")
    with pytest.raises(InvalidParameterException) as caught:
        resend_confirmation_code(pool=pool, username="bob", context=CTX)
    assert caught.value.message == "User is already confirmed."


def test_resend_without_auto_verification_is_refused(db):
    pool = factories.make_pool(auto_verified_attributes=[])
    factories.make_user(pool, "carol", status=UserStatus.UNCONFIRMED)
    with pytest.raises(InvalidParameterException):
        resend_confirmation_code(pool=pool, username="carol", context=CTX)
