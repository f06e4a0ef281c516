"""The JSON API's access keys: list, create (the secret shown once), deactivate; over
api/access_keys.py. Every change is audited; read-only operators may look (console.access)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api.access_keys import create_access_key, deactivate_access_key
from api.models import AccessKey
from console import audit, errors
from console.access import operator_view
from console.forms.access_keys import AccessKeyForm
from pool.errors import CognitoError


def _page(form: AccessKeyForm) -> dict:
    keys = AccessKey.objects.order_by("-created_at")
    return {"keys": keys, "form": form, "section": "access_keys"}


@operator_view
def key_list(request: HttpRequest) -> HttpResponse:
    return render(request, "console/access_keys.html", _page(AccessKeyForm()))


@never_cache
@operator_view
@require_POST
def key_create(request: HttpRequest) -> HttpResponse:
    """Rendered, not redirected: the secret's plaintext is shown in this answer only (not
    cached, never stored in the session or a message)."""
    form = AccessKeyForm(request.POST)
    if form.is_valid():
        description = form.cleaned_data["description"]
        try:
            with audit.recording(
                request, "access_key.create", detail={"description": description}
            ) as entry:
                issued = create_access_key(description=description)
                entry.detail["access_key_id"] = issued.access_key_id
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            page = {"issued": issued, "description": description, "section": "access_keys"}
            return render(request, "console/access_key_created.html", page, status=201)
    return render(request, "console/access_keys.html", _page(form), status=400)


@operator_view
@require_POST
def key_deactivate(request: HttpRequest, access_key_id: str) -> HttpResponse:
    try:
        with audit.recording(
            request, "access_key.deactivate", detail={"access_key_id": access_key_id}
        ):
            deactivate_access_key(access_key_id=access_key_id)
    except CognitoError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Access key {access_key_id} deactivated: it signs no more.")
    return redirect("console:access_keys")
