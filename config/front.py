"""The WSGI application in front of Django: public documents answered from memory, and the
API paths through a shorter middleware chain.

1. JWKS and discovery (`/{pool}/.well-known/jwks.json`, `/{pool}/.well-known/openid-configuration`)
   change only when the pool's keys or settings do. The first GET of each runs through Django as
   any request; its 200 answer (body and every header the middleware set) is kept with the
   pool's `config_version`, which every save of the pool and every key change replaces in the
   same transaction (pool.selectors.pools). Later GETs get the kept answer (with its length,
   an ETag and their own X-Request-Id), or 304 Not Modified for a matching If-None-Match. A new
   version, a retired key leaving the JWKS, anything but a GET or a 200 goes to Django again.
   The version is read again only when pool.config_generation's count moved since the last
   read (on a SQLite file a counter its processes share in memory; on PostgreSQL the
   notifications drained from the process's own LISTEN connection): no statement per
   request. A change committed by any process shows in the next answer of every process on
   that file; on PostgreSQL, in every process once its notification arrived, moments after
   the commit. Where the count does not tell (its LISTEN connection down, an in-memory
   database), the version is read on every request.
2. The OAuth endpoints the apps call (token, revoke, userInfo) and the JSON API (POST /) use
   no session, no CSRF cookie (they are csrf_exempt), no messages and no operator login: they
   run without those middleware (settings.API_MIDDLEWARE keeps the ones that set security
   headers). On the server's own host names `ApiDoor` calls their views itself: the view the
   URLconf names for the path (found once per endpoint), the steps of each API_MIDDLEWARE
   middleware around it (their own functions), Django's request signals (RequestSignals: their
   receivers' work done directly while only Django's own are connected), exception answers and
   4xx log records, without URL resolving and the per-layer wrapping of Django's handler, which cost
   more than a userInfo answer's own work. A chain with a middleware it cannot apply step by
   step, ATOMIC_REQUESTS, or any other host goes through Django's handler.
   With the API chain of settings (_KEEPS_HEADERS: its steps' headers depend only on the
   scheme, the settings, the answer's own headers, the request id and the CSP nonce), the
   door also keeps the headers of a 200 answer: a later GET of userInfo with a bearer token
   is answered by the view's service and renderer with those headers (its own id, nonce, log
   line, metrics and request signals), without the view, its decorators, Django's response
   object or the steps. A GetUser POST and a POST to the token endpoint are answered by the
   view's own answer (api.views.answer, hostedui.views.oauth.token_answer: the view's
   status, bytes and headers as a value, without its decorators and Django's response
   object); once the steps after the view added their headers to a 200 of the same shape
   (scheme and header names), a 200 is written with those headers. The steps before the
   view still run (the CSP nonce, the HTTPS redirect), and so does everything in the
   endpoint (rate limits, client authentication, rotation and reuse detection). Anything
   else, every refusal and every error (as the view's response, through every step) runs
   the chain as before.
3. GET /oauth2/authorize, which a signed-in browser passes through on every sign-in of every
   app, answers with a redirect (or the error page): it runs through settings.
   AUTHORIZE_MIDDLEWARE, the full chain without static files, CSRF, the operator login and
   CommonMiddleware; sessions, messages and the language stay. The hosted pages (and their
   forms' CSRF checks), the console and everything else get the full chain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
import threading
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.cache.backends.base import BaseCache
from django.core.handlers.base import reset_urlconf
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.core.signals import setting_changed
from django.db import close_old_connections, connection, connections, reset_queries
from django.dispatch import Signal
from django.http import HttpResponseBase
from django.urls import Resolver404, resolve, set_script_prefix, set_urlconf
from django.utils.deprecation import MiddlewareMixin
from django.utils.log import log_response
from django.utils.module_loading import import_string

# Imported here, once, rather than in the functions of every request: config.wsgi imports this
# module after django.setup(), and an import statement in a hot function is a few microseconds
# of the interpreter's import machinery per call.
from api import views as api_views
from config import observability, security
from hostedui import hosts
from hostedui.oauth import endpoints
from hostedui.views import oauth as oauth_views
from hostedui.views.common import oauth_json_content
from pool import clock, config_generation
from pool.selectors import pools
from pool.services import keys

WELL_KNOWN = re.compile(r"^/([^/]+)/\.well-known/(jwks\.json|openid-configuration)$")
API_PATHS = re.compile(r"^(?:/[^/]+)?/oauth2/(?:token|revoke|userInfo)$")
POOL_API_PATH = re.compile(r"^/([^/]+)/oauth2/(token|revoke|userInfo)$")
AUTHORIZE_PATH = re.compile(r"^(?:/[^/]+)?/oauth2/authorize$")
# Headers a kept answer is sent with on a 304 (RFC 9110 §15.4.5), besides ETag.
_NOT_MODIFIED_DROP = {"content-type", "content-length"}
# Headers of the rendering answer a kept answer does not repeat (it sets its own).
_PER_ANSWER = {"x-request-id", "content-length"}


class _ChainHandler(WSGIHandler):
    """Django's handler with the middleware list `chain` names in settings instead of
    settings.MIDDLEWARE, and its answers' Content-Length set (_with_length)."""

    chain = "MIDDLEWARE"

    def get_response(self, request):
        return _with_length(super().get_response(request))

    def load_middleware(self, is_async: bool = False) -> None:
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = getattr(settings, self.chain)  # while this handler builds it
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class ApiHandler(_ChainHandler):
    """Django's handler with settings.API_MIDDLEWARE."""

    chain = "API_MIDDLEWARE"


