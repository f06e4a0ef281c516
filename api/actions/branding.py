"""Cognito's hosted-UI branding over pool/services/branding.py: the classic customization
(SetUICustomization, GetUICustomization) and managed login branding (Create, Describe,
DescribeByClient, Update, Delete ManagedLoginBranding: see the section below).

As in Cognito, `ClientId` ALL (or none) is the pool's customization, used for every client
without one of its own; `CSS` and `ImageFile` (the logo) are set together, so a member left
out is cleared. Differences, each on purpose:
- no domain is needed: Cognate serves every pool's pages at `{PUBLIC_URL}/{pool}/`;
- a client's customization overrides the pool's key by key instead of replacing it whole: the
  pool's CSS is served first and the client's after it, so the client's rules win the cascade;
- CSS is checked as pool/services/branding.py says (nothing that loads or runs), and Cognito's
  classic classes (`.submitButton-customizable`, ...) are mapped onto our pages;
- `ImageUrl` is the logo's address on this server, `CSSVersion` a hash of the stored CSS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from django.conf import settings
from django.urls import reverse

from api import wire
from api.registry import Auth, Call, action
from pool.errors import InvalidParameterException, ResourceNotFoundException
from pool.models import AppClient, UserPool
from pool.selectors import branding as branding_selectors
from pool.services import branding

ALL = "ALL"
FIELD_NAMES = {"css": "CSS", "logo": "ImageFile"}


def _client(pool: UserPool, params: dict[str, Any]) -> AppClient | None:
    client_id = params.get("ClientId")
    if client_id in (None, ALL):
        return None
    return wire.get_client(pool, client_id)


def _image(params: dict[str, Any]) -> bytes | None:
    encoded = params.get("ImageFile")
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameterException("ImageFile must be base64-encoded.") from None


def customization(pool: UserPool, asked: str, row) -> dict[str, Any]:
    """Cognito's UICustomizationType for the row that answers (client's, else pool's)."""
    answer: dict[str, Any] = {"UserPoolId": pool.pk, "ClientId": asked}
    if row is None:
        return answer
    if row.logo_digest:
        path = reverse(
            "hostedui:branding_image",
            kwargs={"pool_id": pool.pk, "branding_id": str(row.pk), "kind": "logo"},
        )
        answer["ImageUrl"] = f"{settings.PUBLIC_URL.rstrip('/')}{path}?v={row.logo_digest}"
    answer["CSS"] = row.custom_css
    answer["CSSVersion"] = hashlib.sha256(row.custom_css.encode()).hexdigest()[:16]
    answer["CreationDate"] = wire.epoch(row.created_at)
    answer["LastModifiedDate"] = wire.epoch(row.updated_at)
    return answer


