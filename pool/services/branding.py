"""Hosted-page branding per pool and per app client: checking and storing it.

What a branding holds, each checked here once for the console, the JSON API and previews:
- settings: `mode` (light, dark, or auto: follows the browser's prefers-color-scheme), `font`
  (one of FONTS: families every system has, so no remote font is ever loaded), and per colour
  mode (`light`, `dark`) the colours of COLOURS as #rrggbb;
- custom CSS, at most MAX_CSS_CHARS, refused when it could load or run anything: no @import or
  other at-rules than @media, @supports, @keyframes, @container; no url() but `data:` raster
  images; no image-set()/src(), expression(), javascript:, behaviours, bindings, backslash
  escapes (which could spell any of those), "<", or unbalanced braces and comments;
- a logo and a page background image: PNG, JPEG, GIF or WebP by their leading bytes (SVG is
  refused: it can carry script), at most MAX_LOGO_BYTES / MAX_BACKGROUND_BYTES.

A client's branding overrides its pool's key by key (pool/selectors/branding.py).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from pool.errors import ManagedLoginBrandingExistsException, ResourceNotFoundException
from pool.models import AppClient, Branding, UserPool
from pool.services.validation import invalid

MODES = ("light", "dark", "auto")
# Font choices -> CSS font-family stacks of locally installed fonts only.
FONTS = {
    "system": 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    "sans": '"Helvetica Neue", Helvetica, Arial, "Liberation Sans", sans-serif',
    "serif": 'Georgia, "Times New Roman", "Liberation Serif", serif',
    "mono": 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace',
    "rounded": 'ui-rounded, "SF Pro Rounded", "Hiragino Maru Gothic ProN", system-ui, sans-serif',
}
# Colour name -> (what it paints, light default, dark default).
COLOURS = {
    "primary": ("buttons, links and the card's top edge", "#2f6fde", "#6ea8fe"),
    "page": ("page background", "#f3f5f9", "#0f1420"),
    "card": ("card background", "#ffffff", "#1a2130"),
    "text": ("text", "#1d2330", "#e6e9ef"),
    "muted": ("secondary text", "#5b6475", "#9aa3b5"),
    "line": ("borders and input outlines", "#d6dbe4", "#2d3648"),
}
COLOUR_MODES = ("light", "dark")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

MAX_CSS_CHARS = 65536
MAX_LOGO_BYTES = 100 * 1024  # Cognito's limit for the classic hosted UI's logo
MAX_BACKGROUND_BYTES = 512 * 1024
IMAGE_TYPES = (
    ("image/png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n") and b[12:16] == b"IHDR"),
    ("image/jpeg", lambda b: b.startswith(b"\xff\xd8\xff")),
    ("image/gif", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    ("image/webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
)
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}

ALLOWED_AT_RULES = frozenset(
    {"media", "supports", "keyframes", "-webkit-keyframes", "container", "layer"}
)
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_AT_RULE = re.compile(r"@([\w-]+)")
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_FORBIDDEN = (
    ("\\", "CSS escapes (backslashes) are not allowed."),
    ("<", "The character < is not allowed in CSS."),
    ("javascript:", "javascript: is not allowed in CSS."),
    ("vbscript:", "vbscript: is not allowed in CSS."),
    ("expression(", "expression() is not allowed in CSS."),
    ("image-set(", "image-set() is not allowed in CSS: use url(data:image/...)."),
    ("src(", "src() is not allowed in CSS: use url(data:image/...)."),
    ("behavior", "behavior is not allowed in CSS."),
    ("-moz-binding", "-moz-binding is not allowed in CSS."),
)


class Keep:
    """An argument left as it is."""


KEEP: Any = Keep()


@dataclass(frozen=True)
class BrandingRecord:
    id: str
    pool_id: str
    client_id: str | None
    settings: dict
    custom_css: str
    logo_type: str
    background_type: str
    use_defaults: bool
    created_at: Any
    updated_at: Any


def record(row: Branding) -> BrandingRecord:
    return BrandingRecord(
        id=str(row.id),
        pool_id=row.pool_id,
        client_id=row.client_id,
        settings=dict(row.settings),
        custom_css=row.custom_css,
        logo_type=row.logo_type,
        background_type=row.background_type,
        use_defaults=row.use_defaults,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def clean_settings(value: Any) -> dict:
    """The settings as stored: known keys only, each checked; absent keys mean "inherit"."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("Branding settings must be an object.", "settings")
    unknown = sorted(set(value) - {"mode", "font", *COLOUR_MODES})
    if unknown:
        raise invalid(f"Unknown branding setting: {unknown[0]}.", "settings")
    clean: dict[str, Any] = {}
    mode = value.get("mode")
    if mode not in (None, ""):
        if mode not in MODES:
            raise invalid(f"mode must be one of {', '.join(MODES)}.", "mode")
        clean["mode"] = mode
    font = value.get("font")
    if font not in (None, ""):
        if font not in FONTS:
            raise invalid(f"font must be one of {', '.join(FONTS)}.", "font")
        clean["font"] = font
    for colour_mode in COLOUR_MODES:
        colours = value.get(colour_mode)
        if colours in (None, {}):
            continue
        if not isinstance(colours, dict):
            raise invalid(f"{colour_mode} must be an object of colours.", colour_mode)
        kept = {}
        for name, colour in colours.items():
            field = f"{colour_mode}.{name}"
            if name not in COLOURS:
                raise invalid(f"Unknown colour {field}.", field)
            if colour in (None, ""):
                continue
            if not isinstance(colour, str) or not HEX.match(colour):
                raise invalid(f"{field} must look like #1a2b3c.", field)
            kept[name] = colour.lower()
        if kept:
            clean[colour_mode] = kept
    return clean


