"""The branding a hosted page links to: its stylesheet (`/{pool}/branding.css`), the uploaded
logo and background images, and the console's preview of unsaved branding (the sign-in page
as it would look, framed by the console only)."""

from __future__ import annotations

import re
import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from config import security
from hostedui import branding as hosted_branding
from hostedui import forms
from hostedui.oauth import ErrorPage
from hostedui.views.common import error_page, load_pool
from pool.models import AppClient
from pool.selectors import branding as branding_selectors

YEAR = 365 * 24 * 3600
IMAGE_KINDS = ("logo", "background")
CLIENT_ID = re.compile(r"^\w{1,128}$", re.ASCII)


def _etag_matches(request: HttpRequest, etag: str) -> bool:
    candidates = request.headers.get("If-None-Match", "")
    return any(part.strip() in (etag, f"W/{etag}", "*") for part in candidates.split(","))


def _versioned(request: HttpRequest, response: HttpResponse, current: str) -> HttpResponse:
    """Long caching when the URL names the current version, revalidation otherwise; 304 when
    the browser already holds it."""
    etag = f'"{current}"'
    if _etag_matches(request, etag):
        response = HttpResponse(status=304)
    response["ETag"] = etag
    if request.GET.get("v") == current:
        response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response["Cache-Control"] = "public, no-cache"
    return response


def _not_found(content_type: str = "text/plain") -> HttpResponse:
    response = HttpResponse("Not found.\n", status=404, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def stylesheet(request: HttpRequest, pool_id: str) -> HttpResponse:
    """The branding of the pool, or of the client named by `client_id`, as one stylesheet.
    With `preview=<token>`: a console draft's, never cached."""
    try:
        pool = load_pool(pool_id)
    except ErrorPage:
        return _not_found("text/css")
    client_id = request.GET.get("client_id") or None
    draft = None
    token = request.GET.get("preview")
    if token:
        loaded = hosted_branding.load_draft(token, pool_id=pool.pk)
        if loaded is None:
            return _not_found("text/css")
        client_id, draft = loaded
    client = None
    if client_id is not None:
        # Client ids are letters and digits: anything else (a NUL byte, which PostgreSQL
        # cannot even compare) names no client.
        found = (
            AppClient.objects.filter(pool=pool, pk=client_id)
            if CLIENT_ID.match(client_id)
            else None
        )
        client = found.first() if found is not None else None
        if client is None:
            return _not_found("text/css")
    effective = branding_selectors.effective(pool, client, draft=draft)
    css = hosted_branding.stylesheet(effective)
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    if draft is not None:
        response["Cache-Control"] = "no-store"
        return response
    return _versioned(request, response, hosted_branding.version(css))


@require_GET
def image(request: HttpRequest, pool_id: str, branding_id: str, kind: str) -> HttpResponse:
    try:
        uuid.UUID(branding_id)
        load_pool(pool_id)
    except (ValueError, ErrorPage):
        return _not_found()
    found = branding_selectors.image(pool_id, branding_id, kind) if kind in IMAGE_KINDS else None
    if found is None:
        return _not_found()
    data, content_type, digest = found
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{kind}"'
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _versioned(request, response, digest)


@require_GET
@xframe_options_sameorigin
def preview(request: HttpRequest, pool_id: str) -> HttpResponse:
    """The sign-in page in a console draft's branding. Framable by our own pages only; its
    form goes nowhere (a POST here is refused)."""
    try:
        pool = load_pool(pool_id)
    except ErrorPage as exc:
        return error_page(request, exc, status=404)
    token = request.GET.get("token", "")
    loaded = hosted_branding.load_draft(token, pool_id=pool.pk)
    if loaded is None:
        return error_page(
            request,
            ErrorPage("invalid_request", gettext("This preview has expired. Preview again.")),
            status=400,
        )
    client_id, draft = loaded
    client = AppClient.objects.filter(pool=pool, pk=client_id).first() if client_id else None
    effective = branding_selectors.effective(pool, client, draft=draft)
    css = hosted_branding.stylesheet(effective)
    context = {
        "pool": pool,
        "title": gettext("Sign in"),
        "form": forms.SignInForm(pool=pool).annotate(),
        "links": {"forgot_password": "#", "signup": "#"},
        "app_name": client.name if client else pool.name,
        "logo_url": hosted_branding.logo_src(effective),
        "branding_css_url": hosted_branding.stylesheet_url(effective, css, preview=token),
        "preview": True,
    }
    response = render(request, "hostedui/login.html", context)
    response["Content-Security-Policy"] = security.content_security_policy(
        request.csp_nonce, form_action="'none'", frame_ancestors="'self'"
    )
    response["Cache-Control"] = "no-store"
    return response
