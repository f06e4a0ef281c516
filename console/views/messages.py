"""A pool's message templates per language: what each language overrides, and the form that
sets one language's templates (audited; pool.services.message_templates checks them)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from console import audit, errors
from console.access import operator_view
from console.forms.messages import LABELS, MessageTemplatesForm
from console.views.common import get_pool
from pool import languages
from pool.errors import CognitoError
from pool.models import UserPool
from pool.services import message_templates


def _page(pool: UserPool, form: MessageTemplatesForm) -> dict:
    names = dict(settings.LANGUAGES)
    stored = pool.message_templates or {}
    return {
        "pool": pool,
        "tab": "messages",
        "section": "pools",
        "form": form,
        "languages": [
            {"code": code, "name": names[code], "fields": [LABELS[f] for f in stored.get(code, {})]}
            for code in names
        ],
    }


@operator_view
@require_http_methods(["GET", "POST"])
def message_templates_page(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    if request.method == "GET":
        code = languages.supported(request.GET.get("language")) or settings.LANGUAGE_CODE
        initial = {"language": code, **message_templates.templates_in(pool, code)}
        return render(
            request, "console/messages.html", _page(pool, MessageTemplatesForm(initial=initial))
        )
    form = MessageTemplatesForm(request.POST)
    if form.is_valid():
        code = form.cleaned_data["language"]
        templates = {field: form.cleaned_data[field] for field in message_templates.FIELDS}
        detail = {"language": code, "set": sorted(f for f, v in templates.items() if v)}
        try:
            with audit.recording(request, "pool.message_templates", pool=pool, detail=detail):
                message_templates.set_templates(pool=pool, language=code, templates=templates)
        except CognitoError as exc:
            errors.attach(form, exc, aliases={"templates": None})
        else:
            messages.success(request, f"The {dict(settings.LANGUAGES)[code]} templates are saved.")
            url = redirect("console:message_templates", pool_id=pool.id).url
            return redirect(f"{url}?language={code}")
    pool.refresh_from_db()
    return render(request, "console/messages.html", _page(pool, form), status=400)
