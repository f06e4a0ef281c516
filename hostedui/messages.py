"""The hosted pages' one table from pool.errors to what the user reads, and where.

Each entry: error class -> (field or None, message or None). A None field means "the field the
error names" (CognitoError.field) and otherwise the top of the form; a None message means the
service's own message, which is already written for people.
"""

from __future__ import annotations

from django import forms

from pool import errors as domain
from pool import policy
from pool.models import UserPool

CODE_WRONG = "That code is not right. Check it and try again."
PAGE_ERRORS: dict[type[domain.CognitoError], tuple[str | None, str | None]] = {
    domain.NotAuthorizedException: ("__all__", None),
    domain.UserNotFoundException: ("__all__", "Incorrect username or password."),
    domain.InvalidPasswordException: ("password", None),
    domain.UsernameExistsException: ("username", "An account with this username already exists."),
    domain.AliasExistsException: ("__all__", None),
    domain.CodeMismatchException: ("code", CODE_WRONG),
    domain.EnableSoftwareTokenMFAException: ("code", CODE_WRONG),
    domain.ExpiredCodeException: ("code", "That code has expired. Ask for a new one."),
    domain.LimitExceededException: ("__all__", "Too many attempts. Wait a while and try again."),
    domain.TooManyRequestsException: ("__all__", "Too many requests. Wait a moment and retry."),
    domain.TooManyFailedAttemptsException: ("__all__", "Too many failed attempts."),
    domain.CodeDeliveryFailureException: ("__all__", "We could not send the code. Try later."),
    domain.InvalidParameterException: (None, None),
    domain.UserNotConfirmedException: ("__all__", "Confirm your account first."),
    domain.PasswordResetRequiredException: ("__all__", "You need to reset your password."),
    domain.InvalidUserPoolConfigurationException: ("__all__", None),
    domain.MFAMethodNotFoundException: ("__all__", None),
    domain.SoftwareTokenMFANotFoundException: ("__all__", None),
}


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
    form.add_error(None if field == "__all__" else field, message or exc.message)
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