class AuthorizeHandler(_ChainHandler):
    """Django's handler with settings.AUTHORIZE_MIDDLEWARE."""

    chain = "AUTHORIZE_MIDDLEWARE"


@dataclasses.dataclass(frozen=True)
class _Kept:
    version: int
    generation: int | None  # pool.config_generation's count noted before `version` was read
    until: dt.datetime | None  # a retired key leaves the JWKS then
    status: str
    headers: list[tuple[str, str]]  # without X-Request-Id
    not_modified_headers: list[tuple[str, str]]
    body: bytes
    etag: str


class Front:
    def __init__(
        self,
        django_app: WSGIHandler,
        api_app: WSGIHandler,
        authorize_app: WSGIHandler | None = None,
    ) -> None:
        self.django_app = django_app
        self.api_app = api_app
        self.authorize_app = authorize_app or django_app
        self._kept: dict[tuple, _Kept] = {}
        self._lock = threading.Lock()
        self.api_door = ApiDoor(api_app)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if method == "GET":
            match = WELL_KNOWN.match(path)
            if match:
                return self._document(match[1], match[2], environ, start_response)
            if AUTHORIZE_PATH.match(path):
                return self.authorize_app(environ, start_response)
        if path == "/" and method == "POST":
            return self.api_door(environ, start_response, "", {})
        if API_PATHS.match(path):
            match = POOL_API_PATH.match(path)
            if match:
                return self.api_door(environ, start_response, match[2], {"pool_id": match[1]})
            return self.api_app(environ, start_response)
        return self.django_app(environ, start_response)

    # ---------------------------------------------------------------- JWKS and discovery

    def _document(self, pool_id: str, name: str, environ, start_response):
        key = (
            pool_id,
            name,
            environ.get("HTTP_HOST", ""),
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
        )
        kept = self._kept.get(key)
        try:
            # Noted BEFORE the version is read: a change counted while it is read makes the
            # next request read it again.
            generation = config_generation.current()
            if kept is not None and generation is not None and kept.generation == generation:
                version = kept.version  # no configuration change committed since it was read
            else:
                # Once, before the read: a connection past its age or broken is dropped here,
                # as at the start of any request (after it, the next request's start does the
                # same).
                _close_old_connections()
                version = pools.current_version(pool_id) if pools.valid_pool_id(pool_id) else None
        except Exception:  # noqa: BLE001 (Django answers, and logs, whatever went wrong)
            generation = version = None
        if (
            version is None
            or kept is None
            or kept.version != version
            or (kept.until is not None and kept.until <= clock.now())
        ):
            return self._render(key, pool_id, name, version, generation, environ, start_response)
        if kept.generation != generation:  # still current after another pool's change
            kept = dataclasses.replace(kept, generation=generation)
            with self._lock:
                self._kept[key] = kept
        request_id = ("X-Request-Id", _request_id(environ))
        if _matches(environ.get("HTTP_IF_NONE_MATCH", ""), kept.etag):
            start_response("304 Not Modified", [*kept.not_modified_headers, request_id])
            return [b""]
        start_response(kept.status, [*kept.headers, request_id])
        return [kept.body]

    def _render(self, key, pool_id, name, version, generation, environ, start_response):
        """Django answers; a 200 is kept for `version` (the version read before it rendered,
        so a change during the render makes the next request render again) and `generation`
        (the count of changes noted before that read, pool.config_generation)."""
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else (lambda data: None)

        chunks = self.api_app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers = captured["status"], list(captured["headers"])
        if version is not None and status.startswith("200"):
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            # Kept without this request's id (each answer gets its own) and with the body's
            # length (a server then sends it as is, without chunked framing).
            shared = [(h, v) for h, v in headers if h.lower() not in _PER_ANSWER]
            shared += [("Content-Length", str(len(body))), ("ETag", etag)]
            kept = _Kept(
                version=version,
                generation=generation,
                until=_published_until(pool_id) if name == "jwks.json" else None,
                status=status,
                headers=shared,
                not_modified_headers=[
                    (h, v) for h, v in shared if h.lower() not in _NOT_MODIFIED_DROP
                ],
                body=body,
                etag=etag,
            )
            with self._lock:
                self._kept[key] = kept
            own_id = [(h, v) for h, v in headers if h.lower() == "x-request-id"]
            if _matches(environ.get("HTTP_IF_NONE_MATCH", ""), etag):
                start_response("304 Not Modified", [*kept.not_modified_headers, *own_id])
                return [b""]
            headers = [*shared, *own_id]
        start_response(status, headers)
        return [body]