@action("SetUICustomization", auth=Auth.SIGV4)
def set_ui_customization(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    client = _client(pool, call.params)
    with wire.in_api_terms(FIELD_NAMES):
        branding.set_branding(
            pool=pool, client=client, css=call.params.get("CSS"), logo=_image(call.params)
        )
    row = branding_selectors.row(pool, client)
    return {"UICustomization": customization(pool, client.pk if client else ALL, row)}


@action("GetUICustomization", auth=Auth.SIGV4)
def get_ui_customization(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    client = _client(pool, call.params)
    row = branding_selectors.row(pool, client)
    if row is None and client is not None:
        row = branding_selectors.row(pool, None)
    return {"UICustomization": customization(pool, client.pk if client else ALL, row)}


# ------------------------------------------------------------------ managed login branding
#
# A managed login branding is an app client's branding row, named by its id. `Settings` takes
# Cognate's own vocabulary ({"mode", "font", "light", "dark"}: see pool/services/branding.py),
# not the component document of Cognito's branding editor, which is refused key by key as
# unknown rather than half applied. Assets: PAGE_HEADER_LOGO or FORM_LOGO is the logo,
# PAGE_BACKGROUND the page background, PNG/JPEG/WEBP; ColorMode is accepted and the image is
# shown in every mode; SVG and the other categories are refused.

ASSET_KINDS = {"PAGE_HEADER_LOGO": "logo", "FORM_LOGO": "logo", "PAGE_BACKGROUND": "background"}
ASSET_EXTENSIONS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


def _assets(params: dict[str, Any]) -> dict[str, Any]:
    """{"logo": bytes, "background": bytes} from Assets; a kind not listed is cleared."""
    if "Assets" not in params:
        return {}
    found: dict[str, Any] = {"logo": None, "background": None}
    for asset in params["Assets"]:
        kind = ASSET_KINDS.get(asset["Category"])
        if kind is None:
            raise InvalidParameterException(
                f"Asset category {asset['Category']} is not used by Cognate's pages: send "
                "PAGE_HEADER_LOGO, FORM_LOGO or PAGE_BACKGROUND."
            )
        if asset["Extension"] not in ASSET_EXTENSIONS.values():
            raise InvalidParameterException(
                f"Asset extension {asset['Extension']} is not accepted: PNG, JPEG or WEBP."
            )
        if "ResourceId" in asset or "Bytes" not in asset:
            raise InvalidParameterException("Each asset needs its Bytes (ResourceId is not used).")
        try:
            found[kind] = base64.b64decode(asset["Bytes"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameterException("Asset Bytes must be base64-encoded.") from None
    return found


def _asset_list(row) -> list[dict[str, Any]]:
    assets = []
    for kind, category in (("logo", "FORM_LOGO"), ("background", "PAGE_BACKGROUND")):
        data = bytes(getattr(row, kind) or b"")
        if data:
            assets.append(
                {
                    "Category": category,
                    "ColorMode": "DYNAMIC",
                    "Extension": ASSET_EXTENSIONS.get(getattr(row, f"{kind}_type"), "PNG"),
                    "Bytes": base64.b64encode(data).decode(),
                }
            )
    return assets


def managed(row) -> dict[str, Any]:
    return {
        "ManagedLoginBranding": {
            "ManagedLoginBrandingId": str(row.pk),
            "UserPoolId": row.pool_id,
            "UseCognitoProvidedValues": row.use_defaults,
            "Settings": row.settings,
            "Assets": _asset_list(row),
            "CreationDate": wire.epoch(row.created_at),
            "LastModifiedDate": wire.epoch(row.updated_at),
        }
    }


def _managed_changes(params: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = dict(_assets(params))
    if "Settings" in params:
        changes["settings"] = params["Settings"]
    if "UseCognitoProvidedValues" in params:
        changes["use_defaults"] = params["UseCognitoProvidedValues"]
    return changes


@action("CreateManagedLoginBranding", auth=Auth.SIGV4)
def create_managed_login_branding(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    client = wire.get_client(pool, call.params["ClientId"])
    with wire.in_api_terms({"settings": "Settings", "logo": "Assets", "background": "Assets"}):
        saved = branding.create_client_branding(
            pool=pool, client=client, **_managed_changes(call.params)
        )
    return managed(branding_selectors.by_id(pool, saved.id))


@action("DescribeManagedLoginBranding", auth=Auth.SIGV4)
def describe_managed_login_branding(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    row = branding_selectors.by_id(pool, call.params["ManagedLoginBrandingId"])
    if row is None:
        raise ResourceNotFoundException("Managed login branding does not exist.")
    return managed(row)


@action("DescribeManagedLoginBrandingByClient", auth=Auth.SIGV4)
def describe_managed_login_branding_by_client(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    client = wire.get_client(pool, call.params["ClientId"])
    row = branding_selectors.row(pool, client)
    if row is None:
        raise ResourceNotFoundException("Managed login branding does not exist.")
    return managed(row)


@action("UpdateManagedLoginBranding", auth=Auth.SIGV4)
def update_managed_login_branding(call: Call) -> dict[str, Any]:
    if "UserPoolId" not in call.params or "ManagedLoginBrandingId" not in call.params:
        raise InvalidParameterException("UserPoolId and ManagedLoginBrandingId are required.")
    pool = wire.get_pool(call.params["UserPoolId"])
    with wire.in_api_terms({"settings": "Settings", "logo": "Assets", "background": "Assets"}):
        saved = branding.update_by_id(
            pool=pool,
            branding_id=call.params["ManagedLoginBrandingId"],
            **_managed_changes(call.params),
        )
    return managed(branding_selectors.by_id(pool, saved.id))


@action("DeleteManagedLoginBranding", auth=Auth.SIGV4)
def delete_managed_login_branding(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    branding.delete_by_id(pool=pool, branding_id=call.params["ManagedLoginBrandingId"])
    return {}
