"""Pool settings forms. They only shape input; every rule is checked by pool.services.pools."""

from __future__ import annotations

from typing import Any

from django import forms

from pool.models import CustomAttribute, UserPool
from pool.models.pool import MFA_METHODS, RECOVERY_MECHANISMS, SIGN_IN_ATTRIBUTES
from pool.models.user import STANDARD_ATTRIBUTES
from pool.services.pools import FROZEN_SETTINGS, MESSAGE_SETTINGS

USERNAME_ATTRIBUTE_CHOICES = [("email", "email"), ("phone_number", "phone_number")]
RECOVERY_LABELS = {
    "verified_email": "Verified email",
    "verified_phone_number": "Verified phone number",
    "admin_only": "Administrator only",
}
MFA_LABELS = {
    "SOFTWARE_TOKEN_MFA": "Authenticator app (TOTP)",
    "SMS_MFA": "SMS",
    "EMAIL_OTP": "Email",
}


def _boxes(choices, **kwargs) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices, required=False, widget=forms.CheckboxSelectMultiple, **kwargs
    )


def _flag(label: str, **kwargs) -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False, **kwargs)


class PoolForm(forms.Form):
    """Every setting of a pool. With `pool=` it edits: the settings Cognito fixes at creation
    are shown disabled (their submitted values are ignored)."""

    name = forms.CharField(max_length=128)
    region = forms.CharField(
        max_length=32, help_text="The prefix of the pool id, e.g. local or eu-west-1."
    )
    username_attributes = _boxes(
        USERNAME_ATTRIBUTE_CHOICES,
        label="Sign in with email or phone instead of a username",
        help_text="The username becomes a generated UUID. Exclusive with aliases.",
    )
    alias_attributes = _boxes(
        [(a, a) for a in SIGN_IN_ATTRIBUTES],
        label="Aliases: also sign in with",
        help_text="A verified attribute may stand in for the username.",
    )
    case_sensitive = _flag("Usernames are case-sensitive")
    required_attributes = _boxes(
        [(a, a) for a in STANDARD_ATTRIBUTES if not a.endswith("_verified")],
        label="Required attributes",
    )
    auto_verified_attributes = _boxes(
        USERNAME_ATTRIBUTE_CHOICES,
        label="Verify automatically by sending a code to",
    )

    password_min_length = forms.IntegerField(label="Minimum length", min_value=6, max_value=99)
    password_require_uppercase = _flag("Require an upper-case letter")
    password_require_lowercase = _flag("Require a lower-case letter")
    password_require_numbers = _flag("Require a number")
    password_require_symbols = _flag("Require a symbol")
    temporary_password_validity_days = forms.IntegerField(
        label="Temporary passwords expire after (days)", min_value=1, max_value=365
    )

    mfa_configuration = forms.ChoiceField(label="MFA", choices=UserPool.Mfa.choices)
    mfa_methods = _boxes([(m, MFA_LABELS[m]) for m in MFA_METHODS], label="MFA methods")
    account_recovery = forms.ChoiceField(
        label="Account recovery, first",
        choices=[(m, RECOVERY_LABELS[m]) for m in RECOVERY_MECHANISMS],
    )
    account_recovery_second = forms.ChoiceField(
        label="Account recovery, then",
        required=False,
        choices=[("", "(none)"), *[(m, RECOVERY_LABELS[m]) for m in RECOVERY_MECHANISMS]],
    )

    allow_self_sign_up = _flag("Users may sign themselves up")
    allow_self_deletion = _flag(
        "Users may delete their own account",
        help_text="On the hosted account page and through DeleteUser.",
    )
    prevent_user_existence_errors = _flag(
        "Prevent user existence errors",
        help_text="Unknown users get the same answer as wrong passwords.",
    )
    deletion_protection = _flag("Deletion protection")
    auth_session_validity_minutes = forms.IntegerField(
        label="Sign-in challenge lifetime (minutes)", min_value=3, max_value=15
    )
    track_devices = _flag(
        "Remember user devices",
        help_text="Sign-ins through the API get a device key apps can confirm and remember.",
    )
    device_only_remembered_on_user_prompt = _flag(
        "Only when the user chooses to",
        help_text="A confirmed device is remembered only after UpdateDeviceStatus.",
    )
    device_challenge_required_on_new_device = _flag(
        "A remembered device stands in for MFA",
        help_text="New, forgotten and not remembered devices still answer MFA.",
    )

    verification_email_subject = forms.CharField(max_length=140)
    verification_email_message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Must contain {####} (the code)."
    )
    verification_sms_message = forms.CharField(max_length=140, help_text="Must contain {####}.")
    invitation_email_subject = forms.CharField(max_length=140)
    invitation_email_message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Must contain {username} and {####} (the temporary password).",
    )
    mfa_message = forms.CharField(max_length=140, help_text="Must contain {####}.")
    email_from = forms.EmailField(label="Send email from", required=False)

    SECTIONS = (
        ("Pool", ("name", "region")),
        (
            "Sign-in",
            (
                "username_attributes",
                "alias_attributes",
                "case_sensitive",
                "required_attributes",
                "auto_verified_attributes",
            ),
        ),
        (
            "Password policy",
            (
                "password_min_length",
                "temporary_password_validity_days",
                "password_require_uppercase",
                "password_require_lowercase",
                "password_require_numbers",
                "password_require_symbols",
            ),
        ),
        (
            "MFA and recovery",
            (
                "mfa_configuration",
                "mfa_methods",
                "account_recovery",
                "account_recovery_second",
                "auth_session_validity_minutes",
            ),
        ),
        (
            "Devices",
            (
                "track_devices",
                "device_only_remembered_on_user_prompt",
                "device_challenge_required_on_new_device",
            ),
        ),
        (
            "Behaviour",
            (
                "allow_self_sign_up",
                "allow_self_deletion",
                "prevent_user_existence_errors",
                "deletion_protection",
            ),
        ),
        ("Messages", MESSAGE_SETTINGS),
    )

    def __init__(self, *args, pool: UserPool | None = None, **kwargs):
        source = pool or UserPool()
        initial = {
            name: getattr(source, name) for name in self.base_fields if hasattr(source, name)
        }
        recovery = list(source.account_recovery or [])
        initial["account_recovery"] = recovery[0] if recovery else ""
        initial["account_recovery_second"] = recovery[1] if len(recovery) > 1 else ""
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.editing = pool is not None
        if self.editing:
            for name in FROZEN_SETTINGS:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[
                        name
                    ].help_text = 'Changed with the pool\'s "Change sign-in and schema" page.'

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def settings(self) -> dict[str, Any]:
        """The service's keyword arguments: on edit, only what may change."""
        data = dict(self.cleaned_data)
        second = data.pop("account_recovery_second", "")
        data["account_recovery"] = [data["account_recovery"], *([second] if second else [])]
        data["email_from"] = data.get("email_from") or ""
        if self.editing:
            for name in FROZEN_SETTINGS:
                data.pop(name, None)
        return data


