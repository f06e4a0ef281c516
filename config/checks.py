"""Start-up checks on the configuration: Django system checks (tag "cognate") that every
`manage.py` command that runs checks (check, migrate, runserver, bootstrap, ...) reports, and that
config/wsgi.py runs before gunicorn serves a request (`refuse_to_start_on_errors`).

- cognate.E001: EMAIL_URL cannot be read (config/email.py says what to write).
- cognate.E002: DEBUG is off and email goes to a development backend (outbox://, console://,
  locmem://): codes and temporary passwords would reach nobody, so the server refuses to start.
  There is no opt-out: a deployment without a mail server runs with DEBUG=1 knowingly.
- cognate.E003: COGNATE_DEFAULT_REGION is not a region pool ids can carry (1-32 lower-case
  letters, digits or hyphens): every pool created in the console or by a command would be refused.
- cognate.E004: SMS_SENDER is the Amazon SNS sender and no region is configured (SNS_REGION, or
  boto3's own AWS_DEFAULT_REGION / profile): every SMS would fail.
- cognate.W001: DEBUG is off and SMS goes to the dev outbox (SMS_SENDER's default): a pool that
  sends codes by SMS reaches nobody.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register, run_checks
from django.core.exceptions import ImproperlyConfigured

from config.email import LOCAL_BACKENDS

log = logging.getLogger(__name__)
TAG = "cognate"
OUTBOX_SMS_SENDER = "pool.messaging.OutboxSmsSender"
SNS_SMS_SENDER = "pool.messaging.SnsSmsSender"


@register(TAG)
def check_email(app_configs=None, **kwargs) -> list[CheckMessage]:
    if getattr(settings, "EMAIL_URL_ERROR", ""):
        return [
            Error(
                settings.EMAIL_URL_ERROR,
                hint="Example: EMAIL_URL=smtps://user:pa%2Fss@smtp.example.com:465",
                id="cognate.E001",
            )
        ]
    if not settings.DEBUG and settings.EMAIL_BACKEND in LOCAL_BACKENDS:
        return [
            Error(
                f"Email goes to {settings.EMAIL_BACKEND} while DEBUG is off: "
                "verification codes and temporary passwords would reach nobody.",
                hint="Set EMAIL_URL to your mail server (smtp://... or smtps://...). "
                "outbox://, console:// and locmem:// are for development, with DEBUG=1.",
                id="cognate.E002",
            )
        ]
    return []


@register(TAG)
def check_sms(app_configs=None, **kwargs) -> list[CheckMessage]:
    if not settings.DEBUG and settings.SMS_SENDER == OUTBOX_SMS_SENDER:
        return [
            Warning(
                "SMS messages go to the dev outbox while DEBUG is off: codes sent by SMS reach "
                "nobody.",
                hint="Set SMS_SENDER to your provider's sender class if any pool sends SMS.",
                id="cognate.W001",
            )
        ]
    if settings.SMS_SENDER == SNS_SMS_SENDER and not _sns_region():
        return [
            Error(
                "SMS_SENDER is the Amazon SNS sender but no AWS region is configured: every SMS "
                "would fail.",
                hint="Set SNS_REGION (e.g. eu-west-1).",
                id="cognate.E004",
            )
        ]
    return []


def _sns_region() -> str:
    if settings.SNS_REGION:
        return settings.SNS_REGION
    import boto3

    return boto3.session.Session().region_name or ""


@register(TAG)
def check_default_region(app_configs=None, **kwargs) -> list[CheckMessage]:
    from pool.services.pools import REGION_PATTERN

    region = settings.DEFAULT_REGION
    if isinstance(region, str) and REGION_PATTERN.match(region):
        return []
    return [
        Error(
            f"COGNATE_DEFAULT_REGION={region!r} cannot prefix a pool id.",
            hint="Use 1-32 lower-case letters, digits or hyphens, e.g. eu-west-1 or local.",
            id="cognate.E003",
        )
    ]


def startup_problems() -> list[CheckMessage]:
    """This module's checks, as the server runs them at start."""
    return run_checks(tags=[TAG])


def refuse_to_start_on_errors() -> None:
    """Raise ImproperlyConfigured, with every error's message and hint, if a check fails;
    log warnings. Called by config/wsgi.py, so gunicorn refuses to serve."""
    problems = startup_problems()
    errors = [problem for problem in problems if problem.is_serious()]
    for problem in problems:
        if not problem.is_serious():
            log.warning("%s", problem)
    if errors:
        raise ImproperlyConfigured(
            "Cognate refuses to start:\n" + "\n".join(f"  {problem}" for problem in errors)
        )
