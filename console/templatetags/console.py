"""Small template helpers for the console's pages."""

from __future__ import annotations

from django import forms, template
from django.conf import settings

register = template.Library()


@register.simple_tag
def outbox_enabled() -> bool:
    """The dev outbox page exists only with DEBUG on."""
    return bool(settings.DEBUG)


@register.simple_tag
def configuration_warnings() -> list[str]:
    """What the start-up checks warned about (config/checks.py, e.g. SMS codes going to the
    dev outbox with DEBUG off), shown to operators on every page as well as in the log. Errors
    are not shown: with one the server does not start."""
    from config.checks import startup_problems

    return [problem.msg for problem in startup_problems() if not problem.is_serious()]


@register.filter
def widget_kind(field: forms.BoundField) -> str:
    """How field.html lays a field out: checkbox, choices (several boxes), or input."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "choices"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    return "input"


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key) if mapping else None


@register.filter
def duration(seconds: int | None) -> str:
    """Seconds as the largest whole unit: 3600 -> "1 h", 2592000 -> "30 d"."""
    if seconds is None:
        return ""
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
