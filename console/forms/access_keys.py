"""The access-key form; the rules are checked by api.access_keys."""

from __future__ import annotations

from django import forms


class AccessKeyForm(forms.Form):
    description = forms.CharField(
        max_length=256,
        required=False,
        help_text="What signs with this key, e.g. the Terraform pipeline.",
    )
