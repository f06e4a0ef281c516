"""Who may use the console and what they may change.

Every console view is wrapped in `operator_view`: signed in, staff, verified with a TOTP device
(django-otp). Reading is open to every verified operator; any other method needs the
`console.change_pools` permission (superusers have it implicitly), else 403.

The caller's address comes from config.security.client_ip, the one helper every door uses.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from config.security import client_ip
from pool.services.results import RequestContext

CHANGE_PERMISSION = "console.change_pools"
SAFE_METHODS = ("GET", "HEAD")


def can_change(user) -> bool:
    return bool(user.is_authenticated and user.is_staff and user.has_perm(CHANGE_PERMISSION))


def operator_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("console:login"))
        if not (user.is_staff and user.is_active):
            raise PermissionDenied("Only operators (staff accounts) may use the console.")
        if not user.is_verified():
            target = reverse("console:otp")
            if request.method in SAFE_METHODS:
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        if request.method not in SAFE_METHODS and not can_change(user):
            raise PermissionDenied("Your operator account is read-only.")
        return view(request, *args, **kwargs)

    return wrapped


def context(request: HttpRequest) -> RequestContext:
    """The RequestContext services want, for events and messages."""
    return RequestContext(
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        source="console",
    )
