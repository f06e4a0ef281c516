"""Operating endpoints for load balancers and monitoring, outside every pool's URLs.

- GET /healthz: the process is up and serving (touches nothing else): a liveness probe.
- GET /readyz: the database and the cache answer (a read each, never a write): a readiness
  probe; 503 with the part that failed otherwise. Failures are logged, not shown.
- GET /metrics: Prometheus metrics (config/metrics.py says who may read them).

ALLOWED_HOSTS applies to them as to every URL: a load balancer's probe must send a Host header
that is allowed (PUBLIC_URL's host, or its own address added to ALLOWED_HOSTS).
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config import metrics

log = logging.getLogger(__name__)
_PROBE_KEY = "readyz:probe"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        log.exception("readyz: the database does not answer")
        return False


def _cache_answers() -> bool:
    try:
        cache.get(_PROBE_KEY)  # a read of a key nobody writes: no write, whatever the backend
        return True
    except Exception:
        log.exception("readyz: the cache does not answer")
        return False


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    parts = {"database": _database_answers(), "cache": _cache_answers()}
    ready = all(parts.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            **{name: "ok" if fine else "unavailable" for name, fine in parts.items()},
        },
        status=200 if ready else 503,
    )


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics.may_read(request):
        return JsonResponse({"error": "forbidden"}, status=403)
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
