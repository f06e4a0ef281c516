"""The branding form of a pool or app client; the rules are pool.services.branding's."""

from __future__ import annotations

from typing import Any

from django import forms

from pool.services.branding import COLOUR_MODES, COLOURS, FONTS, MODES

IMAGE_FIELDS = ("logo", "remove_logo", "background", "remove_background")
MODE_LABELS = {"light": "Light", "dark": "Dark", "auto": "Follow the browser (light or dark)"}
FONT_LABELS = {
    "system": "System UI",
    "sans": "Sans serif (Helvetica, Arial)",
    "serif": "Serif (Georgia, Times)",
    "mono": "Monospace",
    "rounded": "Rounded",
}


class BrandingForm(forms.Form):
    mode = forms.ChoiceField(
        label="Colour mode",
        required=False,
        choices=[("", "Inherit / light")] + [(m, MODE_LABELS[m]) for m in MODES],
    )
    font = forms.ChoiceField(
        label="Font",
        required=False,
        choices=[("", "Inherit / system UI")] + [(f, FONT_LABELS[f]) for f in FONTS],
        help_text="Fonts installed on the visitor's device only: no font is fetched from anywhere.",
    )
    css = forms.CharField(
        label="Custom CSS",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="Served in the branding stylesheet after the colours. No @import, no url() "
        "but data:image, no scripts. Cognito's classic classes (.submitButton-customizable, "
        ".inputField-customizable, ...) work.",
    )
    logo = forms.FileField(
        label="Logo", required=False, help_text="PNG, JPEG, GIF or WebP, at most 100 KB."
    )
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)
    background = forms.FileField(
        label="Page background image",
        required=False,
        help_text="PNG, JPEG, GIF or WebP, at most 512 KB.",
    )
    remove_background = forms.BooleanField(label="Remove the background image", required=False)

    def __init__(self, *args, initial_settings: dict | None = None, css: str = "", **kwargs):
        saved = initial_settings or {}
        initial = {"mode": saved.get("mode", ""), "font": saved.get("font", ""), "css": css}
        for colour_mode in COLOUR_MODES:
            for name in COLOURS:
                initial[f"{colour_mode}_{name}"] = saved.get(colour_mode, {}).get(name, "")
        super().__init__(*args, initial=initial, **kwargs)
        for colour_mode in COLOUR_MODES:
            for name, (what, light, dark) in COLOURS.items():
                default = light if colour_mode == "light" else dark
                self.fields[f"{colour_mode}_{name}"] = forms.CharField(
                    label=f"{colour_mode.title()}: {what}",
                    required=False,
                    max_length=7,
                    widget=forms.TextInput(attrs={"placeholder": default, "size": 8}),
                )

    def sections(self) -> list[tuple[str, list]]:
        colours = [self[f"{m}_{n}"] for m in COLOUR_MODES for n in COLOURS]
        return [
            ("Look", [self["mode"], self["font"]]),
            ("Colours (#rrggbb; empty inherits)", colours),
            ("Images", [self[n] for n in IMAGE_FIELDS]),
            ("Custom CSS", [self["css"]]),
        ]

    def settings_value(self) -> dict[str, Any]:
        data = self.cleaned_data
        value: dict[str, Any] = {"mode": data["mode"], "font": data["font"]}
        for colour_mode in COLOUR_MODES:
            value[colour_mode] = {name: data[f"{colour_mode}_{name}"].strip() for name in COLOURS}
        return value

    def image(self, kind: str) -> Any:
        """Bytes of a new upload, b"" to remove, or None to keep."""
        upload = self.cleaned_data.get(kind)
        if upload:
            return upload.read(1024 * 1024 + 1)
        return b"" if self.cleaned_data.get(f"remove_{kind}") else None
