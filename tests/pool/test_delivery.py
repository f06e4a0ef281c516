"""Every code and message leaves through pool.services.delivery, with the pool's template for
its purpose: sign-up, resend, forgot password, attribute verification, invitation, MFA code."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from pool.errors import CodeDeliveryFailureException, InvalidParameterException
from pool.models import OutboxMessage, UserStatus
from pool.services import admin, attributes, codes, delivery, passwords, sign_up
from pool.services.results import CodeDelivery, RequestContext
from tests import factories
from tests.pool.helpers import code_in

CTX = RequestContext(source="api")


@pytest.fixture
def pool(db):
    """A pool whose every template is recognisable, auto-verifying email and phone."""
    return factories.make_pool(
        auto_verified_attributes=["email", "phone_number"],
        verification_email_subject="Code for {username}",
        verification_email_message="VERIFY {####} for {username}",
        verification_sms_message="SMS-VERIFY {####}",
        invitation_email_subject="Welcome {username}",
        invitation_email_message="INVITE {username} / {####}",
        mfa_message="MFA {####} for {username}",
        email_from="no-reply@cognate.test",
    )


def only_email(outbox, to: str):
    [message] = [m for m in outbox if to in m.to]
    return message


def only_sms(to: str) -> OutboxMessage:
    return OutboxMessage.objects.get(channel=OutboxMessage.Channel.SMS, to=to)


def assert_verification_email(outbox, to: str, username: str) -> str:
    message = only_email(outbox, to)
    code = code_in(message.body)
    assert message.subject == f"Code for {username}"
    assert message.body == f"VERIFY {code} for {username}"
    assert message.from_email == "no-reply@cognate.test"
    return code


# ------------------------------------------------------------------ each purpose, end to end


def test_sign_up_code_uses_the_verification_template(pool, mailoutbox):
    result = sign_up.sign_up(
        pool=pool,
        username="newbie",
        password=factories.PASSWORD,
        attributes={"email": "newbie@example.com"},
        context=CTX,
    )
    assert_verification_email(mailoutbox, "newbie@example.com", "newbie")
    assert result.delivery == CodeDelivery("n***@e***", "EMAIL", "email")


def test_resent_sign_up_code_uses_the_verification_template(pool, mailoutbox):
    factories.make_user(pool, "newbie", status=UserStatus.UNCONFIRMED)
    sent = sign_up.resend_confirmation_code(pool=pool, username="newbie", context=CTX)
    assert_verification_email(mailoutbox, "newbie@example.com", "newbie")
    assert sent == CodeDelivery("n***@e***", "EMAIL", "email")


def test_forgot_password_code_uses_the_verification_template(pool, mailoutbox):
    factories.make_user(pool, "alice")
    passwords.forgot_password(pool=pool, username="alice", context=CTX)
    assert_verification_email(mailoutbox, "alice@example.com", "alice")


def test_admin_reset_code_uses_the_verification_template(pool, mailoutbox):
    user = factories.make_user(pool, "alice")
    passwords.admin_reset_password(user=user, context=CTX)
    assert_verification_email(mailoutbox, "alice@example.com", "alice")


def test_changed_email_gets_its_code_with_the_verification_template(pool, mailoutbox):
    user = factories.make_user(pool, "alice")
    attributes.update_attributes(user=user, attributes={"email": "new@example.com"}, context=CTX)
    assert_verification_email(mailoutbox, "new@example.com", "alice")


def test_phone_verification_code_uses_the_sms_template(pool):
    user = factories.make_user(pool, "alice", phone_number="+15555550177")
    sent = attributes.send_attribute_verification_code(
        user=user, attribute="phone_number", context=CTX
    )
    sms = only_sms("+15555550177")
    assert sms.body == f"SMS-VERIFY {code_in(sms.body)}"
    assert sent == CodeDelivery("+*******0177", "SMS", "phone_number")


def test_invitation_uses_the_invitation_template_with_the_sign_in_name(pool, mailoutbox):
    user, password = admin.admin_create_user(
        pool=pool, username="newbie", attributes={"email": "newbie@example.com"}, context=CTX
    )
    message = only_email(mailoutbox, "newbie@example.com")
    assert message.subject == "Welcome newbie"
    assert message.body == f"INVITE newbie / {password}"
    assert message.from_email == "no-reply@cognate.test"


def test_invitation_by_sms_carries_the_invitation_text(pool):
    _, password = admin.admin_create_user(
        pool=pool,
        username="newbie",
        attributes={"email": "newbie@example.com", "phone_number": "+15555550100"},
        delivery=("SMS",),
        context=CTX,
    )
    assert only_sms("+15555550100").body == f"INVITE newbie / {password}"


def test_reinvitation_to_a_missing_phone_sends_nothing(pool, mailoutbox):
    user, first = admin.admin_create_user(
        pool=pool, username="newbie", attributes={"email": "newbie@example.com"}, context=CTX
    )
    mailoutbox.clear()
    with pytest.raises(InvalidParameterException):
        admin.admin_create_user(
            pool=pool,
            username="newbie",
            message_action="RESEND",
            delivery=("EMAIL", "SMS"),
            context=CTX,
        )
    # No email with a temporary password that was then rolled back.
    assert mailoutbox == [] and not OutboxMessage.objects.exists()
    user.refresh_from_db()
    assert passwords.verify(user, first)


def test_sms_mfa_code_uses_the_mfa_message(pool):
    user = factories.make_user(pool, "alice", phone_number="+15555550123")
    code = codes.issue(user, "MFA_SMS", destination=user.phone_number)
    sent = delivery.send_mfa_code(user, "SMS_MFA", code)
    assert only_sms("+15555550123").body == f"MFA {code} for alice"
    assert sent == CodeDelivery("+*******0123", "SMS", "phone_number")


def test_email_mfa_code_uses_the_mfa_message_and_sign_in_subject(pool, smtp_sink):
    user = factories.make_user(pool, "alice")
    code = codes.issue(user, "MFA_EMAIL", destination=user.email)
    sent = delivery.send_mfa_code(user, "EMAIL_OTP", code)
    message = smtp_sink.wait_for("alice@example.com")
    assert message["Subject"] == "Your sign-in code"
    assert message["From"] == "no-reply@cognate.test"
    assert smtp_sink.body(message).strip() == f"MFA {code} for alice"
    assert sent == CodeDelivery("a***@e***", "EMAIL", "email")


def test_a_message_that_cannot_leave_is_a_delivery_failure(pool, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on discard
    user = factories.make_user(pool, "alice")
    with pytest.raises(CodeDeliveryFailureException):
        delivery.send_code(user, source=delivery.Source.FORGOT_PASSWORD, attribute="email")


def test_each_source_has_templates(pool):
    for source in delivery.Source:
        for medium in ("EMAIL", "SMS"):
            subject, body = delivery.templates(pool, source, medium)
            assert "{####}" in body, (source, medium)


# ------------------------------------------------------------------------- one way out


def test_only_the_delivery_service_sends():
    """No service calls pool.messaging's senders but delivery.py: the custom-message and
    custom-sender triggers hook in there, so a message sent around it would skip them."""
    services = Path(settings.BASE_DIR) / "pool" / "services"
    senders = {
        path.name
        for path in services.glob("*.py")
        if "send_email(" in path.read_text() or "send_sms(" in path.read_text()
    }
    assert senders == {"delivery.py"}
