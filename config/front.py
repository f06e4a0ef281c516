"""The WSGI application in front of Django: public documents answered from memory, and the
API paths through a shorter middleware chain.

1. JWKS and discovery (`/{pool}/.well-known/jwks.json`, `/{pool}/.well-known/openid-configuration`)
   change only when the pool's keys or settings do. The first GET of each runs through Django as
   any request; its 200 answer (body and every header the middleware set) is kept with the
   pool's `config_version`, which every save of the pool and every key change replaces in the
   same transaction (pool.selectors.pools). Later GETs cost one indexed read of that version and
   get the kept answer, with an ETag, or 304 Not Modified for a matching If-None-Match. A new
   version, a retired key leaving the JWKS, anything but a GET or a 200 goes to Django again.
   The version is read from the database on every request, so a rotation or settings change on
   any server shows in the next answer of every server.
2. The OAuth endpoints the apps call (token, revoke, userInfo) and the JSON API (POST /) use
   no session, no CSRF cookie (they are csrf_exempt), no messages and no operator login: they
   run through Django without those middleware (settings.API_MIDDLEWARE keeps the ones that set
   security headers).
3. GET /oauth2/authorize, which a signed-in browser passes through on every sign-in of every
   app, answers with a redirect (or the error page): it runs through settings.
   AUTHORIZE_MIDDLEWARE, the full chain without static files, CSRF, the operator login and
   CommonMiddleware; sessions, messages and the language stay. The hosted pages (and their
   forms' CSRF checks), the console and everything else get the full chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection

WELL_KNOWN = re.compile(r"^/([^/]+)/\.well-known/(jwks\.json|openid-configuration)$")
API_PATHS = re.compile(r"^(?:/[^/]+)?/oauth2/(?:token|revoke|userInfo)$")
AUTHORIZE_PATH = re.compile(r"^(?:/[^/]+)?/oauth2/authorize$")
# Headers a kept answer is sent with on a 304 (RFC 9110 §15.4.5), besides ETag.
_NOT_MODIFIED_DROP = {"content-type", "content-length"}


class _ChainHandler(WSGIHandler):
    """Django's handler with the middleware list `chain` names in settings instead of
    settings.MIDDLEWARE."""

    chain = "MIDDLEWARE"

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


@dataclass(frozen=True)
class _Kept:
    version: int
    until: dt.datetime | None  # a retired key leaves the JWKS then
    status: str
    headers: list[tuple[str, str]]
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

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if method == "GET":
            match = WELL_KNOWN.match(path)
            if match:
                return self._document(match[1], match[2], environ, start_response)
            if AUTHORIZE_PATH.match(path):
                return self.authorize_app(environ, start_response)
        if API_PATHS.match(path) or (path == "/" and method == "POST"):
            return self.api_app(environ, start_response)
        return self.django_app(environ, start_response)

    # ---------------------------------------------------------------- JWKS and discovery

    def _document(self, pool_id: str, name: str, environ, start_response):
        from pool import clock
        from pool.selectors import pools

        key = (
            pool_id,
            name,
            environ.get("HTTP_HOST", ""),
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
        )
        try:
            # Once, before the read: a connection past its age or broken is dropped here, as
            # at the start of any request (after it, the next request's start does the same).
            _close_old_connections()
            version = pools.current_version(pool_id) if pools.valid_pool_id(pool_id) else None
        except Exception:  # noqa: BLE001 (Django answers, and logs, whatever went wrong)
            version = None
        kept = self._kept.get(key)
        if (
            version is None
            or kept is None
            or kept.version != version
            or (kept.until is not None and kept.until <= clock.now())
        ):
            return self._render(key, pool_id, name, version, environ, start_response)
        if _matches(environ.get("HTTP_IF_NONE_MATCH", ""), kept.etag):
            headers = [(h, v) for h, v in kept.headers if h.lower() not in _NOT_MODIFIED_DROP]
            start_response("304 Not Modified", headers)
            return [b""]
        start_response(kept.status, kept.headers)
        return [kept.body]

    def _render(self, key, pool_id, name, version, environ, start_response):
        """Django answers; a 200 is kept for `version` (the version read before it rendered,
        so a change during the render makes the next request render again)."""
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
            headers.append(("ETag", etag))
            kept = _Kept(
                version=version,
                until=_published_until(pool_id) if name == "jwks.json" else None,
                status=status,
                headers=headers,
                body=body,
                etag=etag,
            )
            with self._lock:
                self._kept[key] = kept
            if _matches(environ.get("HTTP_IF_NONE_MATCH", ""), etag):
                start_response(
                    "304 Not Modified",
                    [(h, v) for h, v in headers if h.lower() not in _NOT_MODIFIED_DROP],
                )
                return [b""]
        start_response(status, headers)
        return [body]


def _close_old_connections() -> None:
    """What Django does at the start of each request (request_started): drop a connection
    past DATABASE_CONN_MAX_AGE or broken. Not inside an open transaction (a test's),
    where Django's own test client skips it too."""
    if not connection.in_atomic_block:
        close_old_connections()


def _published_until(pool_id: str) -> dt.datetime | None:
    from pool.services import keys

    return keys.published_until(pool_id)


def _matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return etag in tags
