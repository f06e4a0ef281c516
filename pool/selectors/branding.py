"""Reading branding: the rows of a pool or client, and the branding a page is shown in (the
client's overriding its pool's key by key; the client's older logo URL and colour fill what
neither row sets)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from pool.models import AppClient, Branding, UserPool
from pool.services.branding import HEX


@dataclass(frozen=True)
class Image:
    branding_pool: str
    branding_id: str
    kind: str  # "logo" | "background"
    digest: str


@dataclass(frozen=True)
class Effective:
    pool_id: str
    client_id: str | None
    settings: dict = field(default_factory=dict)
    css: tuple[str, ...] = ()
    logo: Image | None = None
    background: Image | None = None
    logo_url: str = ""  # an app client's external logo URL (its older setting)


def row(pool: UserPool, client: AppClient | None) -> Branding | None:
    return Branding.objects.filter(pool=pool, client=client).first()


def by_id(pool: UserPool, branding_id: object) -> Branding | None:
    """The pool's branding with this id (any level), or None for another pool's or a bad id."""
    import uuid

    try:
        key = uuid.UUID(str(branding_id))
    except ValueError:
        return None
    return Branding.objects.filter(pool=pool, pk=key).first()


def image(pool_id: str, branding_id: str, kind: str) -> tuple[bytes, str, str] | None:
    """(bytes, content type, digest) of a stored logo or background, or None."""
    found = (
        Branding.objects.filter(pool_id=pool_id, pk=branding_id)
        .values_list(kind, f"{kind}_type", f"{kind}_digest")
        .first()
    )
    if found is None or not found[0]:
        return None
    return bytes(found[0]), found[1], found[2]


def _image(level: Branding, kind: str) -> Image | None:
    digest = getattr(level, f"{kind}_digest")
    return (
        Image(branding_pool=level.pool_id, branding_id=str(level.pk), kind=kind, digest=digest)
        if digest
        else None
    )


def _merge(base: dict, over: dict) -> dict:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


def effective(pool: UserPool, client: AppClient | None, *, draft: dict | None = None) -> Effective:
    """The branding a hosted page of `pool` shown for `client` wears. `draft` (a console
    preview's unsaved {"settings", "css"}) stands in for the settings and CSS of the level it
    is for: the client's when `client` is given, else the pool's."""
    wanted = Q(client__isnull=True) | Q(client=client) if client else Q(client__isnull=True)
    levels = list(Branding.objects.filter(pool=pool).filter(wanted).defer("logo", "background"))
    pool_row = next((b for b in levels if b.client_id is None), None)
    client_row = next((b for b in levels if client and b.client_id == client.pk), None)
    # UseCognitoProvidedValues on the client's row: the defaults, whatever the pool's says.
    defaults = bool(client_row and client_row.use_defaults)
    if defaults:
        pool_row = client_row = None
    if pool_row is not None and pool_row.use_defaults:
        pool_row = None
    # The client's older single colour sits between the pool's branding and the client's own.
    legacy = None
    if client is not None and not defaults and HEX.match(client.brand_color or ""):
        legacy = {"light": {"primary": client.brand_color}}
    own = client_row if client is not None else pool_row
    settings: dict = {}
    css: list[str] = []
    for level in (pool_row, legacy, client_row):
        if level is None:
            continue
        if isinstance(level, dict):
            settings = _merge(settings, level)
            continue
        if draft is not None and level is own:
            continue
        settings = _merge(settings, level.settings)
        if level.custom_css:
            css.append(level.custom_css)
    if draft is not None:
        settings = _merge(settings, draft.get("settings") or {})
        if draft.get("css"):
            css.append(draft["css"])
    logo = background = None
    for level in (pool_row, client_row):
        if level is not None:
            logo = _image(level, "logo") or logo
            background = _image(level, "background") or background
    return Effective(
        pool_id=pool.pk,
        client_id=client.pk if client else None,
        settings=settings,
        css=tuple(css),
        logo=logo,
        background=background,
        logo_url=client.logo_url if client is not None and logo is None and not defaults else "",
    )