class ApiDoor:
    """The API paths' views called by Front itself (see the module's docstring, 2.), with
    what the API chain does around them. Anything it does not serve goes to `api_app`."""

    def __init__(self, api_app: WSGIHandler) -> None:
        self.api_app = api_app
        self.steps = _steps(settings.API_MIDDLEWARE)
        self._views: dict[str, tuple] = {}  # endpoint -> (view, route), from the URLconf
        # (path, is_secure) -> the headers of a userInfo 200 answer made by the chain, kept
        # only for the chain whose headers depend on nothing else (_KEEPS_HEADERS).
        self.keeps_headers = tuple(settings.API_MIDDLEWARE) == _KEEPS_HEADERS
        self._user_info_headers: dict[tuple[str, bool], _Headers] = {}
        # _written_key -> the headers the chain's steps after the view added to a 200 of a view
        # with its own answer (GetUser, token: _own_answer).
        self._kept_after: dict[tuple, _Headers] = {}
        setting_changed.connect(self._forget_headers)

    def __call__(self, environ, start_response, endpoint: str, kwargs: dict):
        view = self._views.get(endpoint)
        if (
            self.steps is None
            or ("pool_id" in kwargs and not pools.valid_pool_id(kwargs["pool_id"]))
            or (view is None and (view := self._view(environ, endpoint, kwargs)) is None)
        ):
            return self.api_app(environ, start_response)
        set_script_prefix(get_script_name(environ))
        request = WSGIRequest(environ)
        if not hosts.on_own_host(request):
            return self.api_app(environ, start_response)
        REQUEST_SIGNALS.started(environ)
        if endpoint == "userInfo" and request.method == "GET":
            headers = self._user_info_headers.get((request.path, request.is_secure()))
            answer = None
            if headers is not None:
                answer = self._user_info(request, headers, view[1], kwargs["pool_id"])
            if answer is not None:
                start_response(_OK, answer.headers)
                return answer
        own = self._own_answer(endpoint, request, view[0])
        response = self._answer(request, *view, kwargs, own)
        if isinstance(response, _Answer):  # a GetUser or token 200 written here
            start_response(_OK, response.headers)
            return response
        if endpoint == "userInfo" and self.keeps_headers and view[0] is oauth_views.user_info:
            self._keep_user_info_headers(request, response)
        _with_length(response)  # after the headers kept above: it is this answer's own
        response._handler_class = WSGIHandler  # the sender of its request_finished
        status = f"{response.status_code} {response.reason_phrase}"
        headers = [
            *response.items(),
            *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
        ]
        start_response(status, headers)
        return response  # its close() sends request_finished, as Django's handler's answer

    def _own_answer(self, endpoint: str, request: WSGIRequest, view) -> Callable | None:
        """The view's own answer (a value with its status, bytes and headers) for the views
        whose 200 ApiDoor writes itself with the kept headers of the steps after the view: a
        GetUser POST to the JSON API (api.views.answer), a POST to the token endpoint
        (hostedui.views.oauth.token_answer). None: the view answers."""
        if not self.keeps_headers or request.method != "POST":
            return None
        if endpoint == "token" and view is oauth_views.token:
            return oauth_views.token_answer
        if (
            endpoint == ""
            and request.META.get("HTTP_X_AMZ_TARGET") == _GET_USER
            and view is api_views.endpoint
        ):
            return api_views.answer
        return None

    def _user_info(
        self, request: WSGIRequest, headers: _Headers, route: str, pool_id: str
    ) -> _Answer | None:
        """The 200 answer to a GET of userInfo with a bearer token, written here: the view's
        service (hostedui.oauth.endpoints.user_info, with the pool's kept copy) and renderer
        (oauth_json_content), and the headers the chain set on an earlier 200 answer to the
        same path and scheme, with this request's id and CSP nonce (nothing else in them
        depends on the request), its log line and metrics. None when the view must answer
        (no kept pool, no Authorization header, any refusal or error: the view decides again
        and answers as always)."""
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        pool = pools.kept_pool(pool_id) if authorization else None
        if pool is None:
            return None
        started, token = observability.begin(request)
        try:
            try:
                access_token = endpoints.bearer_token(authorization=authorization)
                body = endpoints.user_info(pool=pool, access_token=access_token, kept=True)
            except Exception:  # noqa: BLE001 (a refusal or an error: the view answers it)
                return None
            content = oauth_json_content(body)
            security.begin(request)
            answer = _Answer(
                [content], headers.render(request.request_id, request.csp_nonce), request
            )
            observability.record(request, 200, route=route, started=started)
            return answer
        finally:
            observability.reset(token)

    def _keep_user_info_headers(self, request: WSGIRequest, response) -> None:
        """Keep the headers of the chain's 200 answer to a GET of userInfo with a bearer token
        (the view's: JSON, no-store, CORS; the middleware's: security headers, HSTS when
        secure...) for `_user_info`, per path and scheme."""
        if (
            request.method != "GET"
            or response.status_code != 200
            or response.cookies
            or "HTTP_AUTHORIZATION" not in request.META
        ):
            return
        kept = _Headers.of(response.items(), request.request_id, request.csp_nonce)
        if kept is not None:
            self._user_info_headers[(request.path, request.is_secure())] = kept

    def _forget_headers(self, **_) -> None:
        self._user_info_headers.clear()
        self._kept_after.clear()

    def _view(self, environ, endpoint: str, kwargs: dict) -> tuple | None:
        """The view and route pattern the URLconf gives this endpoint's path, kept when the
        path's only argument is the pool id."""
        if any(connection["ATOMIC_REQUESTS"] for connection in connections.settings.values()):
            return None
        try:
            match = resolve(environ.get("PATH_INFO", ""), urlconf=settings.ROOT_URLCONF)
        except Resolver404:
            return None
        if match.args or match.kwargs != kwargs:
            return None
        found = self._views[endpoint] = (match.func, "/" + (match.route or ""))
        return found

    def _answer(self, request, view, route: str, kwargs: dict, own: Callable | None = None):
        """The chain's answer. With `own` (the view's own answer, _own_answer), `own` stands
        for the view: a 200 of the shape the steps after the view added their headers to
        before (kept per _written_key) is written here (_Answer) with those headers, without
        Django's response and the steps after the view (their headers depend only on what the
        key holds); any other answer becomes the view's response and goes through them (and a
        200 of a new shape has their headers kept)."""
        set_urlconf(settings.ROOT_URLCONF)
        started, token = observability.begin(request)
        try:
            entered = []
            response = viewed = None
            for before, after in self.steps:
                entered.append(after)
                response = _guarded(before, request) if before else None
                if response is not None:
                    break
            if response is None and own is not None:
                written = _guarded(own, request, **kwargs)
                if isinstance(written, HttpResponseBase):  # Django's answer to an error
                    response = written
                else:
                    key = _written_key(request, written) if written.status == 200 else None
                    kept = self._kept_after.get(key) if key else None
                    if kept is not None:
                        headers = kept.render(request.request_id, request.csp_nonce)
                        observability.record(request, 200, route=route, started=started)
                        return _Answer([written.content], [*written.headers, *headers], request)
                    response = written.http_response()  # the view's response to this request
                    if key:
                        viewed, own_headers = response, list(response.items())
            if response is None:
                response = _guarded(view, request, **kwargs)
            for after in reversed(entered):
                if after is not None:
                    response = _guarded(after, request, response)
            response._resource_closers.append(request.close)
            if response.status_code >= 400:
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,
                    request=request,
                )
            observability.finish(request, response, route=route, started=started)
            if viewed is response and response.status_code == 200 and not response.cookies:
                every = list(response.items())
                if every[: len(own_headers)] == own_headers:
                    kept = _Headers.of(
                        every[len(own_headers) :], request.request_id, request.csp_nonce
                    )
                    if kept is not None:
                        self._kept_after[key] = kept
            return response
        finally:
            observability.reset(token)