class CustomAttributeForm(forms.Form):
    name = forms.CharField(
        max_length=20,
        help_text="Without the custom: prefix. Renamed or removed on the pool's \"Change "
        'sign-in and schema" page.',
    )
    data_type = forms.ChoiceField(choices=CustomAttribute.DataType.choices)
    mutable = _flag("Mutable (may change after the user is created)", initial=True)
    developer_only = _flag("Developer only (dev:custom:, hidden from app clients)")
    min_length = forms.IntegerField(required=False, min_value=0, max_value=2048)
    max_length = forms.IntegerField(required=False, min_value=0, max_value=2048)
    min_value = forms.IntegerField(required=False)
    max_value = forms.IntegerField(required=False)

    def attribute(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v is not None}


class DomainForm(forms.Form):
    """A pool's domain: a prefix, or with a certificate ARN a custom domain (as the API's
    CustomDomainConfig decides)."""

    domain = forms.CharField(
        max_length=63,
        help_text="A prefix such as shop-login, or a full host name such as auth.example.com.",
    )
    certificate_arn = forms.CharField(
        label="Certificate ARN",
        required=False,
        max_length=2048,
        help_text="Custom domains only: the ARN of the domain's certificate, stored as given.",
    )

    def values(self) -> dict[str, Any]:
        return {
            "domain": self.cleaned_data["domain"].strip(),
            "certificate_arn": self.cleaned_data["certificate_arn"].strip() or None,
        }


class ConfirmDeleteForm(forms.Form):
    """Deleting asks the operator to type the name of what goes away."""

    confirm = forms.CharField(label="Type the name to confirm")

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["confirm"].help_text = f"Type {expected} to confirm."

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.expected:
            raise forms.ValidationError("That is not the name; nothing was deleted.")
        return value


VALUE_MODES = [("keep", "Keep the values, hidden"), ("drop", "Delete the values")]


class PoolChangeForm(forms.Form):
    """What pool/services/pool_changes.py changes after creation, shown with the pool's current
    values: only what differs is changed. "Preview" reports, "Apply" migrates."""

    name = forms.CharField(max_length=128)
    username_attributes = PoolForm.base_fields["username_attributes"]
    alias_attributes = PoolForm.base_fields["alias_attributes"]
    case_sensitive = _flag("Usernames and aliases are case-sensitive")
    required_attributes = PoolForm.base_fields["required_attributes"]
    remove_attributes = _boxes([], label="Remove custom attributes")
    removed_values = forms.ChoiceField(
        choices=VALUE_MODES, initial="keep", widget=forms.RadioSelect, label="Their values"
    )
    rename_attributes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Rename custom attributes",
        help_text="One per line: custom:old=custom:new. Values move with the name.",
    )

    def __init__(self, *args, pool: UserPool, **kwargs):
        initial = {
            name: getattr(pool, name)
            for name in (
                "name",
                "username_attributes",
                "alias_attributes",
                "case_sensitive",
                "required_attributes",
            )
        }
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.fields["remove_attributes"].choices = [
            (a.full_name, a.full_name) for a in pool.custom_attributes.all()
        ]

    def clean_rename_attributes(self) -> dict[str, str]:
        renames = {}
        for line in self.cleaned_data["rename_attributes"].splitlines():
            if not line.strip():
                continue
            old, sep, new = line.partition("=")
            if not sep or not old.strip() or not new.strip():
                raise forms.ValidationError(f"Write custom:old=custom:new, not {line.strip()!r}.")
            renames[old.strip()] = new.strip()
        return renames

    def change(self) -> dict[str, Any]:
        """PoolChange.of's values."""
        data = self.cleaned_data
        mode = data["removed_values"]
        return {
            "name": data["name"],
            "username_attributes": data["username_attributes"],
            "alias_attributes": data["alias_attributes"],
            "case_sensitive": data["case_sensitive"],
            "required_attributes": data["required_attributes"],
            "remove_attributes": {name: mode for name in data["remove_attributes"]},
            "rename_attributes": data["rename_attributes"],
        }