def clean_css(value: Any) -> str:
    """Custom CSS that can neither load nor run anything (see the module docstring)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid("CSS must be text.", "css")
    if len(value) > MAX_CSS_CHARS:
        raise invalid(f"CSS is limited to {MAX_CSS_CHARS} characters.", "css")
    if "\x00" in value:
        raise invalid("CSS must not contain NUL characters.", "css")
    if value.count("/*") and "*/" not in value.split("/*")[-1]:
        raise invalid("CSS has an unterminated comment.", "css")
    text = _COMMENT.sub(" ", value)
    lowered = re.sub(r"\s+", "", text.lower())
    for needle, message in _FORBIDDEN:
        if needle in lowered:
            raise invalid(message, "css")
    for name in _AT_RULE.findall(text):
        if name.lower() not in ALLOWED_AT_RULES:
            raise invalid(f"@{name} is not allowed in CSS.", "css")
    urls = _URL.findall(text)
    if lowered.count("url(") != len(urls):
        raise invalid("CSS has a url() that cannot be read.", "css")
    for _quote, target in urls:
        if not _DATA_IMAGE.match(target.strip()):
            raise invalid(
                "url() in CSS may only hold a data:image (PNG, JPEG, GIF or WebP); "
                "upload a logo or background instead of linking one.",
                "css",
            )
    depth = 0
    for char in re.sub(r"(\"[^\"]*\"|'[^']*')", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        raise invalid("CSS has unbalanced braces.", "css")
    return value


def clean_image(data: Any, field: str, *, max_bytes: int) -> tuple[bytes, str]:
    """(bytes, content type) of an uploaded image; empty bytes remove it."""
    if data is None or data == b"":
        return b"", ""
    if not isinstance(data, bytes | bytearray):
        raise invalid(f"{field} must be an image file.", field)
    data = bytes(data)
    if len(data) > max_bytes:
        raise invalid(f"{field} is limited to {max_bytes // 1024} KB.", field)
    for content_type, matches in IMAGE_TYPES:
        if matches(data):
            return data, content_type
    raise invalid(f"{field} must be a PNG, JPEG, GIF or WebP image (SVG is not accepted).", field)


def _image_fields(kind: str, data: Any, max_bytes: int) -> dict[str, Any]:
    data, content_type = clean_image(data, kind, max_bytes=max_bytes)
    digest = hashlib.sha256(data).hexdigest()[:16] if data else ""
    return {kind: data, f"{kind}_type": content_type, f"{kind}_digest": digest}


def _changes(settings: Any, css: Any, logo: Any, background: Any, use_defaults: Any) -> dict:
    """The checked field values for the arguments that are not KEEP."""
    changes: dict[str, Any] = {}
    if settings is not KEEP:
        changes["settings"] = clean_settings(settings)
    if css is not KEEP:
        changes["custom_css"] = clean_css(css)
    if logo is not KEEP:
        changes.update(_image_fields("logo", logo, MAX_LOGO_BYTES))
    if background is not KEEP:
        changes.update(_image_fields("background", background, MAX_BACKGROUND_BYTES))
    if use_defaults is not KEEP:
        changes["use_defaults"] = bool(use_defaults)
    return changes


def _check_client(pool: UserPool, client: AppClient | None) -> None:
    if client is not None and client.pool_id != pool.pk:
        raise invalid("The app client is not in this user pool.", "client_id")


def set_branding(
    *,
    pool: UserPool,
    client: AppClient | None = None,
    settings: Any = KEEP,
    css: Any = KEEP,
    logo: Any = KEEP,
    background: Any = KEEP,
    use_defaults: Any = KEEP,
) -> BrandingRecord:
    """Create or change the branding of `pool` (client None) or of one of its clients. Every
    argument left as KEEP stays as it was; None or empty clears it."""
    _check_client(pool, client)
    changes = _changes(settings, css, logo, background, use_defaults)
    with transaction.atomic():
        # get_or_create: a parallel first save finds the other's row instead of failing.
        row, _ = Branding.objects.select_for_update().get_or_create(pool=pool, client=client)
        for name, value in changes.items():
            setattr(row, name, value)
        row.save()
    return record(row)


def create_client_branding(
    *,
    pool: UserPool,
    client: AppClient,
    settings: Any = None,
    logo: Any = None,
    background: Any = None,
    use_defaults: bool = False,
) -> BrandingRecord:
    """A new branding for an app client that has none (CreateManagedLoginBranding)."""
    _check_client(pool, client)
    changes = _changes(settings, KEEP, logo, background, use_defaults)
    try:
        with transaction.atomic():
            row = Branding.objects.create(pool=pool, client=client, **changes)
    except IntegrityError:
        raise ManagedLoginBrandingExistsException() from None
    return record(row)


def _owned(pool: UserPool, branding_id: Any) -> Branding:
    try:
        key = uuid.UUID(str(branding_id))
    except ValueError:
        key = None
    row = Branding.objects.select_for_update().filter(pool=pool, pk=key).first() if key else None
    if row is None:
        raise ResourceNotFoundException("Managed login branding does not exist.")
    return row


def update_by_id(
    *,
    pool: UserPool,
    branding_id: str,
    settings: Any = KEEP,
    logo: Any = KEEP,
    background: Any = KEEP,
    use_defaults: Any = KEEP,
) -> BrandingRecord:
    changes = _changes(settings, KEEP, logo, background, use_defaults)
    with transaction.atomic():
        row = _owned(pool, branding_id)
        for name, value in changes.items():
            setattr(row, name, value)
        row.save()
    return record(row)


def delete_by_id(*, pool: UserPool, branding_id: str) -> None:
    with transaction.atomic():
        _owned(pool, branding_id).delete()


def delete_branding(*, pool: UserPool, client: AppClient | None = None) -> bool:
    """Remove a branding; True when there was one."""
    with transaction.atomic():
        deleted, _ = Branding.objects.filter(pool=pool, client=client).delete()
    return bool(deleted)
