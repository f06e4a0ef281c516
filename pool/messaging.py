"""Delivering codes and invitations: email through Django's email backend (multipart: a text
and an HTML part, see pool.email_body), SMS through a pluggable sender (settings.SMS_SENDER:
the dev outbox, or Amazon SNS through boto3). The outbox variants keep messages in the database so a
developer can read codes in the console without a mail server or an SMS provider; their subject
and body are encrypted at rest (pool.models.fields.EncryptedTextField), since they hold codes
and temporary passwords."""

from __future__ import annotations

import contextvars
import logging
from functools import cache
from typing import Protocol
from urllib.parse import quote, quote_plus

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
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


class _HideMessageText(logging.Filter):
    """Blanks a log record that would print the SMS being sent: botocore logs each request's
    parameters (the message, so the code) at DEBUG. Attached to the loggers that do."""

    sending: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
        "sms_text_being_sent", default=()
    )

    def filter(self, record: logging.LogRecord) -> bool:
        forms = self.sending.get()
        if forms:
            text = record.getMessage()
            if any(form in text for form in forms):
                record.msg, record.args = (
                    "%s: [log line withheld: it held an SMS text]",
                    (record.name,),
                )
        return True


_hide_message_text = _HideMessageText()
# Every logger that may write an outgoing request's body, parameters or wire data.
_REQUEST_LOGGERS = (
    "botocore.endpoint",
    "botocore.parsers",
    "botocore.hooks",
    "botocore.auth",
    "botocore.awsrequest",
    "botocore.httpsession",
    "botocore.retryhandler",
    "botocore.retries.standard",
    "urllib3.connectionpool",
)


class SnsSmsSender:
    """Sends SMS through Amazon SNS's Publish (boto3). Settings (config/settings.py, from the
    environment): SNS_REGION, SNS_ENDPOINT_URL (an SNS-compatible endpoint, or a test server),
    SNS_SENDER_ID, SNS_SMS_TYPE (Transactional by default: codes are time-critical),
    SNS_ORIGINATION_NUMBER; credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY, a profile, an instance role). One attempt with short timeouts: the
    user waits for the answer, and a failure becomes CodeDeliveryFailureException."""

    def __init__(self) -> None:
        import boto3
        from botocore.config import Config

        self._client = boto3.client(
            "sns",
            region_name=settings.SNS_REGION or None,
            endpoint_url=settings.SNS_ENDPOINT_URL or None,
            config=Config(
                connect_timeout=5,
                read_timeout=5,
                retries={"total_max_attempts": 1, "mode": "standard"},
            ),
        )
        for name in _REQUEST_LOGGERS:
            logging.getLogger(name).addFilter(_hide_message_text)

    def _attributes(self) -> dict[str, dict[str, str]]:
        wanted = {
            "AWS.SNS.SMS.SMSType": settings.SNS_SMS_TYPE,
            "AWS.SNS.SMS.SenderID": settings.SNS_SENDER_ID,
            "AWS.MM.SMS.OriginationNumber": settings.SNS_ORIGINATION_NUMBER,
        }
        return {
            name: {"DataType": "String", "StringValue": value}
            for name, value in wanted.items()
            if value
        }

    def send(self, phone_number: str, message: str) -> None:
        # The forms in which the text can show up in a log line: as is, repr'd inside a dict,
        # form-encoded in a request body.
        forms = tuple(
            form
            for form in {message, repr(message)[1:-1], quote_plus(message), quote(message)}
            if form
        )
        token = _HideMessageText.sending.set(forms)
        try:
            self._client.publish(
                PhoneNumber=phone_number,
                Message=message,
                MessageAttributes=self._attributes(),
            )
        finally:
            _HideMessageText.sending.reset(token)


@cache
def sms_sender() -> SmsSender:
    return import_string(settings.SMS_SENDER)()


def send_email(to: str, subject: str, body: str, *, from_email: str = "", html: str = "") -> None:
    """Send `body` as the text part and `html`, when given, as the HTML alternative."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=get_connection(),
    )
    if html:
        message.attach_alternative(html, "text/html")
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
