"""Forms of the hosted pages. They only parse and shape input; every rule (password policy,
attribute schema, codes) is checked by the service the view calls, and its error is shown next
to the field it names (see hostedui/messages.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pool.models import UserPool

# Autocomplete tokens and input types for the attributes a pool may require at sign-up.
ATTRIBUTE_INPUTS: dict[str, tuple[object, str, str]] = {
    # name: (label, input type, autocomplete)
    "email": (_("Email address"), "email", "email"),
    "phone_number": (_("Phone number"), "tel", "tel"),
    "name": (_("Full name"), "text", "name"),
    "given_name": (_("Given name"), "text", "given-name"),
    "family_name": (_("Family name"), "text", "family-name"),
    "middle_name": (_("Middle name"), "text", "additional-name"),
    "nickname": (_("Nickname"), "text", "nickname"),
    "preferred_username": (_("Preferred username"), "text", "username"),
    "birthdate": (_("Birth date"), "date", "bday"),
    "gender": (_("Gender"), "text", "sex"),
    "locale": (_("Locale"), "text", "language"),
    "zoneinfo": (_("Time zone"), "text", "off"),
    "address": (_("Address"), "text", "street-address"),
    "website": (_("Website"), "url", "url"),
    "profile": (_("Profile page"), "url", "url"),
    "picture": (_("Picture URL"), "url", "photo"),
    "updated_at": (_("Updated at"), "text", "off"),
}
ATTRIBUTE_HINTS = {"phone_number": _("International format, e.g. +14155550100.")}


class HostedForm(forms.Form):
    """Adds what screen readers need: aria-describedby for hints and errors, aria-invalid."""

    # Fields followed by the password policy checklist (its id: `<field id>-rules`).
    policy_fields: tuple[str, ...] = ()

    def annotate(self) -> HostedForm:
        for name, field in self.fields.items():
            bound = self[name]
            described = []
            if field.help_text:
                described.append(f"{bound.auto_id}-hint")
            if name in self.policy_fields:
                described.append(f"{bound.auto_id}-rules")
            if self.is_bound and self.errors.get(name):
                described.append(f"{bound.auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)
        return self


def _text(label, autocomplete: str, *, input_type: str = "text", **kwargs) -> forms.Field:
    widget = forms.TextInput(attrs={"autocomplete": autocomplete})
    widget.input_type = input_type
    return forms.CharField(label=label, widget=widget, max_length=2048, strip=True, **kwargs)


def _password(label, autocomplete: str, **kwargs) -> forms.Field:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        **kwargs,
    )


CODE_LABEL = _("Code")


def _code(label=CODE_LABEL, autocomplete: str = "one-time-code") -> forms.Field:
    return forms.CharField(
        label=label,
        max_length=12,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": autocomplete, "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )


def username_label(pool: UserPool):
    if pool.username_attributes == ["email"]:
        return _("Email address")
    if pool.username_attributes == ["phone_number"]:
        return _("Phone number")
    if pool.username_attributes:
        return _("Email address or phone number")
    return _("Username")


class SignInForm(HostedForm):
    """Cognito's classic markup: signInFormUsername / signInFormPassword (cognito-api.md §8)."""

    username = forms.CharField(max_length=2048, strip=True)
    password = forms.CharField(strip=False, max_length=256, widget=forms.PasswordInput)

    def __init__(self, *args, pool: UserPool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = username_label(pool)
        self.fields["username"].widget.attrs.update(
            {"id": "signInFormUsername", "autocomplete": "username", "autocapitalize": "none"}
        )
        self.fields["password"].label = _("Password")
        self.fields["password"].widget.attrs.update(
            {"id": "signInFormPassword", "autocomplete": "current-password"}
        )


class CustomSignInForm(HostedForm):
    """The sign-in without a password the pool's custom-auth triggers run: the username only."""

    username = forms.CharField(max_length=2048, strip=True)

    def __init__(self, *args, pool: UserPool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = username_label(pool)
        self.fields["username"].widget.attrs.update(
            {"id": "customSignInUsername", "autocomplete": "username", "autocapitalize": "none"}
        )


class CustomChallengeForm(HostedForm):
    """The answer to a custom challenge (what it is, only the pool's triggers know)."""

    answer = forms.CharField(
        label=_("Answer"),
        max_length=2048,
        strip=True,
        widget=forms.TextInput(attrs={"id": "customChallengeAnswer", "autocomplete": "off"}),
    )


class SignUpForm(HostedForm):
    policy_fields = ("password",)
    password = _password(_("Password"), "new-password")

    def __init__(self, *args, pool: UserPool, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool = pool
        fields = {}
        if pool.username_attributes:
            self.username_attribute = pool.username_attributes[0]
            label, input_type, autocomplete = ATTRIBUTE_INPUTS[self.username_attribute]
            fields["username"] = _text(label, autocomplete, input_type=input_type)
        else:
            self.username_attribute = None
            fields["username"] = _text(_("Username"), "username")
        self.attribute_names = [
            name
            for name in pool.required_attributes or []
            if name != self.username_attribute and name in ATTRIBUTE_INPUTS
        ]
        for name in self.attribute_names:
            label, input_type, autocomplete = ATTRIBUTE_INPUTS[name]
            fields[name] = _text(
                label, autocomplete, input_type=input_type, help_text=ATTRIBUTE_HINTS.get(name, "")
            )
        fields["password"] = self.fields["password"]
        self.fields = fields

    def attributes(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.attribute_names}


class ConfirmForm(HostedForm):
    username = _text(_("Username"), "username")
    code = _code(_("Confirmation code"))


class ResendForm(HostedForm):
    """The confirm form's "Send a new code" button: only the username it carries counts."""

    username = forms.CharField(max_length=2048, strip=True)


class ForgotPasswordForm(HostedForm):
    username = _text(_("Username"), "username")


class NewPasswordTwiceForm(HostedForm):
    """A new password typed twice, checked against the pool's policy as it is typed."""

    policy_fields = ("password",)
    password = _password(_("New password"), "new-password")
    password2 = _password(_("Enter the new password again"), "new-password")

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") != data.get("password"):
            self.add_error("password2", _("The passwords do not match."))
        return data


class ConfirmForgotPasswordForm(NewPasswordTwiceForm):
    field_order = ("username", "code", "password", "password2")
    username = _text(_("Username"), "username")
    code = _code(_("Code"))


class NewPasswordForm(NewPasswordTwiceForm):
    def __init__(self, *args, required_attributes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.attribute_names = [n for n in required_attributes if n in ATTRIBUTE_INPUTS]
        for name in self.attribute_names:
            label, input_type, autocomplete = ATTRIBUTE_INPUTS[name]
            self.fields[name] = _text(label, autocomplete, input_type=input_type)

    def attributes(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.attribute_names}


class RequiredAttributesForm(HostedForm):
    """The attributes a pool came to require after this user signed up."""

    def __init__(self, *args, names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.attribute_names = names
        for name in names:
            label, input_type, autocomplete = ATTRIBUTE_INPUTS.get(name, (name, "text", "off"))
            self.fields[name] = _text(label, autocomplete, input_type=input_type)
            self.fields[name].help_text = ATTRIBUTE_HINTS.get(name, "")

    def attributes(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.attribute_names}


class MfaForm(HostedForm):
    code = _code()


class SelectMfaForm(HostedForm):
    method = forms.ChoiceField(label=_("How do you want to verify?"), widget=forms.RadioSelect)

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = choices


class TotpSetupForm(HostedForm):
    code = _code(_("Code from your authenticator app"))
    friendly_name = forms.CharField(
        label=_("Device name (optional)"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


# ------------------------------------------------------------------------ the account page


class ProfileForm(HostedForm):
    """The attributes the user may change themselves (pool.policy.self_writable_attributes),
    less email and phone number, which change through verification (AccountContactForm)."""

    def __init__(self, *args, names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        # Standard attributes in the order people expect them (ATTRIBUTE_INPUTS), custom after.
        order = list(ATTRIBUTE_INPUTS)
        self.attribute_names = sorted(
            names, key=lambda n: order.index(n) if n in order else len(order)
        )
        for name in self.attribute_names:
            label, input_type, autocomplete = ATTRIBUTE_INPUTS.get(name, (name, "text", "off"))
            self.fields[name] = _text(label, autocomplete, input_type=input_type, required=False)

    def changed_attributes(self) -> dict[str, str]:
        """Only what the user changed: unchanged fields are not written (nor validated)."""
        return {
            name: self.cleaned_data[name]
            for name in self.attribute_names
            if self.cleaned_data[name] != (self.initial.get(name) or "")
        }


class ChangePasswordForm(NewPasswordTwiceForm):
    field_order = ("previous", "password", "password2")
    previous = _password(_("Current password"), "current-password")


class ContactForm(HostedForm):
    """A new email address or phone number; the old one stays until the new one is verified."""

    def __init__(self, *args, attribute: str, **kwargs):
        super().__init__(*args, **kwargs)
        label, input_type, autocomplete = ATTRIBUTE_INPUTS[attribute]
        self.attribute = attribute
        self.fields[attribute] = _text(
            label, autocomplete, input_type=input_type, help_text=ATTRIBUTE_HINTS.get(attribute, "")
        )


class VerifyContactForm(HostedForm):
    code = _code(_("Verification code"))


class RemoveTotpForm(HostedForm):
    """Removing the authenticator app: a current code from it, or the password."""

    code = forms.CharField(
        label=_("Code from your authenticator app"),
        required=False,
        max_length=12,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )
    password = _password(_("Or your password"), "current-password", required=False)


class ConfirmPasswordForm(HostedForm):
    password = _password(_("Password"), "current-password")


class SessionForm(HostedForm):
    """Sign out one session (a refresh-token family id), or every session (`everywhere`)."""

    session = forms.CharField(max_length=64, required=False)
    everywhere = forms.BooleanField(required=False)


class DeviceForm(HostedForm):
    device_key = forms.CharField(max_length=55)