def _written_key(request, written) -> tuple:
    """What the API chain's steps after the view read to add their headers to a 200 answer
    of the view's own (_KEEPS_HEADERS): the scheme and which headers the answer has (it has
    no cookies, and Django's X-Frame-Options exemption is a decorator's, which own answers
    never pass)."""
    return (request.is_secure(), tuple(name.lower() for name, _ in written.headers))


_OK = "200 OK"
_GET_USER = "AWSCognitoIdentityProviderService.GetUser"


@dataclasses.dataclass(frozen=True)
class _Headers:
    """An answer's headers with its request id and CSP nonce left out: `parts` per header,
    the value's pieces around the nonce, None for X-Request-Id."""

    parts: tuple[tuple[str, tuple[str, ...] | None], ...]

    @classmethod
    def of(cls, headers, request_id: str, nonce: str) -> _Headers | None:
        if not nonce:
            return None
        parts = []
        for name, value in headers:
            if name == "X-Request-Id":
                if value != request_id:
                    return None
                parts.append((name, None))
            else:
                parts.append((name, tuple(value.split(nonce))))
        if sum(1 for _, part in parts if part is None) != 1:
            return None
        return cls(tuple(parts))

    def render(self, request_id: str, nonce: str) -> list[tuple[str, str]]:
        return [
            (name, request_id if parts is None else nonce.join(parts)) for name, parts in self.parts
        ]


