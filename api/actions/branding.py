"""Cognito's classic hosted-UI customization: SetUICustomization and GetUICustomization, over
pool/services/branding.py.

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
from pool.errors import InvalidParameterException
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
        path = reverse("hostedui:branding_image", args=[pool.pk, str(row.pk), "logo"])
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
