"""Pools: overview, create, edit, delete, and custom attributes of the schema."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from console import audit, errors
from console.access import operator_view
from console.forms.pools import CustomAttributeForm, PoolForm
from console.views.common import confirm_delete, get_pool
from pool.errors import CognitoError
from pool.services import pools as pool_services


@operator_view
def create(request: HttpRequest) -> HttpResponse:
    form = PoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        settings = form.settings()
        try:
            with audit.recording(
                request, "pool.create", detail={"name": settings["name"]}
            ) as entry:
                entry.pool = pool_services.create_pool(**settings)
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, f"Pool {entry.pool.name} created.")
            return redirect("console:pool", pool_id=entry.pool.id)
    return render(request, "console/pools/form.html", {"form": form, "section": "pools"})


@operator_view
def detail(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    page = {
        "pool": pool,
        "tab": "overview",
        "section": "pools",
        "custom_attributes": pool.custom_attributes.all(),
        "attribute_form": CustomAttributeForm(),
        "frozen": pool_services.FROZEN_SETTINGS,
    }
    return render(request, "console/pools/detail.html", page)


@operator_view
def edit(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    form = PoolForm(request.POST or None, pool=pool)
    if request.method == "POST" and form.is_valid():
        changes = {
            name: value for name, value in form.settings().items() if getattr(pool, name) != value
        }
        try:
            with audit.recording(
                request, "pool.update", pool=pool, detail={"changed": sorted(changes)}
            ):
                pool_services.update_pool(pool=pool, **changes)
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, "Pool settings saved.")
            return redirect("console:pool", pool_id=pool.id)
    page = {"form": form, "pool": pool, "tab": "overview", "section": "pools"}
    return render(request, "console/pools/form.html", page)


@operator_view
def delete(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    return confirm_delete(
        request,
        noun="pool",
        name=pool.name,
        consequence="Every user, group, app client, key and event of the pool is deleted.",
        page={"pool": pool, "tab": "overview", "section": "pools"},
        cancel_url=reverse("console:pool", args=[pool.id]),
        audit_action="pool.delete",
        audit_targets={"pool": pool.id, "detail": {"name": pool.name}},
        delete=lambda: pool_services.delete_pool(pool=pool),
        done_url=reverse("console:index"),
    )


@operator_view
@require_POST
def add_attribute(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    form = CustomAttributeForm(request.POST)
    if form.is_valid():
        attribute = form.attribute()
        try:
            with audit.recording(request, "pool.add_custom_attribute", pool=pool, detail=attribute):
                pool_services.add_custom_attribute(pool=pool, **attribute)
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, f"Attribute custom:{attribute['name']} added.")
            return redirect("console:pool", pool_id=pool.id)
    page = {
        "pool": pool,
        "tab": "overview",
        "section": "pools",
        "custom_attributes": pool.custom_attributes.all(),
        "attribute_form": form,
        "frozen": pool_services.FROZEN_SETTINGS,
    }
    return render(request, "console/pools/detail.html", page, status=400)
