"""Branding of a pool and of each app client: the form, and a live preview of the real sign-in
page (an iframe of hostedui's preview URL, with a signed token naming the unsaved draft)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from console import audit, errors
from console.access import operator_view
from console.forms.branding import BrandingForm
from console.views.common import get_pool
from hostedui import branding as hosted_branding
from pool.errors import CognitoError
from pool.models import AppClient
from pool.selectors import branding as branding_selectors
from pool.services import branding
from pool.services.branding import KEEP

# Service fields -> the form's fields.
FIELD_ALIASES = {
    "settings": None,
    **{f"{m}.{n}": f"{m}_{n}" for m in branding.COLOUR_MODES for n in branding.COLOURS},
}


def _preview_url(pool_id: str, client_id: str | None, settings: dict, css: str) -> str:
    token = hosted_branding.save_draft(
        pool_id=pool_id, client_id=client_id, settings=settings, css=css
    )
    path = reverse("hostedui:branding_preview", kwargs={"pool_id": pool_id})
    return f"{path}?token={token}"


@operator_view
def edit(request: HttpRequest, pool_id: str, client_id: str | None = None) -> HttpResponse:
    pool = get_pool(pool_id)
    client = get_object_or_404(AppClient, pool=pool, client_id=client_id) if client_id else None
    row = branding_selectors.row(pool, client)
    saved_settings = row.settings if row else {}
    saved_css = row.custom_css if row else ""
    form = BrandingForm(
        request.POST or None,
        request.FILES or None,
        initial_settings=saved_settings,
        css=saved_css,
    )
    preview_url = ""
    if request.method == "POST" and form.is_valid():
        try:
            settings = branding.clean_settings(form.settings_value())
            css = branding.clean_css(form.cleaned_data["css"])
            if request.POST.get("action") == "preview":
                preview_url = _preview_url(pool.pk, client_id, settings, css)
            else:
                logo, background = form.image("logo"), form.image("background")
                with audit.recording(
                    request,
                    "branding.update",
                    pool=pool,
                    client=client,
                    detail={"logo": logo is not None, "background": background is not None},
                ):
                    branding.set_branding(
                        pool=pool,
                        client=client,
                        settings=settings,
                        css=css,
                        logo=KEEP if logo is None else logo,
                        background=KEEP if background is None else background,
                    )
                messages.success(request, "Branding saved.")
                if client:
                    return redirect("console:client_branding", pool_id=pool.pk, client_id=client_id)
                return redirect("console:pool_branding", pool_id=pool.pk)
        except CognitoError as exc:
            errors.attach(form, exc, aliases=FIELD_ALIASES)
    status = 400 if form.errors else 200
    if not preview_url:
        preview_url = _preview_url(pool.pk, client_id, saved_settings, saved_css)
    page = {
        "pool": pool,
        "client": client,
        "tab": "clients" if client else "branding",
        "section": "pools",
        "form": form,
        "row": row,
        "preview_url": preview_url,
    }
    return render(request, "console/branding.html", page, status=status)
