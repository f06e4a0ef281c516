"""Which of Cognate's languages (settings.LANGUAGES) a language tag names, and the language a
message to a user is written in. One place, for the hosted pages (hostedui/i18n.py) and for
delivery (pool/services/delivery.py).

Tags are read as Cognito's managed login reads its `lang` parameter and as OIDC's `locale` claim
carries them (BCP 47: `fr`, `pt-BR`, `de_DE`, any case); a regional tag falls back to its
language (`de-AT` -> `de`), a bare language to the regional variant we have (`pt` -> `pt-br`).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils import translation

# A language tag as BCP 47 spells one (letters, digits and - or _), short enough to be sane.
_TAG = re.compile(r"[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8}){0,3}")


def supported(tag: str | None) -> str | None:
    """The code of our language `tag` names (e.g. `pt-br`), or None if we have none for it."""
    if not isinstance(tag, str) or not _TAG.fullmatch(tag.strip()):
        return None
    try:
        return translation.get_supported_language_variant(tag.strip().replace("_", "-").lower())
    except LookupError:
        return None


def from_accept_language(header: str) -> str | None:
    """The first of the browser's languages (Accept-Language, by weight) that we have."""
    weighted = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and weight > 0:
            weighted.append((-weight, position, tag))
    for _, _, tag in sorted(weighted):
        if code := supported(tag):
            return code
    return None


def for_user(user, *, fallback: str | None = None) -> str:
    """The language of a message to `user`: their `locale` attribute when we speak it, else
    `fallback` (the language of the request that caused the message), else the default."""
    return (
        supported(user.get_attribute("locale") if user is not None else None)
        or supported(fallback)
        or settings.LANGUAGE_CODE
    )


def codes() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]
