"""Pools: overview, create, edit, delete, custom attributes of the schema, and domains."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from console import audit, errors
from console.access import operator_view
from console.forms.pools import CustomAttributeForm, DomainForm, PoolChangeForm, PoolForm
from console.views.common import confirm_delete, get_pool
from pool import jwt
from pool.errors import CognitoError
from pool.models import UserPool
from pool.selectors import domains as domain_selectors
from pool.services import domains as domain_services
from pool.services import pool_changes
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


def _detail_page(pool: UserPool, **forms) -> dict:
    return {
        "pool": pool,
        "tab": "overview",
        "section": "pools",
        "custom_attributes": pool.custom_attributes.all(),
        "attribute_form": forms.get("attribute_form") or CustomAttributeForm(),
        # Each domain with the URL its hosted pages are served at (hostedui.hosts).
        "domains": [
            (row, domain_selectors.base_url(row))
            for row in sorted(domain_selectors.of_pool(pool).values(), key=lambda d: d.kind)
        ],
        "domain_form": forms.get("domain_form") or DomainForm(),
        "frozen": pool_services.FROZEN_SETTINGS,
        "issuer": jwt.issuer(pool),
    }


@operator_view
def detail(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    return render(request, "console/pools/detail.html", _detail_page(pool))


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
def change(request: HttpRequest, pool_id: str) -> HttpResponse:
    """Change what Cognito fixes at creation: "Preview" shows the dry run's report, "Apply"
    migrates (refused, with the report, while sign-in names would collide)."""
    pool = get_pool(pool_id)
    form = PoolChangeForm(request.POST or None, pool=pool)
    report = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            change = pool_changes.PoolChange.of(**form.change())
            if request.POST.get("action") == "apply":
                with audit.recording(request, "pool.change", pool=pool) as entry:
                    report = pool_changes.apply(pool=pool, change=change)
                    entry.detail = {"changes": [c[0] for c in report.changes]}
            else:
                report = pool_changes.plan(pool=pool, change=change)
        except CognitoError as exc:
            report = getattr(exc, "report", None)
            if report is not None:
                form.add_error(None, exc.message)
            else:
                errors.attach(form, exc)
            status = 400
        else:
            if report.applied:
                messages.success(request, f"Pool changed: {len(report.changes)} setting(s).")
                return redirect("console:pool", pool_id=pool.id)
    elif request.method == "POST":
        status = 400
    page = {"form": form, "pool": pool, "report": report, "tab": "overview", "section": "pools"}
    return render(request, "console/pools/change.html", page, status=status)


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


def _submit_to_pool_page(
    request: HttpRequest,
    pool: UserPool,
    form,
    *,
    slot: str,
    audit_action: str,
    values: Callable[[], dict],
    call: Callable[..., object],
    done: Callable[[dict], str],
) -> HttpResponse:
    """One form of the pool page: on valid input, `call(pool=pool, **values)` runs under its
    audit entry and the operator goes back to the page; otherwise the page again (400) with
    this form, in its `slot`, showing the errors."""
    if form.is_valid():
        given = values()
        try:
            with audit.recording(request, audit_action, pool=pool, detail=given):
                call(pool=pool, **given)
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, done(given))
            return redirect("console:pool", pool_id=pool.id)
    page = _detail_page(pool, **{slot: form})
    return render(request, "console/pools/detail.html", page, status=400)


@operator_view
@require_POST
def add_attribute(request: HttpRequest, pool_id: str) -> HttpResponse:
    form = CustomAttributeForm(request.POST)
    return _submit_to_pool_page(
        request,
        get_pool(pool_id),
        form,
        slot="attribute_form",
        audit_action="pool.add_custom_attribute",
        values=form.attribute,
        call=pool_services.add_custom_attribute,
        done=lambda attribute: f"Attribute custom:{attribute['name']} added.",
    )


@operator_view
@require_POST
def add_domain(request: HttpRequest, pool_id: str) -> HttpResponse:
    """Give the pool a prefix or (with a certificate ARN) a custom domain."""
    form = DomainForm(request.POST)
    return _submit_to_pool_page(
        request,
        get_pool(pool_id),
        form,
        slot="domain_form",
        audit_action="pool.add_domain",
        values=form.values,
        call=domain_services.create_domain,
        done=lambda values: f"Domain {values['domain']} added.",
    )


@operator_view
@require_POST
def delete_domain(request: HttpRequest, pool_id: str, domain: str) -> HttpResponse:
    pool = get_pool(pool_id)
    try:
        with audit.recording(request, "pool.delete_domain", pool=pool, detail={"domain": domain}):
            domain_services.delete_domain(pool_id=pool.id, domain=domain)
    except CognitoError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Domain {domain} removed.")
    return redirect("console:pool", pool_id=pool.id)
