"""Form fields the console's forms share: lists typed one per line, durations with a unit."""

from __future__ import annotations

from django import forms

UNITS = (("1", "seconds"), ("60", "minutes"), ("3600", "hours"), ("86400", "days"))


class LineListField(forms.CharField):
    """A list of strings typed one per line (blank lines ignored)."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class DurationWidget(forms.MultiWidget):
    def __init__(self, attrs=None):
        super().__init__(
            [
                forms.NumberInput(attrs={"min": 1, "class": "duration-amount"}),
                forms.Select(choices=UNITS, attrs={"class": "duration-unit"}),
            ],
            attrs,
        )

    def decompress(self, value):
        if value in (None, ""):
            return [None, "60"]
        seconds = int(value)
        for size in (86400, 3600, 60, 1):
            if seconds % size == 0:
                return [seconds // size, str(size)]
        return [seconds, "1"]


class DurationField(forms.MultiValueField):
    """An amount and a unit, cleaned to whole seconds (what the services take)."""

    widget = DurationWidget

    def __init__(self, **kwargs):
        fields = (
            forms.IntegerField(min_value=1, error_messages={"invalid": "Enter a whole number."}),
            forms.ChoiceField(choices=UNITS),
        )
        super().__init__(fields=fields, require_all_fields=True, **kwargs)

    def compress(self, data_list) -> int | None:
        if not data_list:
            return None
        amount, unit = data_list
        return int(amount) * int(unit)
