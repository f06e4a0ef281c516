"""A pool's triggers: what is configured, set / remove (audited, secrets shown once), recent
invocations from the invocation log, and a sample event sent to a trigger."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from console import audit, errors
from console.access import operator_view
from console.forms.triggers import TriggerForm
from console.views.common import get_pool
from pool.errors import CognitoError
from pool.models import Trigger, TriggerInvocation, UserPool
from pool.services import triggers as trigger_services

RECENT_INVOCATIONS = 50


def _page(pool: UserPool, form: TriggerForm, **extra) -> dict:
    return {
        "pool": pool,
        "tab": "triggers",
        "section": "pools",
        "triggers": Trigger.objects.filter(pool=pool).order_by("kind"),
        "invocations": TriggerInvocation.objects.filter(pool=pool)[:RECENT_INVOCATIONS],
        "form": form,
        **extra,
    }


@operator_view
def trigger_list(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    return render(request, "console/triggers.html", _page(pool, TriggerForm()))


@never_cache
@operator_view
@require_POST
def trigger_set(request: HttpRequest, pool_id: str) -> HttpResponse:
    """Rendered, not redirected, when a secret or code key was made: shown in this answer only."""
    pool = get_pool(pool_id)
    form = TriggerForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        webhook = data["target"] if data["transport"] == "webhook" else None
        detail = {
            "kind": data["kind"],
            "transport": data["transport"],
            "target": data["target"],
            "version": data["version"],
        }
        try:
            with audit.recording(request, "trigger.set", pool=pool, detail=detail):
                setting = trigger_services.set_trigger(
                    pool=pool,
                    kind=data["kind"],
                    webhook=webhook,
                    python=None if webhook else data["target"],
                    secret=data["secret"] or None,
                    version=data["version"],
                    code_key=data["code_key"] or None,
                )
        except CognitoError as exc:
            errors.attach(form, exc, aliases={"url": "target", "callable": "target"})
        else:
            if setting.new_secret or setting.new_code_key:
                page = {"pool": pool, "tab": "triggers", "section": "pools", "setting": setting}
                return render(request, "console/trigger_created.html", page, status=201)
            messages.success(request, f"The {setting.kind} trigger calls {setting.target}.")
            return redirect("console:triggers", pool_id=pool.id)
    return render(request, "console/triggers.html", _page(pool, form), status=400)


@operator_view
@require_POST
def trigger_remove(request: HttpRequest, pool_id: str, kind: str) -> HttpResponse:
    pool = get_pool(pool_id)
    try:
        with audit.recording(request, "trigger.remove", pool=pool, detail={"kind": kind}):
            removed = trigger_services.remove_trigger(pool=pool, kind=kind)
    except CognitoError as exc:
        messages.error(request, exc.message)
    else:
        if removed:
            messages.success(request, f"The {kind} trigger is removed.")
        else:
            messages.info(request, f"The pool had no {kind} trigger.")
    return redirect("console:triggers", pool_id=pool.id)


@operator_view
@require_POST
def trigger_test(request: HttpRequest, pool_id: str, kind: str) -> HttpResponse:
    """Send a sample event and show what came back (its response, or Cognito's error)."""
    pool = get_pool(pool_id)
    outcome: dict = {"kind": kind}
    with audit.recording(request, "trigger.test", pool=pool, detail={"kind": kind}) as entry:
        try:
            response = trigger_services.send_test_event(pool=pool, kind=kind)
        except CognitoError as exc:
            outcome.update(error=exc.code, message=exc.message)
            entry.detail["outcome"] = "error"
        else:
            outcome["response"] = json.dumps(response, indent=2, sort_keys=True)
            entry.detail["outcome"] = "ok"
    status = 200 if "response" in outcome else 400
    page = _page(pool, TriggerForm(), test=outcome)
    return render(request, "console/triggers.html", page, status=status)
