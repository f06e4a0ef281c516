"""The hosted pages' one table from pool.errors to what the user reads, and where.

Each entry: error class -> (field or None, message or None). A None field means "the field the
error names" (CognitoError.field) and otherwise the top of the form; a None message means the
service's own message, which is already written for people. Every text here is translated
(the page's language, hostedui/i18n.py); a service's own message is shown translated when it is
one of SERVICE_TEXTS, the messages people meet on these pages (in English as the services and
the JSON API word them, Cognito's way).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from pool import errors as domain
from pool import policy
from pool.models import UserPool

CODE_WRONG = _("That code is not right. Check it and try again.")
PAGE_ERRORS: dict[type[domain.CognitoError], tuple[str | None, object | None]] = {
    domain.NotAuthorizedException: ("__all__", None),
    domain.UserNotFoundException: ("__all__", _("Incorrect username or password.")),
    domain.InvalidPasswordException: ("password", None),
    domain.UsernameExistsException: (
        "username",
        _("An account with this username already exists."),
    ),
    domain.AliasExistsException: ("__all__", None),
    domain.CodeMismatchException: ("code", CODE_WRONG),
    domain.EnableSoftwareTokenMFAException: ("code", CODE_WRONG),
    domain.ExpiredCodeException: ("code", _("That code has expired. Ask for a new one.")),
    domain.LimitExceededException: ("__all__", _("Too many attempts. Wait a while and try again.")),
    domain.TooManyRequestsException: ("__all__", _("Too many requests. Wait a moment and retry.")),
    domain.TooManyFailedAttemptsException: ("__all__", _("Too many failed attempts.")),
    domain.CodeDeliveryFailureException: ("__all__", _("We could not send the code. Try later.")),
    domain.InvalidParameterException: (None, None),
    domain.UserNotConfirmedException: ("__all__", _("Confirm your account first.")),
    domain.PasswordResetRequiredException: ("__all__", _("You need to reset your password.")),
    domain.InvalidUserPoolConfigurationException: ("__all__", None),
    domain.MFAMethodNotFoundException: ("__all__", None),
    domain.SoftwareTokenMFANotFoundException: ("__all__", None),
}


# A service's message as the user reads it in the page's language (the key is Cognito's text).
# The services' messages people meet on these pages, in Cognito's wording (the JSON API's): the
# English text is the message itself, the catalogs translate it.
SERVICE_TEXTS = frozenset(
    {
        gettext_noop("Incorrect username or password."),
        gettext_noop("User is disabled."),
        gettext_noop("Password attempts exceeded"),
        gettext_noop("Invalid session for the user."),
        gettext_noop("Invalid session for the user, session is expired."),
        gettext_noop("User already exists"),
        gettext_noop("An account with the given email already exists."),
        gettext_noop("An account with the given phone_number already exists."),
        gettext_noop("Invalid email address format."),
        gettext_noop("Invalid phone number format: use + and digits, e.g. +14325551212."),
        gettext_noop("Password did not conform with policy."),
        gettext_noop("Password did not conform with policy: Password not long enough"),
        gettext_noop(
            "Password did not conform with policy: Password must not begin or end with a space"
        ),
        gettext_noop(
            "Password did not conform with policy: Password must have uppercase characters"
        ),
        gettext_noop(
            "Password did not conform with policy: Password must have lowercase characters"
        ),
        gettext_noop("Password did not conform with policy: Password must have numeric characters"),
        gettext_noop("Password did not conform with policy: Password must have symbol characters"),
        # The account page's
        gettext_noop("A client attempted to write unauthorized attribute"),
        gettext_noop("Enter a code from your authenticator app or your password."),
        gettext_noop("This user pool does not let users delete their account."),
    }
)


def translated(message: str):
    """A service's message in the page's language when we have it, else as the service wrote it."""
    return gettext(message) if message in SERVICE_TEXTS else message


def show(form: forms.Form, exc: domain.CognitoError) -> None:
    """Attach a service's error to the form, next to its field when the form has that field."""
    field, message = (None, None)
    for cls in type(exc).__mro__:
        if cls in PAGE_ERRORS:
            field, message = PAGE_ERRORS[cls]
            break
    field = field or exc.field or "__all__"
    if field not in form.fields:
        field = "__all__"
    form.add_error(None if field == "__all__" else field, message or translated(exc.message))
    # A page refused by the per-IP rate limit answers 429, like every other door.
    form.http_status = exc.http_status if exc.http_status == 429 else 400


def password_rules(pool: UserPool) -> list[dict[str, str]]:
    """The pool's password policy as the service describes it, each rule tagged with the check
    that static/hostedui/password-policy.js ticks live (the server still decides)."""
    texts = policy.describe_password_policy(pool)
    checks = [("length", str(max(pool.password_min_length, 1)))]
    for flag, check in (
        (pool.password_require_uppercase, "upper"),
        (pool.password_require_lowercase, "lower"),
        (pool.password_require_numbers, "number"),
        (pool.password_require_symbols, "symbol"),
    ):
        if flag:
            checks.append((check, ""))
    checks.append(("max", str(policy.PASSWORD_MAX_LENGTH)))
    if len(checks) != len(texts):  # a rule the checklist does not know: show text only
        return [{"text": text, "check": "", "value": ""} for text in texts]
    return [
        {"text": text, "check": check, "value": value}
        for text, (check, value) in zip(texts, checks, strict=True)
    ]