class RequestSignals:
    """Django's request_started and request_finished for the requests ApiDoor answers.

    While every receiver connected to one is one of Django's own (reset_queries and
    close_old_connections at the start; close_old_connections, close_caches and reset_urlconf
    at the end), their work is done here without the dispatcher, each initialized connection
    visited once rather than once per receiver, and close_caches skipped when every
    configured cache's close() is BaseCache's, which does nothing: what Django's receivers
    do, for a fifth of a userInfo answer's instructions less (bench/instructions.py). Any
    other receiver connected (an app's, a test's, runserver's autoreloader) and the signal is
    sent as Django sends it."""

    def __init__(self) -> None:
        self._plans: dict[Signal, tuple[list, frozenset | None]] = {}

    def started(self, environ) -> None:
        plan = self._plan(signals.request_started)
        if plan is None:
            signals.request_started.send(sender=WSGIHandler, environ=environ)
            return
        if reset_queries in plan or close_old_connections in plan:
            for conn in connections.all(initialized_only=True):
                if reset_queries in plan:
                    conn.queries_log.clear()
                if close_old_connections in plan:
                    conn.close_if_unusable_or_obsolete()

    def finished(self) -> None:
        plan = self._plan(signals.request_finished)
        if plan is None:
            signals.request_finished.send(sender=WSGIHandler)
            return
        if close_old_connections in plan:
            for conn in connections.all(initialized_only=True):
                conn.close_if_unusable_or_obsolete()
        if close_caches in plan and not _caches_close_nothing():
            close_caches()
        if reset_urlconf in plan:
            set_urlconf(None)

    def _plan(self, signal: Signal) -> frozenset | None:
        """Django's receivers connected to `signal`, or None when another one is."""
        seen, plan = self._plans.get(signal, (None, None))
        if signal.receivers != seen:
            plan = _djangos_own(signal)
            self._plans[signal] = (list(signal.receivers), plan)
        return plan


_DJANGOS_RECEIVERS = (reset_queries, close_old_connections, close_caches, reset_urlconf)


def _djangos_own(signal: Signal) -> frozenset | None:
    """The receivers of `signal` when each is one of Django's own, else None."""
    own = {(id(receiver), id(None)): receiver for receiver in _DJANGOS_RECEIVERS}
    found = set()
    for key, ref, is_async in signal.receivers:
        receiver = own.get(key)
        if is_async or receiver is None or ref() is not receiver:
            return None
        found.add(receiver)
    return frozenset(found)


@functools.cache
def _caches_close_nothing() -> bool:
    """Whether every configured cache backend's close() is BaseCache's (a no-op). A backend
    that does not import (configured, never used: Django closes only the caches a request
    used) leaves the answer to close_caches, as Django's receiver."""
    try:
        return all(
            import_string(cache["BACKEND"]).close is BaseCache.close
            for cache in settings.CACHES.values()
        )
    except ImportError:
        return False


