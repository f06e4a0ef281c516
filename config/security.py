"""Security headers on every response: CSP with a per-request nonce, no framing, no sniffing.

Inline scripts and styles are refused; templates that need one use `nonce="{{ csp_nonce }}"`.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        begin(request)
        return finish(request, self.get_response(request))


def begin(request: HttpRequest) -> None:
    """The nonce this request's pages may use for their inline scripts and styles."""
    request.csp_nonce = secrets.token_urlsafe(16)


def content_security_policy(
    nonce: str, *, form_action: str = "'self' http: https:", frame_ancestors: str = "'none'"
) -> str:
    """The pages' policy: scripts and styles only from here or with this request's nonce; a
    page that must differ (the branding preview, framed by the console) says where."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data: https:; "
        "object-src 'none'; base-uri 'none'; "
        f"form-action {form_action}; "
        f"frame-ancestors {frame_ancestors}"
    )


def finish(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The security headers the answer does not set itself."""
    if "Content-Security-Policy" not in response:
        response["Content-Security-Policy"] = content_security_policy(request.csp_nonce)
    response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    return response


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """Template context: the nonce that this response's CSP allows."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, as every door sees it (rate limits, events, audit).

    REMOTE_ADDR, unless settings.TRUSTED_PROXY_HOPS > 0: then the address that many hops from
    the right of X-Forwarded-For, since each trusted proxy appends the address it saw and only
    those entries can be believed (anything further left is whatever the client wrote). With
    fewer entries than trusted hops, or a value that is not an IP address, REMOTE_ADDR is used.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
