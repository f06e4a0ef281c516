"""Pools on their own host names: the one place where the Host header picks a pool.

A request whose host (without port) is a pool's custom domain, or `{prefix}.{suffix}` for its
prefix domain (pool.selectors.domains), is routed through `config.urls_domain`: the same hosted
routes as `/{pool_id}/…` (hostedui.urls.hosted), without the pool id, which comes from the host.
Nothing else is served there: any other path (the JSON API, the console, the demo, the
probes) is refused (400) as on an unknown host, before any query.

Host validation: Django refuses any host not in ALLOWED_HOSTS before a view runs. A configured
domain is accepted without the operator listing it: for that request only, `get_host()` answers
the host this middleware looked up. The lookup is one indexed query per request for a hosted
route on a host other than the server's own names, not cached, so a domain deleted in any
process is refused (400) by every process at once.

Links stay on the domain: views build hosted URLs through `path()`, which reverses in the
urlconf the request is served by.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.urls import Resolver404, resolve, reverse

from pool.selectors import domains

DOMAIN_URLCONF = "config.urls_domain"


@dataclass(frozen=True)
class Serving:
    pool_id: str
    base_url: str  # the domain's public URL (pool.selectors.domains.base_url)


# The pool domain the current request is served on, if any (one per thread / task).
_serving: ContextVar[Serving | None] = ContextVar("cognate_pool_domain", default=None)


def current() -> Serving | None:
    return _serving.get()


def _raw_host(request: HttpRequest) -> str:
    """The host the client asked for, as Django's get_host() reads it before validation."""
    meta = request.META
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in meta:
        return meta["HTTP_X_FORWARDED_HOST"]
    return meta.get("HTTP_HOST") or meta.get("SERVER_NAME", "")


def _hosted(path: str) -> bool:
    """Is `path` one of the routes a pool's domain serves? Only then is the host looked up:
    any other path on a domain (the console, the JSON API, the demo, the health probes) is
    refused like an unknown host, without a query."""
    try:
        resolve(path, urlconf=DOMAIN_URLCONF)
    except Resolver404:
        return False
    return True


def on_own_host(request: HttpRequest) -> bool:
    """Is the request to one of the server's own names (or no name a domain can have)? Then
    this middleware leaves it as it is. No query."""
    return domains.is_own(_host(_raw_host(request)))


def _host(raw: str) -> str:
    """The host name of a Host header ("" when the header is not a host)."""
    return split_domain_port(raw)[0]


class PoolDomainMiddleware:
    """Route requests to a pool's domain to that pool's hosted UI. Early in MIDDLEWARE: before
    anything that calls `request.get_host()` (security, CSRF, common)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = _raw_host(request)
        host = _host(raw)
        looked_up = not domains.is_own(host) and _hosted(request.path_info)
        row = domains.serving(host) if looked_up else None
        if row is None:
            return self.get_response(request)
        request.urlconf = DOMAIN_URLCONF
        request.pool_domain = row
        request.get_host = lambda: raw  # a known domain: valid without an ALLOWED_HOSTS entry
        token = _serving.set(Serving(row.pool_id, domains.base_url(row)))
        try:
            return self.get_response(request)
        finally:
            _serving.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        row = getattr(request, "pool_domain", None)
        if row is not None:
            view_kwargs["pool_id"] = row.pool_id
        return None


def path(name: str, pool_id: str, **kwargs: str) -> str:
    """The URL of the hosted route `name` of pool `pool_id` (with the route's other `kwargs`),
    for a link or redirect: a path on the pool's domain when the request is served there, else
    `/{pool_id}/…` (absolute on PUBLIC_URL when the request is on another pool's domain, where
    that path does not exist)."""
    serving = current()
    if serving is not None and serving.pool_id == pool_id:
        return reverse(f"hostedui:{name}", kwargs=kwargs or None, urlconf=DOMAIN_URLCONF)
    kwargs = {"pool_id": pool_id, **kwargs}
    url = reverse(f"hostedui:{name}", kwargs=kwargs, urlconf=settings.ROOT_URLCONF)
    return f"{settings.PUBLIC_URL}{url}" if serving is not None else url


def site(pool_id: str) -> str:
    """The public URL of the pool domain the request is served on ("" when it is not on one of
    `pool_id`'s domains): where URLs the browser must come back to (federation) point."""
    serving = current()
    return serving.base_url if serving is not None and serving.pool_id == pool_id else ""
