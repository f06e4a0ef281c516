"""EMAIL_URL, read once by config/settings.py: which email backend, and for SMTP where and as whom.

    smtp://user:password@host:port        plain SMTP (localhost:25 by default); ?tls=1 for STARTTLS
    smtps://user:password@host:port       SMTP over TLS (port 465 by default)
    outbox://  console://  locmem://      keep messages on this machine (development only)

The user and password are percent-decoded, so characters that mean something in a URL must be
percent-encoded in them: `/` as %2F, `+` as %2B (a raw `+` is kept as is), `@` as %40, `:` as
%3A, `?` as %3F, `#` as %23, `%` as %25. SES SMTP passwords often contain `/` and `+`.

A URL that cannot be read is not a traceback at import: settings keep the message
(EMAIL_URL_ERROR), sending refuses with it, and the system check cognate.E001 (config/checks.py)
stops `manage.py` commands and gunicorn's start with it.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend

BACKENDS = {
    "outbox": "pool.messaging.OutboxEmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
}
# Backends that keep messages on this machine: codes and temporary passwords reach nobody.
LOCAL_BACKENDS = frozenset(
    {
        BACKENDS["outbox"],
        BACKENDS["console"],
        BACKENDS["locmem"],
        "django.core.mail.backends.dummy.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    }
)
ENCODING_HINT = (
    "Percent-encode special characters in the user and password: / as %2F, + as %2B, "
    "@ as %40, : as %3A, ? as %3F, # as %23, % as %25."
)
MISCONFIGURED_BACKEND = "config.email.MisconfiguredEmailBackend"
TRUE = {"1", "true", "yes", "on"}


class EmailUrlError(ValueError):
    """EMAIL_URL cannot be read; the message says what to write instead."""


def email_settings(url: str) -> dict[str, object]:
    """The EMAIL_* settings that `url` stands for. Raises EmailUrlError with a readable message."""
    try:
        parsed = urlsplit(url)
        port = parsed.port
    except ValueError:
        # Not the parser's message: it quotes the URL's text, which may be part of a password.
        raise EmailUrlError(
            "EMAIL_URL cannot be parsed: what follows the host's ':' is not a port number. "
            f"{ENCODING_HINT}"
        ) from None
    if parsed.scheme not in BACKENDS:
        raise EmailUrlError(
            f"EMAIL_URL must start with one of {', '.join(f'{s}://' for s in sorted(BACKENDS))}"
            f" (got {parsed.scheme + '://' if parsed.scheme else 'no scheme'})."
        )
    settings: dict[str, object] = {"EMAIL_BACKEND": BACKENDS[parsed.scheme]}
    if not parsed.scheme.startswith("smtp"):
        return settings
    if parsed.path not in ("", "/") or "@" in parsed.query or "@" in parsed.fragment:
        # e.g. a raw `/`, `?` or `#` in the password cut the URL short before the host.
        raise EmailUrlError(
            "EMAIL_URL has text after the host that is not an option; a character of the user "
            f"or password probably ended it early. {ENCODING_HINT}"
        )
    options = parse_qs(parsed.query)
    settings.update(
        EMAIL_HOST=parsed.hostname or "localhost",
        EMAIL_PORT=port or (465 if parsed.scheme == "smtps" else 25),
        EMAIL_HOST_USER=unquote(parsed.username or ""),
        EMAIL_HOST_PASSWORD=unquote(parsed.password or ""),
        EMAIL_USE_SSL=parsed.scheme == "smtps",
        EMAIL_USE_TLS=any(value.lower() in TRUE for value in options.get("tls", [])),
        EMAIL_TIMEOUT=10,
    )
    return settings


def settings_or_error(url: str) -> dict[str, object]:
    """email_settings(url), or, for a URL that cannot be read, a backend that refuses to send
    and EMAIL_URL_ERROR for the system check to report."""
    try:
        return {**email_settings(url), "EMAIL_URL_ERROR": ""}
    except EmailUrlError as exc:
        return {"EMAIL_BACKEND": MISCONFIGURED_BACKEND, "EMAIL_URL_ERROR": str(exc)}


class MisconfiguredEmailBackend(BaseEmailBackend):
    """Stands in when EMAIL_URL cannot be read: every send fails with the reason."""

    def send_messages(self, email_messages):
        from django.conf import settings

        raise ImproperlyConfigured(settings.EMAIL_URL_ERROR)
