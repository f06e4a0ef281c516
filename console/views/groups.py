"""A pool's groups: list, create, edit, delete (members are managed from the user page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from console import audit, errors
from console.access import operator_view
from console.forms.users import GroupForm
from console.views.common import confirm_delete, get_pool
from pool.errors import CognitoError
from pool.models import Group
from pool.services import admin

MEMBERS_SHOWN = 100


@operator_view
def group_list(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            with audit.recording(
                request, "group.create", pool=pool, detail={"group": values["name"]}
            ):
                admin.create_group(pool=pool, **values)
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, f"Group {values['name']} created.")
            return redirect("console:groups", pool_id=pool.id)
    page = {
        "pool": pool,
        "tab": "groups",
        "section": "pools",
        "groups": Group.objects.filter(pool=pool).order_by("precedence", "name"),
        "form": form,
    }
    return render(request, "console/groups/list.html", page, status=400 if form.errors else 200)


@operator_view
def group_detail(request: HttpRequest, pool_id: str, group_id: int) -> HttpResponse:
    pool = get_pool(pool_id)
    group = get_object_or_404(Group, pool=pool, pk=group_id)
    form = GroupForm(request.POST or None, group=group)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "name"}
        try:
            with audit.recording(
                request, "group.update", pool=pool, detail={"group": group.name, **values}
            ):
                admin.update_group(group=group, **values)
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, f"Group {group.name} saved.")
            return redirect("console:group", pool_id=pool.id, group_id=group.pk)
    page = {
        "pool": pool,
        "tab": "groups",
        "section": "pools",
        "group": group,
        "form": form,
        "members": group.users.order_by("username")[:MEMBERS_SHOWN],
        "members_shown": MEMBERS_SHOWN,
    }
    return render(request, "console/groups/detail.html", page, status=400 if form.errors else 200)


@operator_view
def group_delete(request: HttpRequest, pool_id: str, group_id: int) -> HttpResponse:
    pool = get_pool(pool_id)
    group = get_object_or_404(Group, pool=pool, pk=group_id)
    return confirm_delete(
        request,
        noun="group",
        name=group.name,
        consequence="Its members stay in the pool, without the group.",
        page={"pool": pool, "tab": "groups", "section": "pools"},
        cancel_url=reverse("console:group", args=[pool.id, group.pk]),
        audit_action="group.delete",
        audit_targets={"pool": pool, "detail": {"group": group.name}},
        delete=lambda: admin.delete_group(group=group),
        done_url=reverse("console:groups", args=[pool.id]),
    )
