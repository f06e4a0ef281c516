"""Delivering codes and invitations: email through Django's email backend, SMS through a
pluggable sender (settings.SMS_SENDER). The outbox variants keep messages in the database so a
developer can read codes in the console without a mail server or an SMS provider; their subject
and body are encrypted at rest (pool.models.fields.EncryptedTextField), since they hold codes
and temporary passwords."""

from __future__ import annotations

import logging
from functools import cache
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.module_loading import import_string

from pool.errors import CodeDeliveryFailureException

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, phone_number: str, message: str) -> None: ...


class OutboxSmsSender:
    """Keeps SMS messages in the dev outbox."""

    def send(self, phone_number: str, message: str) -> None:
        from pool.models import OutboxMessage

        OutboxMessage.objects.create(
            channel=OutboxMessage.Channel.SMS, to=phone_number, body=message
        )


class OutboxEmailBackend(BaseEmailBackend):
    """Django email backend that keeps messages in the dev outbox instead of sending them."""

    def send_messages(self, email_messages):
        from pool.models import OutboxMessage

        for message in email_messages:
            OutboxMessage.objects.create(
                channel=OutboxMessage.Channel.EMAIL,
                to=", ".join(message.to),
                subject=message.subject,
                body=message.body,
            )
        return len(email_messages)


@cache
def sms_sender() -> SmsSender:
    return import_string(settings.SMS_SENDER)()


def send_email(to: str, subject: str, body: str, *, from_email: str = "") -> None:
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=get_connection(),
    )
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP down, refused recipient, ...: say so, never a 500
        log.warning("email delivery failed: %s", type(exc).__name__)
        raise CodeDeliveryFailureException("Unable to deliver the message by email.") from exc


def send_sms(to: str, body: str) -> None:
    try:
        sms_sender().send(to, body)
    except Exception as exc:
        log.warning("sms delivery failed: %s", type(exc).__name__)
        raise CodeDeliveryFailureException("Unable to deliver the message by SMS.") from exc


def mask(destination: str) -> str:
    """Cognito's CodeDeliveryDetails.Destination: `j***@e***` for email, `+*******9878` for SMS."""
    if "@" in destination:
        local, _, domain = destination.partition("@")
        return f"{local[:1]}***@{domain[:1]}***"
    return f"+{'*' * max(len(destination) - 5, 0)}{destination[-4:]}"
