"""A pool's identity providers: list, add (per ProviderType), edit, enable / disable, delete,
and "Test" (read the provider's discovery document or SAML metadata and report). Each change
is one call to pool.services.identity_providers, the service the JSON API calls, under one
audit entry. Secrets are write-only: no page, report or audit entry holds them."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from console import audit, errors
from console.access import operator_view
from console.forms.identity_providers import TYPE_LABELS, ProviderForm
from console.views.common import confirm_delete, get_pool
from pool.errors import CognitoError
from pool.models import AppClient, FederatedIdentity, IdentityProvider, ProviderType, UserPool
from pool.models.federation import SECRET_DETAIL_KEYS
from pool.services import identity_provider_checks as checks
from pool.services import identity_providers as idp_services


def _page(pool: UserPool, **extra) -> dict:
    return {"pool": pool, "tab": "providers", "section": "pools", **extra}


def _get_provider(pool: UserPool, provider_id: int) -> IdentityProvider:
    return get_object_or_404(
        IdentityProvider.objects.select_related("pool"), pool=pool, pk=provider_id
    )


def _attach(form: ProviderForm, exc: CognitoError) -> None:
    """The service names ProviderDetails errors `details` and the key in its message: show the
    message next to each detail field it names (all of them when it names several)."""
    if exc.field == "details":
        named = [
            key
            for key in form.detail_names
            if key in form.fields and re.search(rf"(?<![\w:]){re.escape(key)}(?![\w])", exc.message)
        ]
        if named:
            for key in named:
                form.add_error(key, exc.message)
            return
    errors.attach(form, exc)


def _audit_detail(form: ProviderForm, details: dict[str, str]) -> dict:
    """What changed, without a secret's value: only whether one was given."""
    return {
        "provider_type": form.provider_type,
        "details": sorted(k for k in details if k not in SECRET_DETAIL_KEYS),
        "secrets_given": sorted(k for k in details if k in SECRET_DETAIL_KEYS),
        "attribute_mapping": sorted(form.cleaned_data["attribute_mapping"]),
        "idp_identifiers": form.cleaned_data["idp_identifiers"],
        "enabled": form.cleaned_data["enabled"],
    }


@operator_view
def provider_list(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    providers = IdentityProvider.objects.filter(pool=pool).order_by("provider_name")
    users = {
        row["provider_name"]: row["count"]
        for row in FederatedIdentity.objects.filter(pool=pool)
        .values("provider_name")
        .order_by()
        .annotate(count=Count("pk"))
    }
    rows = [(provider, users.get(provider.provider_name, 0)) for provider in providers]
    types = [(value, TYPE_LABELS[value]) for value in ProviderType.values]
    return render(request, "console/providers/list.html", _page(pool, rows=rows, types=types))


@operator_view
def provider_create(request: HttpRequest, pool_id: str, provider_type: str) -> HttpResponse:
    pool = get_pool(pool_id)
    if provider_type not in ProviderType.values:
        raise Http404("No such provider type.")
    form = ProviderForm(request.POST or None, pool=pool, provider_type=provider_type)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            name = form.cleaned_data["provider_name"]
            values = form.provider_settings()
            try:
                with audit.recording(
                    request,
                    "identity_provider.create",
                    pool=pool,
                    detail={"provider_name": name, **_audit_detail(form, values["details"])},
                ):
                    provider = idp_services.create_identity_provider(
                        pool=pool, provider_name=name, provider_type=provider_type, **values
                    )
            except CognitoError as exc:
                _attach(form, exc)
            else:
                messages.success(request, f"Identity provider {provider.provider_name} added.")
                return redirect("console:provider", pool_id=pool.id, provider_id=provider.pk)
    page = _page(
        pool, form=form, provider_type=provider_type, type_label=TYPE_LABELS[provider_type]
    )
    return render(request, "console/providers/form.html", page, status=status)


def _detail_page(request, pool, provider, form, *, status=200, report=None) -> HttpResponse:
    clients = [
        client
        for client in AppClient.objects.filter(pool=pool).order_by("name")
        if provider.provider_name in (client.supported_identity_providers or [])
    ]
    page = _page(
        pool,
        form=form,
        provider=provider,
        provider_type=provider.provider_type,
        type_label=TYPE_LABELS[provider.provider_type],
        report=report,
        clients=clients,
        # What the provider's administrator registers: our redirect URI, or our SP metadata.
        redirect_uri=settings.PUBLIC_URL + reverse("hostedui:idpresponse", args=[pool.id]),
        sp_metadata_url=settings.PUBLIC_URL + reverse("hostedui:saml_metadata", args=[pool.id]),
        linked=FederatedIdentity.objects.filter(
            pool=pool, provider_name=provider.provider_name
        ).count(),
    )
    return render(request, "console/providers/form.html", page, status=status)


@operator_view
def provider_detail(request: HttpRequest, pool_id: str, provider_id: int) -> HttpResponse:
    """The provider's settings; a POST saves them (UpdateIdentityProvider)."""
    pool = get_pool(pool_id)
    provider = _get_provider(pool, provider_id)
    form = ProviderForm(
        request.POST or None, pool=pool, provider_type=provider.provider_type, provider=provider
    )
    if request.method != "POST":
        return _detail_page(request, pool, provider, form)
    if form.is_valid():
        values = form.provider_settings()
        try:
            with audit.recording(
                request,
                "identity_provider.update",
                pool=pool,
                detail={
                    "provider_name": provider.provider_name,
                    **_audit_detail(form, values["details"]),
                },
            ):
                idp_services.update_identity_provider(provider=provider, **values)
        except CognitoError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"Identity provider {provider.provider_name} saved.")
            return redirect("console:provider", pool_id=pool.id, provider_id=provider.pk)
    return _detail_page(request, pool, provider, form, status=400)


