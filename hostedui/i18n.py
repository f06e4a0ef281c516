"""The language of the hosted pages: one choice per request, made here.

In order: the `lang` query parameter (as Cognito's managed login takes it: `lang=fr`; carried
from /oauth2/authorize through login, MFA and the other pages with the rest of the request),
then the `locale` attribute of the user signing in (a pending challenge) or signed in here,
then the browser's Accept-Language, then English. Only the hosted UI's views are translated:
the JSON API and the console keep speaking English (Cognito's error messages are English).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from hostedui import session
from pool import languages
from pool.models import User, UserPool
from pool.selectors import users as user_selectors

LANG_PARAMETER = "lang"


def choose(request: HttpRequest, user: User | None = None) -> str:
    """The language this page is shown in (see the module docstring for the order)."""
    return (
        languages.supported(request.GET.get(LANG_PARAMETER))
        or languages.supported(user.get_attribute("locale") if user is not None else None)
        # From META: request.headers would copy every header of the request first.
        or languages.from_accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
        or languages.for_user(None)
    )


def page_user(request: HttpRequest, pool: UserPool) -> User | None:
    """The user this browser is signing in as (a pending challenge: they passed the first step)
    or is signed in as, for their `locale`; None before anyone is known."""
    pending = session.pending_challenge(request, pool)
    if pending is not None:
        return user_selectors.find_for_sign_in(pool, pending["username"])
    signed_in = session.current(request, pool)
    return signed_in.user if signed_in is not None else None


def use_pool(request: HttpRequest, pool: UserPool) -> None:
    """Once a page knows its pool: switch to the known user's language when no `lang` asks
    otherwise."""
    if languages.supported(request.GET.get(LANG_PARAMETER)):
        return
    user = page_user(request, pool)
    if user is not None:
        _activate(request, choose(request, user))


def _activate(request: HttpRequest, code: str) -> None:
    translation.activate(code)
    request.LANGUAGE_CODE = code


class HostedLanguageMiddleware:
    """Activate `choose()`'s language for the hosted UI's views, and only for them; the
    response says which (Content-Language) and that it varies with Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
            code = getattr(request, "LANGUAGE_CODE", None)
            if code and getattr(request, "_hosted_language", False):
                response.headers.setdefault("Content-Language", code)
                patch_vary_headers(response, ("Accept-Language",))
            return response
        finally:
            translation.deactivate()

    def process_view(self, request: HttpRequest, view, args, kwargs) -> None:
        match = request.resolver_match
        if match is not None and match.app_name == "hostedui":
            request._hosted_language = True
            _activate(request, choose(request))
