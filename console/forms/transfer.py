"""CSV import and export forms."""

from __future__ import annotations

from django import forms

MAX_IMPORT_BYTES = 50 * 1024 * 1024


class ExportForm(forms.Form):
    with_password_hashes = forms.BooleanField(
        label="Include password hashes (cognate:password_hash)",
        help_text="To migrate users with their passwords. Treat the file as a secret.",
        required=False,
    )
    with_totp_secrets = forms.BooleanField(
        label="Include authenticator seeds (cognate:totp_secret)",
        help_text="So that TOTP users keep their authenticator app; without them they set MFA up "
        "again. Anyone with the file can generate their codes.",
        required=False,
    )


class ImportForm(forms.Form):
    csv_file = forms.FileField(
        label="CSV file",
        help_text="Cognito's import format: UTF-8, the header's columns, \\, for a comma.",
    )

    def clean_csv_file(self) -> list[str]:
        upload = self.cleaned_data["csv_file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; use the "
                "importusers command for files this size."
            )
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                f"The file is not UTF-8 text (bad byte at offset {exc.start})."
            ) from None
        return text.splitlines()
