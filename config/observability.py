"""One log line and one metrics sample per request, with a request id.

`RequestMiddleware` (first in settings.MIDDLEWARE, so it sees every answer, host-check refusals
included) takes the request id from X-Request-Id when it looks like one (a proxy's or load
balancer's, 1-128 letters, digits and ._:-) or makes one, echoes it in the response's
X-Request-Id header, and tags every log record written while the request runs with it.

The request line holds the method, the path WITHOUT its query string (codes, tokens, states
and redirect URIs travel there), the status, the route pattern and the duration; never a
header, a cookie or a body. LOG_FORMAT=json writes each record as one JSON object per line
(`JsonFormatter`), LOG_FORMAT=text as readable text.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config import metrics

log = logging.getLogger("cognate.request")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# Probes a load balancer or Prometheus makes every few seconds: logged at DEBUG only.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_MAX_PATH = 512
STATIC_PREFIX = "/" + settings.STATIC_URL.lstrip("/")


def current_request_id() -> str:
    return _request_id.get()


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        # whitenoise answers static files before any URL is resolved.
        return "/static/" if request.path.startswith(STATIC_PREFIX) else "unmatched"
    return "/" + (match.route or "")


class RequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started, token = begin(request)
        try:
            response = self.get_response(request)
            finish(request, response, route=_route(request), started=started)
            return response
        finally:
            reset(token)


def new_request_id(given: str) -> str:
    """A request's id: `given` (its X-Request-Id) when it looks like one, else 32 new random
    hex digits. Ids tell log lines apart, they guard nothing: they come from a generator seeded
    from the system's random source per process, not from it per request (uuid4's system call
    hands the GIL to another thread, and cost half a kept JWKS answer)."""
    if REQUEST_ID.fullmatch(given):
        return given
    return f"{_ids.getrandbits(128):032x}"


_ids = random.Random()  # log correlation ids, not secrets
# A forked worker (the server's) draws its own ids, never its parent's or a sibling's.
os.register_at_fork(after_in_child=_ids.seed)


def begin(request: HttpRequest) -> tuple[float, contextvars.Token]:
    """The request's start: its id (the given one when it looks like one) on the request and
    on every log record written until `_request_id.reset(token)`."""
    started = time.perf_counter()
    request_id = request.request_id = new_request_id(request.META.get("HTTP_X_REQUEST_ID", ""))
    return started, _request_id.set(request_id)


def finish(request: HttpRequest, response: HttpResponse, *, route: str, started: float) -> None:
    """The answer's X-Request-Id, its metrics sample and its log line. `route` is the URL
    pattern the request matched (the metrics label: never a client's value)."""
    response["X-Request-Id"] = request.request_id
    record(request, response.status_code, route=route, started=started)


def record(request: HttpRequest, status: int, *, route: str, started: float) -> None:
    """The metrics sample and the log line of the answer `status` to `request` (`finish`
    without the header: for a door that writes its answer's headers itself)."""
    seconds = time.perf_counter() - started
    request_id = request.request_id
    method = request.method or ""
    metrics.observe(route, method, status, seconds)
    path = request.path[:_MAX_PATH]
    level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
    if log.isEnabledFor(level):
        # The record logging.Logger.log makes, handed to the logger's filters and handlers as
        # it would be, naming this function as its source without walking the stack for it.
        record = log.makeRecord(
            log.name,
            level,
            _SOURCE_FILE,
            _SOURCE_LINE,
            "%s %s %s %.1fms",
            (method, path, status, seconds * 1000),
            None,
            "finish",
            {
                "request_id": request_id,
                "method": method,
                "path": path,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
        log.handle(record)


_SOURCE_FILE, _SOURCE_LINE = finish.__code__.co_filename, finish.__code__.co_firstlineno


def reset(token: contextvars.Token) -> None:
    """The request's end: log records are no longer tagged with its id."""
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Every record gets `request_id`: the running request's (or, for Django's own request
    records written as the response leaves, the request they name), or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", "") or _request_id.get() or "-"
        return True


# The request line's fields, written as JSON keys when a record carries them.
_EXTRA_FIELDS = ("method", "path", "route", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and the request
    line's fields; an exception's traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in _EXTRA_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
