"""Configuration that would leak or lose codes: EMAIL_URL read as written (percent-decoded user
and password, a clear error for a URL that cannot be read), a development email backend refused
at start when DEBUG is off (system check and gunicorn's config.wsgi), and the dev outbox's
messages encrypted at rest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.mail import send_mail
from django.db import connection
from django.urls import reverse

from config.checks import TAG
from config.email import EmailUrlError, email_settings, settings_or_error
from pool import messaging
from pool.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
SES_PASSWORD = "BEx/ab+cd/EF12+gh"


# ------------------------------------------------------------------------------- EMAIL_URL


def test_smtp_user_and_password_are_percent_decoded():
    parsed = email_settings("smtps://AKIA%2Fuser:BEx%2Fab%2Bcd%2FEF12%2Bgh@email-smtp.example.com")
    assert parsed["EMAIL_HOST_USER"] == "AKIA/user"
    assert parsed["EMAIL_HOST_PASSWORD"] == SES_PASSWORD
    assert parsed["EMAIL_HOST"] == "email-smtp.example.com" and parsed["EMAIL_PORT"] == 465


def test_a_raw_plus_in_the_password_is_kept():
    assert email_settings("smtp://u:a+b@mail.example.com:587?tls=1")["EMAIL_HOST_PASSWORD"] == (
        "a+b"
    )


def test_starttls_option_and_default_ports():
    assert email_settings("smtp://mail.example.com?tls=1")["EMAIL_USE_TLS"] is True
    assert email_settings("smtp://mail.example.com")["EMAIL_PORT"] == 25
    assert email_settings("smtp://mail.example.com")["EMAIL_USE_TLS"] is False


@pytest.mark.parametrize(
    "url",
    [
        "smtps://user:Zq/Wv+Xy@email-smtp.example.com:465",  # raw / cuts the URL at a "port"
        "smtps://user:12/Zq@email-smtp.example.com:465",  # raw / after digits: a path
        "smtps://user:Zq?Wv@email-smtp.example.com",  # raw ? starts a query
        "smtps://user:Zq#Wv@email-smtp.example.com",  # raw # starts a fragment
        "smtp://mail.example.com:99999",
    ],
)
def test_an_unreadable_smtp_url_says_to_percent_encode_and_quotes_no_password(url):
    with pytest.raises(EmailUrlError, match="Percent-encode") as caught:
        email_settings(url)
    assert "Zq" not in str(caught.value) and "Wv" not in str(caught.value)


def test_an_unknown_scheme_lists_the_known_ones():
    with pytest.raises(EmailUrlError, match="smtps://"):
        email_settings("ses://region")


def test_an_unreadable_url_is_a_check_error_and_a_refusing_backend(settings, db):
    for name, value in settings_or_error("smtps://user:BEx/ab@host").items():
        setattr(settings, name, value)
    errors = run_checks(tags=[TAG])
    assert [e.id for e in errors if e.is_serious()] == ["cognate.E001"]
    with pytest.raises(Exception, match="Percent-encode"):
        send_mail("s", "b", "from@example.com", ["to@example.com"])


# ---------------------------------------------------------------- development email, DEBUG off


@pytest.mark.parametrize(
    "url", ["outbox://", "console://", "locmem://"], ids=["outbox", "console", "locmem"]
)
def test_a_development_email_backend_is_an_error_without_debug(settings, url):
    settings.DEBUG = False
    settings.EMAIL_URL = url
    settings.EMAIL_BACKEND = email_settings(url)["EMAIL_BACKEND"]
    assert "cognate.E002" in [e.id for e in run_checks(tags=[TAG]) if e.is_serious()]


def test_a_development_email_backend_is_fine_with_debug(settings):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "pool.messaging.OutboxEmailBackend"
    assert run_checks(tags=[TAG]) == []


def test_smtp_without_debug_passes_and_the_sms_outbox_is_warned(settings):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SMS_SENDER = "pool.messaging.OutboxSmsSender"
    problems = run_checks(tags=[TAG])
    assert [(p.id, p.is_serious()) for p in problems] == [("cognate.W001", False)]


def test_the_sns_sms_sender_without_a_region_is_an_error(settings, monkeypatch):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SMS_SENDER = "pool.messaging.SnsSmsSender"
    settings.SNS_REGION = ""
    problems = run_checks(tags=[TAG])
    assert [(p.id, p.is_serious()) for p in problems] == [("cognate.E004", True)]
    settings.SNS_REGION = "eu-west-1"
    assert run_checks(tags=[TAG]) == []


def start_wsgi(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Import config.wsgi as gunicorn does, in a scratch var dir, with `env` over a clean one."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "EMAIL_URL")}
    clean.pop("DEBUG", None)
    clean.update(COGNATE_VAR_DIR=str(tmp_path), SECRET_KEY="wsgi-test-" + "k" * 40, **env)
    return subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_gunicorn_start_refuses_the_default_email_without_debug(tmp_path):
    started = start_wsgi(tmp_path, DEBUG="0")
    assert started.returncode != 0
    assert "cognate.E002" in started.stderr and "refuses to start" in started.stderr


def test_gunicorn_start_refuses_an_unreadable_email_url(tmp_path):
    started = start_wsgi(tmp_path, DEBUG="1", EMAIL_URL=f"smtps://user:{SES_PASSWORD}@host")
    assert started.returncode != 0 and "cognate.E001" in started.stderr
    assert SES_PASSWORD not in started.stderr


def test_gunicorn_starts_with_smtp_without_debug_and_with_the_outbox_in_debug(tmp_path):
    assert start_wsgi(tmp_path, DEBUG="0", EMAIL_URL="smtp://127.0.0.1:2525").returncode == 0
    assert start_wsgi(tmp_path, DEBUG="1").returncode == 0


def test_make_run_migrates_with_the_serving_environment():
    """`make run` runs migrate (which runs the checks) with DEBUG=1, as it serves."""
    dry_run = subprocess.run(
        ["make", "-n", "migrate"], cwd=ROOT, capture_output=True, text=True, timeout=60
    ).stdout
    migrate = next(line for line in dry_run.splitlines() if "manage.py migrate" in line)
    assert "DEBUG=1" in migrate


# ------------------------------------------------------------------------ outbox at rest


def raw_outbox_rows() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT subject, body FROM pool_outboxmessage")
        return list(cursor.fetchall())


@pytest.mark.django_db
def test_outbox_email_is_encrypted_at_rest(settings):
    settings.EMAIL_BACKEND = "pool.messaging.OutboxEmailBackend"
    messaging.send_email("ada@example.com", "Your code 482913", "Your code is 482913")
    ((subject, body),) = raw_outbox_rows()
    assert "482913" not in subject and "482913" not in body
    message = OutboxMessage.objects.get()
    assert message.subject == "Your code 482913" and message.body == "Your code is 482913"


@pytest.mark.django_db
def test_outbox_sms_is_encrypted_at_rest():
    messaging.OutboxSmsSender().send("+15555550123", "Your temporary password is Tmp-Pass-77")
    ((_, body),) = raw_outbox_rows()
    assert "Tmp-Pass-77" not in body
    assert OutboxMessage.objects.get().body.endswith("Tmp-Pass-77")


@pytest.mark.django_db
def test_dev_outbox_page_shows_the_decrypted_message(settings):
    from tests.console.conftest import make_operator, verified_client

    settings.DEBUG = True
    console = verified_client(make_operator("ops", can_change=True))
    messaging.OutboxSmsSender().send("+15555550123", "Your code is 604211")
    assert "604211" in console.get(reverse("console:outbox")).content.decode()


@pytest.mark.django_db
def test_console_shows_the_start_up_warnings_to_operators(settings):
    from tests.console.conftest import make_operator, verified_client

    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SMS_SENDER = "pool.messaging.OutboxSmsSender"
    console = verified_client(make_operator("ops", can_change=True))
    page = console.get(reverse("console:index")).content.decode()
    assert "SMS messages go to the dev outbox while DEBUG is off" in page
    settings.SMS_SENDER = "tests.example.Sender"
    assert "Configuration:" not in console.get(reverse("console:index")).content.decode()


def test_smtp_without_a_host_means_localhost():
    assert email_settings("smtp://")["EMAIL_HOST"] == "localhost"
