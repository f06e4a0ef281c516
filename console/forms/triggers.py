"""The trigger form; the rules (URL, callable, version, keys) are checked by
pool.services.triggers."""

from __future__ import annotations

from django import forms

from pool.models import Trigger, TriggerKind

TRANSPORTS = [("webhook", "Webhook URL"), ("python", "Python callable (dotted path)")]


class TriggerForm(forms.Form):
    """Point one of the pool's triggers at a webhook or a Python callable."""

    kind = forms.ChoiceField(label="Trigger", choices=TriggerKind.choices)
    transport = forms.ChoiceField(label="Calls", choices=TRANSPORTS, initial="webhook")
    target = forms.CharField(
        label="Webhook URL or callable",
        max_length=2048,
        help_text="https URL (http only to loopback), or module.function for a Python handler.",
    )
    version = forms.ChoiceField(
        label="Event version",
        choices=Trigger.Version.choices,
        initial=Trigger.Version.V1_0,
        help_text="PreTokenGeneration only: V2_0 changes access tokens too, V3_0 also "
        "client-credentials tokens.",
    )
    secret = forms.CharField(
        label="Webhook secret",
        required=False,
        max_length=256,
        widget=forms.PasswordInput,
        help_text="Leave empty to keep the secret of the same URL, or to get a new one shown once.",
    )
    code_key = forms.CharField(
        label="Sender code key",
        required=False,
        max_length=64,
        widget=forms.PasswordInput,
        help_text="Custom senders only: base64 of 32 bytes. Leave empty to keep the key of the "
        "same target, or to get a new one shown once.",
    )
