"""Helpers shared by the console's views: loading a pool, keyset pages, the delete page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from console import audit, errors
from console.forms.pools import ConfirmDeleteForm
from pool.errors import CognitoError
from pool.models import User, UserPool

PAGE_SIZE = 50


def get_pool(pool_id: str) -> UserPool:
    if "\x00" in pool_id:  # PostgreSQL cannot compare text with NUL: no such pool, not a 500
        raise Http404("No such user pool.")
    return get_object_or_404(UserPool, pk=pool_id)


def get_pool_user(pool: UserPool, sub: str) -> User:
    """A pool user by `sub` (URLs name users by sub: stable, and safe in a path)."""
    try:
        return User.objects.select_related("pool").get(pool=pool, sub=sub)
    except (User.DoesNotExist, ValidationError) as exc:  # unknown, or not a UUID at all
        raise Http404("No such user in this pool.") from exc


def keyset_page(request: HttpRequest, queryset: QuerySet, size: int = PAGE_SIZE) -> dict:
    """Newest-first rows before `?before=<id>`: cheap at any depth, unlike OFFSET pages."""
    before = request.GET.get("before", "")
    if before.isdigit():
        queryset = queryset.filter(pk__lt=int(before))
    rows = list(queryset.order_by("-pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return {"rows": rows, "next_before": rows[-1].pk if more else None}


def confirm_delete(
    request: HttpRequest,
    *,
    noun: str,
    name: str,
    consequence: str,
    page: dict,
    cancel_url: str,
    audit_action: str,
    audit_targets: dict[str, Any],
    delete: Callable[[], object],
    done_url: str,
) -> HttpResponse:
    """The delete page of `noun` `name`: the operator types the name; then `delete` (one service
    call) runs under its audit entry and the operator goes to `done_url`. A refusal (deletion
    protection, say) shows on the page."""
    form = ConfirmDeleteForm(request.POST or None, expected=name)
    if request.method == "POST" and form.is_valid():
        try:
            with audit.recording(request, audit_action, **audit_targets):
                delete()
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, f"{noun.capitalize()} {name} deleted.")
            return redirect(done_url)
    page = {
        **page,
        "form": form,
        "what": f"{noun} {name}",
        "consequence": consequence,
        "cancel_url": cancel_url,
    }
    return render(request, "console/confirm_delete.html", page)
