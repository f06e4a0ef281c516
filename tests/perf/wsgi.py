"""Calling a WSGI application (config.front) directly, as gunicorn would."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: tuple[str, ...] = ()  # every Set-Cookie value (`headers` keeps the last)


def call(app, path: str, method: str = "GET", **environ) -> Answer:
    """The answer of `app` to one request. As Django's test client does, the test's open
    transaction is not taken for a connection to close at the request's start and end."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        return _call(app, path, method, **environ)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _call(app, path: str, method: str = "GET", **environ) -> Answer:
    request = RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD=method, **environ)
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    chunks = app(request, start_response)
    body = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    cookies = tuple(value for name, value in seen["headers"] if name.lower() == "set-cookie")
    return Answer(int(seen["status"].split()[0]), dict(seen["headers"]), body, cookies)


class FrontHandler:
    """The test client's handler, through config.front as gunicorn calls it for the paths it
    answers itself or sends down the API chain (ApiDoor); the pages through Django's test
    handler as usual. As that handler, the test's open transaction is not taken for a
    connection to close."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.test.client import ClientHandler

        from config.front import ApiHandler, Front

        self.front = Front(WSGIHandler(), ApiHandler())
        self.pages = ClientHandler(enforce_csrf_checks=False)

    def __call__(self, environ):
        from django.core.handlers.wsgi import WSGIRequest
        from django.http import HttpResponse, HttpResponseBase

        from config.front import API_PATHS, WELL_KNOWN

        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if not (API_PATHS.match(path) or WELL_KNOWN.match(path) or (path, method) == ("/", "POST")):
            return self.pages(environ)
        seen: dict = {}

        def start_response(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return lambda data: None

        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            answer = self.front(dict(environ), start_response)
            if not isinstance(answer, HttpResponseBase):  # a kept JWKS or discovery answer
                response = HttpResponse(b"".join(answer), status=int(seen["status"][:3]))
                for name, value in seen["headers"]:
                    response[name] = value
                answer = response
            answer.wsgi_request = WSGIRequest(dict(environ))
            answer.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return answer


def front_client():
    """Django's test client, through config.front (FrontHandler)."""
    from django.test import Client

    client = Client()
    client.handler = FrontHandler()
    return client
