"""A pool's message templates per language: the verification, invitation and MFA texts a user
receives in their language (pool/languages.py chooses it; pool/services/delivery.py uses them).

Cognito keeps one template of each kind per pool; those stay the pool's fields and the default.
Here a pool may add, for each of Cognate's languages, its own version of any of them, checked by
the same rules as the pool's own (placeholders, lengths). A message in a language without one
uses the pool's field, translated by Cognate when it is still Cognito's default text.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from django.db import transaction

from pool import languages
from pool.models import UserPool
from pool.services.pools import _template
from pool.services.validation import invalid

CODE = ("{####}",)
# field -> (placeholders it must hold, longest it may be), as the pool's own fields.
FIELDS: dict[str, tuple[tuple[str, ...], int]] = {
    "verification_email_subject": ((), 140),
    "verification_email_message": (CODE, 20000),
    "verification_sms_message": (CODE, 140),
    "invitation_email_subject": ((), 140),
    "invitation_email_message": (("{username}", "{####}"), 20000),
    "mfa_message": (CODE, 140),
}


def set_templates(*, pool: UserPool, language: str, templates: dict[str, Any]) -> MappingProxyType:
    """Set the pool's templates in `language` (one of settings.LANGUAGES): each given field is
    checked and kept; a field given as "" or None is removed (back to the default). Returns the
    language's templates now."""
    code = languages.supported(language)
    if code is None or code != str(language).strip().lower().replace("_", "-"):
        raise invalid(f"language must be one of {', '.join(languages.codes())}.", "language")
    if not isinstance(templates, dict):
        raise invalid("templates must be a mapping of template names to texts.", "templates")
    unknown = sorted(set(templates) - set(FIELDS))
    if unknown:
        raise invalid(f"Unknown template {unknown[0]}; known: {', '.join(FIELDS)}.", "templates")
    with transaction.atomic():
        pool = UserPool.objects.select_for_update().get(pk=pool.pk)
        current = dict(pool.message_templates.get(code) or {})
        for field, value in templates.items():
            if value is None or value == "":
                current.pop(field, None)
                continue
            placeholders, limit = FIELDS[field]
            current[field] = _template(value, field, placeholders=placeholders, limit=limit)
        stored = dict(pool.message_templates)
        if current:
            stored[code] = current
        else:
            stored.pop(code, None)
        pool.message_templates = stored
        pool.save(update_fields=["message_templates"])
    return MappingProxyType(dict(current))


def templates_in(pool: UserPool, language: str) -> MappingProxyType:
    """The pool's own templates in `language` (only those it set)."""
    return MappingProxyType(dict((pool.message_templates or {}).get(language) or {}))
