"""The hosted pages' branding stylesheet: built from a pool's or client's branding
(pool/selectors/branding.py) and served from our own URL, so that the pages keep a CSP without
inline styles. Also the console preview's drafts: unsaved settings kept for a few minutes in
the shared cache behind a signed, short-lived token.

Cognito's classic hosted-UI CSS classes are accepted in custom CSS and mapped onto our pages'
elements (CLASSIC_CLASSES), so CSS written for Cognito's SetUICustomization keeps working.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from urllib.parse import urlencode

from django.core import signing
from django.core.cache import cache

from hostedui import hosts
from pool.selectors.branding import Effective, Image
from pool.services.branding import COLOURS, FONTS

# Cognito's classic hosted UI classes -> the elements of our pages they style.
CLASSIC_CLASSES = {
    "background-customizable": "body",
    "banner-customizable": ".brand",
    "logo-customizable": ".logo",
    "label-customizable": "label",
    "textDescription-customizable": ".lead, .aside",
    "idpDescription-customizable": ".federation .aside",
    "legalText-customizable": ".footer",
    "submitButton-customizable": ".btn-primary",
    "errorMessage-customizable": ".alert-error, .error",
    "inputField-customizable": "input",
    "idpButton-customizable": ".idp-button",
    "socialButton-customizable": ".idp-button",
    "redirect-customizable": ".switch",
    "passwordCheck-notValid-customizable": ".rules li:not(.met)",
    "passwordCheck-valid-customizable": ".rules li.met",
}
_CLASSIC = re.compile(r"\.(" + "|".join(map(re.escape, CLASSIC_CLASSES)) + r")(?![\w-])")
# Our variables (static/hostedui/hosted.css) for each branding colour.
VARIABLES = {
    "primary": "--brand",
    "page": "--bg",
    "card": "--card",
    "text": "--ink",
    "muted": "--muted",
    "line": "--line",
}
PREVIEW_SALT = "hostedui.branding.preview"
PREVIEW_SECONDS = 600


def classic_css(css: str) -> str:
    """Custom CSS with Cognito's classic classes turned into our selectors."""
    return _CLASSIC.sub(lambda m: f":is({CLASSIC_CLASSES[m.group(1)]})", css)


def _palette(settings: dict, colour_mode: str) -> str:
    column = 1 if colour_mode == "light" else 2
    chosen = settings.get(colour_mode, {})
    lines = [
        f"  {VARIABLES[name]}: {chosen.get(name, defaults[column])};"
        for name, defaults in COLOURS.items()
    ]
    return ":root {\n" + "\n".join(lines) + f"\n  color-scheme: {colour_mode};\n}}"


def image_url(image: Image) -> str:
    path = hosts.path(
        "branding_image", image.branding_pool, branding_id=image.branding_id, kind=image.kind
    )
    return f"{path}?v={image.digest}"


def stylesheet(effective: Effective) -> str:
    settings = effective.settings
    mode = settings.get("mode", "light")
    parts = [f"/* Cognate branding: {effective.client_id or effective.pool_id} */"]
    if mode == "dark":
        parts.append(_palette(settings, "dark"))
    else:
        parts.append(_palette(settings, "light"))
        if mode == "auto":
            dark = _palette(settings, "dark").replace("\n", "\n  ")
            parts.append(f"@media (prefers-color-scheme: dark) {{\n  {dark}\n}}")
    parts.append(
        'input[type="text"], input[type="email"], input[type="tel"], input[type="password"],\n'
        'input[type="url"], input[type="date"], input[type="number"], .btn-secondary '
        "{ background: var(--card); color: var(--ink); }"
    )
    if "font" in settings:
        parts.append(f"body {{ font-family: {FONTS[settings['font']]}; }}")
    if effective.background is not None:
        parts.append(
            f'body {{ background-image: url("{image_url(effective.background)}"); '
            "background-size: cover; background-position: center; }"
        )
    for css in effective.css:
        parts.append(classic_css(css))
    return "\n".join(parts) + "\n"


def version(css: str) -> str:
    return hashlib.sha256(css.encode()).hexdigest()[:16]


def stylesheet_url(effective: Effective, css: str, *, preview: str = "") -> str:
    query = {"client_id": effective.client_id} if effective.client_id else {}
    if preview:
        query["preview"] = preview
    else:
        query["v"] = version(css)
    path = hosts.path("branding_css", effective.pool_id)
    return f"{path}?{urlencode(query)}" if query else path


def logo_src(effective: Effective) -> str:
    return image_url(effective.logo) if effective.logo else effective.logo_url


def save_draft(*, pool_id: str, client_id: str | None, settings: dict, css: str) -> str:
    """Keep unsaved (already validated) settings for a preview; the token that names them."""
    key = secrets.token_urlsafe(18)
    cache.set(f"branding-preview:{key}", {"settings": settings, "css": css}, PREVIEW_SECONDS)
    return signing.dumps({"p": pool_id, "c": client_id, "k": key}, salt=PREVIEW_SALT)


def load_draft(token: str, *, pool_id: str) -> tuple[str | None, dict] | None:
    """(client id, draft) that `token` names for this pool, or None when it is forged, for
    another pool, or older than PREVIEW_SECONDS."""
    try:
        value = signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or value.get("p") != pool_id:
        return None
    draft = cache.get(f"branding-preview:{value.get('k')}")
    return (value.get("c"), draft) if isinstance(draft, dict) else None
