"""Small helpers for console tests: the pool form's full POST data, audit lookups."""

from __future__ import annotations

from console.forms.pools import PoolForm
from console.models import AuditEntry


def pool_form_data(**overrides) -> dict:
    """Every field of the create-pool form with its default, as a browser would post it."""
    form = PoolForm()
    data: dict = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def last_audit(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("created_at")
