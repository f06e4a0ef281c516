"""The console's one table from domain errors to form errors."""

from __future__ import annotations

from django import forms

from pool import errors

# Which form field an error belongs to when the service did not say (`exc.field`).
FIELD_OF: dict[type[errors.CognitoError], str] = {
    errors.UsernameExistsException: "username",
    errors.InvalidPasswordException: "password",
    errors.AliasExistsException: "email",
    errors.GroupExistsException: "name",
    errors.CodeDeliveryFailureException: "",
}
# Messages the console words differently from the API.
MESSAGE_OF: dict[type[errors.CognitoError], str] = {
    errors.UsernameExistsException: "A user with this username already exists in the pool.",
    errors.GroupExistsException: "A group with this name already exists in the pool.",
}


def attach(
    form: forms.Form, exc: errors.CognitoError, *, aliases: dict[str, str | None] | None = None
) -> None:
    """Show `exc` next to its field when the form has that field, else above the form.
    `aliases` renames service parameters to the form's fields (None: above the form)."""
    field = exc.field or FIELD_OF.get(type(exc), "")
    if aliases and field in aliases:
        field = aliases[field] or ""
    message = MESSAGE_OF.get(type(exc), exc.message)
    if field and field in form.fields:
        form.add_error(field, message)
    elif exc.field and not (aliases and exc.field in aliases):
        form.add_error(None, f"{exc.field}: {message}")
    else:
        form.add_error(None, message)
