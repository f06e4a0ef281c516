"""Signing keys (list, rotate) and the pool's sign-in events."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console import audit
from console.access import operator_view
from console.views.common import get_pool, keyset_page
from pool.errors import CognitoError
from pool.models import AuthEvent, SigningKey
from pool.services import keys as key_services


@operator_view
def key_list(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    published = {jwk["kid"] for jwk in key_services.jwks(pool)["keys"]}
    page = {
        "pool": pool,
        "tab": "keys",
        "section": "pools",
        "keys": SigningKey.objects.filter(pool=pool).order_by("-created_at"),
        "published": published,
    }
    return render(request, "console/keys.html", page)


@operator_view
@require_POST
def key_rotate(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    try:
        with audit.recording(request, "keys.rotate", pool=pool) as entry:
            key = key_services.rotate(pool=pool)
            entry.detail["kid"] = key.kid
    except CognitoError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"New signing key {key.kid} is active; the previous one is retired."
        )
    return redirect("console:keys", pool_id=pool.id)


EVENT_FILTERS = {"failed": {"success": False}, "succeeded": {"success": True}}


@operator_view
def event_list(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    events = AuthEvent.objects.filter(pool=pool)
    kind = request.GET.get("type", "")
    if kind in AuthEvent.Type.values:
        events = events.filter(event_type=kind)
    outcome = request.GET.get("outcome", "")
    events = events.filter(**EVENT_FILTERS.get(outcome, {}))
    page = {
        "pool": pool,
        "tab": "events",
        "section": "pools",
        "types": AuthEvent.Type.choices,
        "kind": kind,
        "outcome": outcome,
        **keyset_page(request, events),
    }
    return render(request, "console/events.html", page)