def _forget_caches(*, setting: str, **_) -> None:
    if setting == "CACHES":
        _caches_close_nothing.cache_clear()


setting_changed.connect(_forget_caches)
REQUEST_SIGNALS = RequestSignals()


class _Answer(list):
    """A body written by ApiDoor itself, sent with its length (_with_length); closing it ends
    the request as Django's answer's close() does (the request's files, then
    request_finished)."""

    def __init__(self, chunks: list[bytes], headers: list[tuple[str, str]], request) -> None:
        super().__init__(chunks)
        self.headers = [*headers, ("Content-Length", str(sum(map(len, chunks))))]
        self.request = request

    def close(self) -> None:
        try:
            self.request.close()
        finally:
            REQUEST_SIGNALS.finished()


def _with_length(response: HttpResponseBase) -> HttpResponseBase:
    """`response` with a Content-Length when its body is known, as CommonMiddleware sets it on
    the full chain (the API and authorize chains run without it): the server then sends the
    body as is, without chunked framing and the extra write of its last chunk (the bench's
    userInfo, GetUser and token answers were each written in three system calls rather than
    two). Not on a 1xx, 204 or 304 answer, which has no body (RFC 9110 §8.6)."""
    if (
        not response.streaming
        and response.status_code >= 200
        and response.status_code not in (204, 304)
        and not response.has_header("Content-Length")
    ):
        response.headers["Content-Length"] = str(len(response.content))
    return response


def _guarded(step, request, *args, **kwargs):
    """A step's answer, or Django's answer to the exception it raised (as each layer of
    Django's middleware chain converts one)."""
    try:
        response = step(request, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 (Django's answer: 400, 403, 404 or 500, logged)
        return response_for_exception(request, exc)
    return response


# The middleware of API_MIDDLEWARE ApiDoor applies by their own functions.
_FIRST = "config.observability.RequestMiddleware"  # begin/finish around everything
_HOSTS = "hostedui.hosts.PoolDomainMiddleware"  # a no-op on the server's own host names
_OWN_STEPS = {"config.security.SecurityHeadersMiddleware": ("config.security", "begin", "finish")}
_NOT_STEPWISE = ("process_view", "process_exception", "process_template_response")
# The API chain whose headers on an answer depend only on the answer's own headers, the
# scheme, the settings (SecurityMiddleware's as read when it was made, X_FRAME_OPTIONS as it
# is), the request id and the CSP nonce: ApiDoor may write a userInfo answer with the headers
# of an earlier one (ApiDoor._user_info). With any other middleware, the chain answers.
_KEEPS_HEADERS = (
    _FIRST,
    _HOSTS,
    "config.security.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


def _steps(chain: list[str]) -> list[tuple] | None:
    """(before, after) of each middleware after the first two: `before(request)` may answer,
    `after(request, response)` returns the answer. None when one of them cannot be applied
    step by step (it wraps the view some other way): then Django's handler runs the chain."""
    if chain[:2] != [_FIRST, _HOSTS]:
        return None
    steps = []
    for name in chain[2:]:
        if name in _OWN_STEPS:
            module, before, after = _OWN_STEPS[name]
            module = import_module(module)
            steps.append((getattr(module, before), getattr(module, after)))
            continue
        middleware = import_string(name)
        if not issubclass(middleware, MiddlewareMixin) or any(
            hasattr(middleware, hook) for hook in _NOT_STEPWISE
        ):
            return None
        instance = middleware(_no_view)
        steps.append(
            (
                getattr(instance, "process_request", None),
                getattr(instance, "process_response", None),
            )
        )
    return steps


def _no_view(request):
    raise AssertionError("ApiDoor calls the middleware's steps, never its __call__")


def _close_old_connections() -> None:
    """What Django does at the start of each request (request_started): drop a connection
    past DATABASE_CONN_MAX_AGE or broken. Not inside an open transaction (a test's),
    where Django's own test client skips it too."""
    if not connection.in_atomic_block:
        close_old_connections()


def _request_id(environ) -> str:
    """A kept answer's own X-Request-Id (the caller's when it looks like one, as Django's
    answers have it)."""
    return observability.new_request_id(environ.get("HTTP_X_REQUEST_ID", ""))


def _published_until(pool_id: str) -> dt.datetime | None:
    return keys.published_until(pool_id)


def _matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return etag in tags
