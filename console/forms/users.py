"""Forms for a pool's users: search, create, attributes, password, MFA, groups."""

from __future__ import annotations

from django import forms

from pool.models import CustomAttribute, Group, User, UserPool, UserStatus
from pool.models.user import SEARCHABLE_ATTRIBUTES, STANDARD_ATTRIBUTES
from pool.selectors import users as user_selectors

# Each verified flag, with the attribute it vouches for.
VERIFIED_FLAGS = {"email_verified": "email", "phone_number_verified": "phone_number"}
# Attributes the console does not offer to edit: `updated_at` is kept by the service.
NOT_EDITABLE = ("updated_at",)
ATTRIBUTE_WIDGETS = {
    "email": forms.EmailInput(attrs={"autocomplete": "off"}),
    "phone_number": forms.TextInput(attrs={"placeholder": "+14325551212", "inputmode": "tel"}),
    "birthdate": forms.TextInput(attrs={"placeholder": "YYYY-MM-DD"}),
    "address": forms.Textarea(attrs={"rows": 2}),
}


class SearchForm(forms.Form):
    """The console's user search: one attribute condition (a searchable standard attribute or a
    custom one, equal or starting with a value), a status and Enabled/Disabled. Becomes a
    structured `UserFilter`; text is compared as the pool compares names."""

    attribute = forms.ChoiceField(label="Attribute", required=False)
    op = forms.ChoiceField(
        label="Match", choices=[("^=", "starts with"), ("=", "equals")], required=False
    )
    value = forms.CharField(
        label="Value", required=False, strip=False, max_length=user_selectors.VALUE_MAX_LENGTH
    )
    status = forms.ChoiceField(
        label="Status", choices=[("", "any status"), *UserStatus.choices], required=False
    )
    enabled = forms.ChoiceField(
        label="Enabled",
        choices=[("", "enabled or disabled"), ("true", "Enabled"), ("false", "Disabled")],
        required=False,
    )

    def __init__(self, *args, pool: UserPool, **kwargs):
        super().__init__(*args, **kwargs)
        names = [*SEARCHABLE_ATTRIBUTES, *user_selectors.custom_attribute_names(pool)]
        self.fields["attribute"].choices = [(name, name.replace("_", " ")) for name in names]

    def user_filter(self) -> user_selectors.UserFilter:
        data = self.cleaned_data
        value = data.get("value") or ""
        enabled = {"true": True, "false": False}.get(data.get("enabled") or "")
        return user_selectors.UserFilter(
            attribute=(data.get("attribute") or "username") if value else "",
            operator=data.get("op") or "^=",
            value=value,
            status=data.get("status") or None,
            enabled=enabled,
        )


def _attribute_field(pool: UserPool, name: str, custom: CustomAttribute | None = None):
    label = name
    if custom is not None:
        if custom.data_type == CustomAttribute.DataType.BOOLEAN:
            return forms.ChoiceField(
                label=label,
                required=False,
                choices=[("", "(not set)"), ("true", "true"), ("false", "false")],
            )
        widget = forms.TextInput(
            attrs={"inputmode": "numeric"} if custom.data_type == "Number" else {}
        )
        return forms.CharField(label=label, required=False, strip=False, widget=widget)
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=ATTRIBUTE_WIDGETS.get(name, forms.TextInput()),
    )


class AttributesForm(forms.Form):
    """Every standard and custom attribute of the pool, with the user's values. `changes()`
    returns only what the operator changed (an emptied field deletes the attribute)."""

    hide_optional = True  # every attribute is optional to the form; the schema decides

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        pool = user.pool
        current = user.attribute_map()
        self.current = current
        for name in STANDARD_ATTRIBUTES:
            if name in NOT_EDITABLE:
                continue
            if name in VERIFIED_FLAGS:
                self.fields[name] = forms.BooleanField(label=name.replace("_", " "), required=False)
                self.initial[name] = current.get(name) == "true"
            else:
                self.fields[name] = _attribute_field(pool, name)
                self.initial[name] = current.get(name, "")
            if name in (pool.required_attributes or []):
                self.fields[name].label = f"{name} (required)"
        for custom in pool.custom_attributes.all():
            name = custom.full_name
            self.fields[name] = _attribute_field(pool, name, custom)
            self.initial[name] = current.get(name, "")
            if not custom.mutable:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Immutable: set only when the user is created."

    def changes(self) -> dict[str, str]:
        """The attributes to send: the changed values; next to a changed email or phone number,
        its verified flag speaks of the new value. Ticked, "true" is sent even when it was
        already ticked, since the service holds a change to a verified value pending
        verification unless the administrator also says the new value is verified
        (pool/services/attributes.py). Unticked, nothing is sent, so the old value keeps its
        flag while the new one waits for its code."""
        changed: dict[str, str] = {}
        for name, field in self.fields.items():
            if field.disabled:
                continue
            value = self.cleaned_data.get(name)
            if name in VERIFIED_FLAGS:
                new = "true" if value else "false"
                if new != (self.current.get(name) or "false"):
                    changed[name] = new
            elif (value or "") != self.current.get(name, ""):
                changed[name] = value or ""
        for flag, attribute in VERIFIED_FLAGS.items():
            if changed.get(attribute):
                if self.cleaned_data.get(flag):
                    changed[flag] = "true"
                else:
                    changed.pop(flag, None)
        return changed

    def standard_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if not n.startswith(("custom:", "dev:"))]

    def custom_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in self.fields if n.startswith(("custom:", "dev:"))]