@operator_view
@require_POST
def provider_set_enabled(
    request: HttpRequest, pool_id: str, provider_id: int, enabled: bool
) -> HttpResponse:
    pool = get_pool(pool_id)
    provider = _get_provider(pool, provider_id)
    action = "identity_provider.enable" if enabled else "identity_provider.disable"
    try:
        with audit.recording(
            request, action, pool=pool, detail={"provider_name": provider.provider_name}
        ):
            idp_services.update_identity_provider(provider=provider, enabled=enabled)
    except CognitoError as exc:
        messages.error(request, exc.message)
    else:
        state = "enabled" if enabled else "disabled: it signs nobody in until enabled again"
        messages.success(request, f"Identity provider {provider.provider_name} is {state}.")
    return redirect("console:provider", pool_id=pool.id, provider_id=provider.pk)


@operator_view
@require_POST
def provider_test(request: HttpRequest, pool_id: str, provider_id: int) -> HttpResponse:
    """Fetch and validate what the provider publishes; show the report on its page."""
    pool = get_pool(pool_id)
    provider = _get_provider(pool, provider_id)
    # Outside any transaction: the fetches may take up to their timeouts.
    report = checks.check_identity_provider(provider=provider)
    audit.write(
        request,
        "identity_provider.test",
        pool=pool,
        detail={
            "provider_name": provider.provider_name,
            "outcome": "ok" if report.ok else "failed",
            "failed": [item.label for item in report.items if not item.ok],
        },
    )
    form = ProviderForm(pool=pool, provider_type=provider.provider_type, provider=provider)
    return _detail_page(request, pool, provider, form, report=report)


@operator_view
def provider_delete(request: HttpRequest, pool_id: str, provider_id: int) -> HttpResponse:
    pool = get_pool(pool_id)
    provider = _get_provider(pool, provider_id)
    return confirm_delete(
        request,
        noun="identity provider",
        name=provider.provider_name,
        consequence="App clients stop offering it and its users can no longer sign in with it. "
        "The users and their links stay: a provider made again under the same name signs them "
        "in again.",
        page=_page(pool),
        cancel_url=reverse("console:provider", args=[pool.id, provider.pk]),
        audit_action="identity_provider.delete",
        audit_targets={
            "pool": pool,
            "detail": {
                "provider_name": provider.provider_name,
                "provider_type": provider.provider_type,
            },
        },
        delete=lambda: idp_services.delete_identity_provider(provider=provider),
        done_url=reverse("console:providers", args=[pool.id]),
    )
