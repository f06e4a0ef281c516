"""Moving users in and out as CSV (Cognito's import format, plus password hashes), and whole
pools as sealed cognate-pool JSON (pool/services/pool_transfer.py)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console import audit, errors
from console.access import operator_view
from console.forms.transfer import ExportForm, ImportForm, PoolExportForm, PoolImportForm
from console.views.common import get_pool
from pool import clock
from pool.errors import CognitoError
from pool.services import pool_transfer, user_import

SHOWN_ROW_ERRORS = 200


def _page(request, pool, *, status=200, **extra) -> HttpResponse:
    page = {
        "pool": pool,
        "tab": "import",
        "section": "pools",
        "header": user_import.csv_header(pool),
        "export_form": extra.pop("export_form", None) or ExportForm(),
        "import_form": extra.pop("import_form", None) or ImportForm(),
        "pool_export_form": extra.pop("pool_export_form", None) or PoolExportForm(),
        **extra,
    }
    return render(request, "console/users/transfer.html", page, status=status)


@operator_view
def transfer(request: HttpRequest, pool_id: str) -> HttpResponse:
    """The import and export page; a POST imports the uploaded file."""
    pool = get_pool(pool_id)
    if request.method != "POST":
        return _page(request, pool)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, pool, status=400, import_form=form)
    try:
        with audit.recording(request, "users.import", pool=pool) as entry:
            result = user_import.import_csv(pool, form.cleaned_data["csv_file"])
            entry.detail.update(imported=result.imported, failed=len(result.errors))
    except CognitoError as exc:
        errors.attach(form, exc, aliases={"header": "csv_file"})
        return _page(request, pool, status=400, import_form=form)
    return _page(
        request,
        pool,
        result=result,
        row_errors=result.errors[:SHOWN_ROW_ERRORS],
        more_errors=max(len(result.errors) - SHOWN_ROW_ERRORS, 0),
    )


@operator_view
@require_POST
def export(request: HttpRequest, pool_id: str) -> HttpResponse:
    """Download every user of the pool as CSV. A POST (audited), since with hashes or TOTP
    seeds it hands out credentials material."""
    pool = get_pool(pool_id)
    form = ExportForm(request.POST)
    form.is_valid()
    hashes = form.cleaned_data.get("with_password_hashes", False)
    seeds = form.cleaned_data.get("with_totp_secrets", False)
    detail = {"password_hashes": hashes}
    if seeds:
        detail["totp_secrets"] = True
    audit.write(request, "users.export", pool=pool, detail=detail)
    lines = user_import.export_rows(pool, with_password_hashes=hashes, with_totp_secrets=seeds)
    response = StreamingHttpResponse((line + "\n" for line in lines), content_type="text/csv")
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{pool.id}-users-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@operator_view
@require_POST
def pool_export(request: HttpRequest, pool_id: str) -> HttpResponse:
    """Download the whole pool as a cognate-pool document sealed with the operator's
    passphrase. Audited: the file holds every credential of the pool, sealed."""
    pool = get_pool(pool_id)
    form = PoolExportForm(request.POST)
    if not form.is_valid():
        return _page(request, pool, status=400, pool_export_form=form)
    keys = form.cleaned_data["with_signing_keys"]
    try:
        with audit.recording(request, "pool.export", pool=pool, detail={"signing_keys": keys}):
            document = pool_transfer.export_pool(
                pool=pool, passphrase=form.cleaned_data["passphrase"], with_signing_keys=keys
            )
    except CognitoError as exc:
        errors.attach(form, exc)
        return _page(request, pool, status=400, pool_export_form=form)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=1), content_type="application/json"
    )
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{pool.id}-pool-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@operator_view
def pool_import(request: HttpRequest) -> HttpResponse:
    """Create a pool from a cognate-pool export (all of it or nothing), audited."""
    form = PoolImportForm(request.POST or None, request.FILES or None)
    page = {"form": form, "section": "pools"}
    if request.method != "POST":
        return render(request, "console/pools/import.html", page)
    if not form.is_valid():
        return render(request, "console/pools/import.html", page, status=400)
    data = form.cleaned_data
    try:
        document = pool_transfer.read_document(data["export_file"])
        with audit.recording(request, "pool.import", pool=document["pool"]["id"]) as entry:
            result = pool_transfer.import_pool(
                document=document,
                passphrase=data["passphrase"],
                with_domains=data["with_domains"],
            )
            entry.detail.update(result.counts)
    except CognitoError as exc:
        # A name that clashes half-way belongs to the file, not to a field of this form.
        aliases = {"document": "export_file", "pool.id": None, "username": None, "email": None}
        errors.attach(form, exc, aliases=aliases)
        return render(request, "console/pools/import.html", page, status=400)
    messages.success(
        request, f"Pool {result.pool_id} imported with {result.counts['users']} user(s)."
    )
    return redirect("console:pool", pool_id=result.pool_id)
