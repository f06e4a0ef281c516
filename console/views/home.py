"""The console's front page (pools), the audit log and the dev outbox."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from console.access import operator_view
from console.models import AuditEntry
from console.views.common import keyset_page
from pool.models import OutboxMessage, UserPool


@operator_view
def index(request: HttpRequest) -> HttpResponse:
    pools = UserPool.objects.order_by("name", "id")
    return render(request, "console/pools/list.html", {"pools": pools, "section": "pools"})


@operator_view
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.all()
    pool_id = request.GET.get("pool", "").strip()
    if pool_id:
        entries = entries.filter(target_pool=pool_id)
    page = keyset_page(request, entries)
    return render(
        request, "console/audit.html", {**page, "pool_filter": pool_id, "section": "audit"}
    )


@operator_view
def outbox(request: HttpRequest) -> HttpResponse:
    """Messages the outbox backends kept instead of sending. Only with DEBUG on: in production
    they may hold live codes and temporary passwords."""
    if not settings.DEBUG:
        raise Http404("The dev outbox exists only with DEBUG on.")
    page = keyset_page(request, OutboxMessage.objects.all())
    return render(request, "console/outbox.html", {**page, "section": "outbox"})
