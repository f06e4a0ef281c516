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


class PoolExportForm(forms.Form):
    passphrase = forms.CharField(
        label="Export passphrase",
        min_length=12,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Seals the secrets in the file (scrypt + AES-256-GCM). The importing server "
        "needs it; it is not stored anywhere.",
    )
    passphrase_again = forms.CharField(
        label="Passphrase again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    with_signing_keys = forms.BooleanField(
        label="Include the signing keys",
        help_text="So that tokens issued here keep verifying on the importing server. Without "
        "them it makes a new key.",
        required=False,
        initial=True,
    )

    def clean(self):
        data = super().clean()
        if data.get("passphrase") and data.get("passphrase") != data.get("passphrase_again"):
            self.add_error("passphrase_again", "The two passphrases differ.")
        return data


class PoolImportForm(forms.Form):
    export_file = forms.FileField(
        label="Pool export (JSON)", help_text="A cognate-pool file made by exportpool or here."
    )
    passphrase = forms.CharField(
        label="Export passphrase",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    with_domains = forms.BooleanField(
        label="Take over the pool's domains",
        help_text="Leave unticked while the source server still serves them.",
        required=False,
        initial=True,
    )

    def clean_export_file(self) -> bytes:
        upload = self.cleaned_data["export_file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; use the "
                "importpool command for files this size."
            )
        return upload.read()
