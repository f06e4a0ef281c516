"""The form of a pool's message templates in one language; the rules (placeholders, lengths,
languages) are checked by pool.services.message_templates."""

from __future__ import annotations

from django import forms
from django.conf import settings

from pool.services.message_templates import FIELDS

LABELS = {
    "verification_email_subject": "Verification email subject",
    "verification_email_message": "Verification email message",
    "verification_sms_message": "Verification SMS message",
    "invitation_email_subject": "Invitation subject",
    "invitation_email_message": "Invitation message",
    "mfa_message": "MFA code message",
}


class MessageTemplatesForm(forms.Form):
    """One language's templates; an empty field uses the pool's own template (translated while
    it is Cognito's default)."""

    language = forms.ChoiceField(
        label="Language", choices=[(code, name) for code, name in settings.LANGUAGES]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field, (placeholders, limit) in FIELDS.items():
            needs = " and ".join(placeholders)
            self.fields[field] = forms.CharField(
                label=LABELS[field],
                required=False,
                max_length=limit,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 2 if limit <= 140 else 4}),
                help_text=f"Must contain {needs}." if needs else "",
            )
