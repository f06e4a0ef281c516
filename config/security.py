"""Security headers on every response: CSP with a per-request nonce, no framing, no sniffing.

Inline scripts and styles are refused; templates that need one use `nonce="{{ csp_nonce }}"`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            nonce = request.csp_nonce
            response["Content-Security-Policy"] = (
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{nonce}'; "
                f"style-src 'self' 'nonce-{nonce}'; "
                "img-src 'self' data: https:; "
                "object-src 'none'; base-uri 'none'; "
                "form-action 'self' http: https:; "
                "frame-ancestors 'none'"
            )
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """Template context: the nonce that this response's CSP allows."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