class CreateUserForm(forms.Form):
    """AdminCreateUser from the console: a username, the attributes that matter at creation,
    and how the temporary password reaches the user."""

    username = forms.CharField(max_length=128)
    email = forms.CharField(required=False, max_length=2048, widget=forms.EmailInput())
    email_verified = forms.BooleanField(label="Mark email as verified", required=False)
    phone_number = forms.CharField(
        required=False, max_length=32, widget=ATTRIBUTE_WIDGETS["phone_number"]
    )
    phone_number_verified = forms.BooleanField(label="Mark phone as verified", required=False)
    other_attributes = forms.CharField(
        label="Other attributes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One per line as name=value, e.g. given_name=Ada or custom:tier=gold.",
    )
    temporary_password = forms.CharField(
        label="Temporary password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to generate one that meets the pool's policy.",
    )
    invitation = forms.ChoiceField(
        label="Invitation",
        choices=[
            ("EMAIL", "Send the invitation by email"),
            ("SMS", "Send the invitation by SMS"),
            ("SUPPRESS", "Send nothing: show me the password once"),
        ],
        widget=forms.RadioSelect,
        initial="EMAIL",
    )

    def __init__(self, *args, pool: UserPool, **kwargs):
        super().__init__(*args, **kwargs)
        if pool.username_attributes:
            self.fields[
                "username"
            ].label = f"Sign-in name ({' or '.join(pool.username_attributes)})"
            self.fields["username"].help_text = "The username itself becomes a generated UUID."

    def clean_other_attributes(self) -> dict[str, str]:
        attributes: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["other_attributes"].splitlines(), 1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise forms.ValidationError(f"Line {number}: write name=value.")
            attributes[name.strip()] = value.strip()
        return attributes

    def attributes(self) -> dict[str, str]:
        data = self.cleaned_data
        attributes = dict(data["other_attributes"])
        for name in ("email", "phone_number"):
            if data[name]:
                attributes[name] = data[name]
                if data[f"{name}_verified"]:
                    attributes[f"{name}_verified"] = "true"
        return attributes

    def invitation_options(self) -> dict:
        choice = self.cleaned_data["invitation"]
        if choice == "SUPPRESS":
            return {"message_action": "SUPPRESS"}
        return {"delivery": (choice,)}


class SetPasswordForm(forms.Form):
    """On the user page next to other forms: its own element ids (`pw-…`)."""

    password = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    permanent = forms.BooleanField(
        label="Permanent (otherwise the user must change it at the next sign-in)", required=False
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "pw-%s")
        super().__init__(*args, **kwargs)


MFA_CHOICES = [
    ("", "(none)"),
    ("SOFTWARE_TOKEN_MFA", "Authenticator app"),
    ("SMS_MFA", "SMS"),
    ("EMAIL_OTP", "Email"),
]


class MfaForm(forms.Form):
    """SetUserMFAPreference: which methods are on and which is preferred. All off disables MFA."""

    totp = forms.BooleanField(label="Authenticator app (TOTP)", required=False)
    sms = forms.BooleanField(label="SMS", required=False)
    email = forms.BooleanField(label="Email", required=False)
    preferred = forms.ChoiceField(label="Preferred", choices=MFA_CHOICES, required=False)

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("auto_id", "mfa-%s")
        kwargs.setdefault(
            "initial",
            {
                "totp": user.software_token_mfa_enabled,
                "sms": user.sms_mfa_enabled,
                "email": user.email_mfa_enabled,
                "preferred": user.preferred_mfa,
            },
        )
        super().__init__(*args, **kwargs)


class GroupChoiceForm(forms.Form):
    group = forms.ModelChoiceField(queryset=Group.objects.none(), empty_label=None)

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("auto_id", "group-%s")
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(pool=user.pool).exclude(users=user)


class GroupForm(forms.Form):
    name = forms.CharField(max_length=128)
    description = forms.CharField(
        required=False, max_length=2048, widget=forms.Textarea(attrs={"rows": 2})
    )
    precedence = forms.IntegerField(
        required=False,
        min_value=0,
        help_text="Lower wins when a user is in several groups (cognito:preferred_role).",
    )
    role_arn = forms.CharField(label="IAM role ARN", required=False, max_length=2048)

    def __init__(self, *args, group: Group | None = None, **kwargs):
        if group is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": group.name,
                    "description": group.description,
                    "precedence": group.precedence,
                    "role_arn": group.role_arn,
                },
            )
        super().__init__(*args, **kwargs)
        if group is not None:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "A group's name is fixed."
