"""HTTP metrics and the /metrics exposition (Prometheus text format, prometheus_client).

Under gunicorn with several workers each worker counts in its own files under
PROMETHEUS_MULTIPROC_DIR (config/gunicorn.py sets and empties it at start, and marks a dead
worker's gauges), and /metrics, whichever worker answers it, sums every worker's files. Without
the variable (one process: `manage.py runserver`, tests) the process's own registry is served.

Who may read /metrics (settings.METRICS_TOKEN): with a token, a request that carries
`Authorization: Bearer <token>`; without one, loopback only, and only a request that did not
come through a proxy (no X-Forwarded-For), so that a TLS proxy on the same host does not publish
it. The counters say how many sign-ins fail and which routes are busy: not for the internet.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import HttpRequest
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

REQUESTS = Counter(
    "cognate_http_requests_total",
    "HTTP requests answered, by route pattern, method and status code.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "cognate_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by route pattern.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Methods outside this set are counted as OTHER: the label never takes a client's value.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# (route, method label, status) -> the request counter's and latency histogram's children.
# Routes are URL patterns and methods one of METHODS or OTHER: no key is a client's value.
_children: dict[tuple[str, str, int], tuple] = {}


def observe(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answer and its duration. The labelled children are looked up once per
    (route, method, status): `.labels()` validates and stringifies the labels under the
    metric's lock on every call: half of what counting an answer cost."""
    method = method if method in METHODS else "OTHER"
    key = (route, method, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            REQUESTS.labels(route=route, method=method, status=str(status)),
            LATENCY.labels(route=route),
        )
    counter, histogram = children
    counter.inc()
    histogram.observe(seconds)


def may_read(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def exposition() -> tuple[bytes, str]:
    """The metrics of every worker (multiprocess mode) or of this process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
