"""Moving users in and out as CSV (Cognito's import format, plus password hashes)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from console import audit, errors
from console.access import operator_view
from console.forms.transfer import ExportForm, ImportForm
from console.views.common import get_pool
from pool import clock
from pool.errors import CognitoError
from pool.services import user_import

SHOWN_ROW_ERRORS = 200


def _page(request, pool, *, status=200, **extra) -> HttpResponse:
    page = {
        "pool": pool,
        "tab": "import",
        "section": "pools",
        "header": user_import.csv_header(pool),
        "export_form": extra.pop("export_form", None) or ExportForm(),
        "import_form": extra.pop("import_form", None) or ImportForm(),
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
