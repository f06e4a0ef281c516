"""Operator sign-in: password, then a TOTP code (or enrolment of a first device)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing accounts that are not operators with the same message as a
    wrong password (so the form does not tell which passwords are right)."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise self.get_invalid_login_error()


class TokenForm(forms.Form):
    token = forms.RegexField(
        label="Authentication code",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "Enter the 6-digit code from your authenticator app."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip()
