"""config.front's ApiDoor: the API paths' views called without Django's handler give the answer
Django's handler gives (status, body, every header: security, CORS, caching), with the same
request id, log line and metrics; other hosts, a chain it cannot step through and anything it
does not know go through Django."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.core.handlers.wsgi import WSGIHandler

from config import metrics
from config.front import ApiDoor, ApiHandler, Front, _steps
from pool import clock
from pool.models import UserPoolDomain
from pool.services import tokens
from tests.api.conftest import CONTENT_TYPE, TARGET
from tests.perf.wsgi import call

pytestmark = pytest.mark.django_db
# Per request by design: the request ids and the CSP nonce.
_PER_REQUEST = {"X-Request-Id", "x-amzn-RequestId"}
_NONCE = re.compile(r"'nonce-[^']+'")


class _NotDjango:
    """Stands for Django's handler where the door must answer itself."""

    def __call__(self, environ, start_response):
        raise AssertionError(f"went to Django: {environ['PATH_INFO']}")


@pytest.fixture
def door_only():
    front = Front(WSGIHandler(), ApiHandler())
    front.api_door.api_app = _NotDjango()
    return front


@pytest.fixture
def django_api():
    return ApiHandler()


@pytest.fixture
def access(user, app_client) -> str:
    return tokens.issue(
        user=user,
        client=app_client,
        scopes=["openid", "email", tokens.ADMIN_SCOPE],
        auth_time=clock.now(),
    ).access_token


def _requests(pool, access) -> dict[str, tuple[str, str, dict]]:
    get_user = json.dumps({"AccessToken": access}).encode()
    json_api = {"CONTENT_TYPE": CONTENT_TYPE, "HTTP_X_AMZ_TARGET": TARGET + "GetUser"}
    return {
        "userInfo": (
            f"/{pool.id}/oauth2/userInfo",
            "GET",
            {"HTTP_AUTHORIZATION": f"Bearer {access}"},
        ),
        "userInfo without a token": (f"/{pool.id}/oauth2/userInfo", "GET", {}),
        "userInfo by PUT": (f"/{pool.id}/oauth2/userInfo", "PUT", {}),
        "userInfo preflight": (f"/{pool.id}/oauth2/userInfo", "OPTIONS", {}),
        "userInfo of no pool": ("/eu-west-1_Nowhere1/oauth2/userInfo", "GET", {}),
        "token without a grant": (f"/{pool.id}/oauth2/token", "POST", {}),
        "revoke without a token": (f"/{pool.id}/oauth2/revoke", "POST", {}),
        "GetUser": ("/", "POST", {**json_api, "wsgi.input": get_user}),
        "GetUser with a bad token": (
            "/",
            "POST",
            {**json_api, "wsgi.input": json.dumps({"AccessToken": "x"}).encode()},
        ),
    }


def _call(app, path, method, extra):
    extra = dict(extra)
    body = extra.pop("wsgi.input", b"")
    if body:
        from io import BytesIO

        extra.update({"wsgi.input": BytesIO(body), "CONTENT_LENGTH": str(len(body))})
    return call(app, path, method, **extra)


def _comparable(headers: dict) -> dict:
    return {
        name: _NONCE.sub("'nonce-*'", value)
        for name, value in headers.items()
        if name not in _PER_REQUEST
    }


@pytest.mark.parametrize(
    "name",
    [
        "userInfo",
        "userInfo without a token",
        "userInfo by PUT",
        "userInfo preflight",
        "userInfo of no pool",
        "token without a grant",
        "revoke without a token",
        "GetUser",
        "GetUser with a bad token",
    ],
)
def test_the_door_answers_as_djangos_handler(door_only, django_api, pool, access, name):
    path, method, extra = _requests(pool, access)[name]
    ours = _call(door_only, path, method, extra)
    theirs = _call(django_api, path, method, extra)
    assert (ours.status, ours.body) == (theirs.status, theirs.body)
    assert _comparable(ours.headers) == _comparable(theirs.headers)
    assert set(ours.headers) == set(theirs.headers)
    assert ours.headers["X-Request-Id"] != theirs.headers["X-Request-Id"]


def test_the_request_id_log_line_and_metrics(door_only, pool, access, caplog):
    route = "/<str:pool_id>/oauth2/userInfo"
    counted = metrics.REQUESTS.labels(route=route, method="GET", status="200")
    before = counted._value.get()
    with caplog.at_level(logging.INFO, logger="cognate.request"):
        answer = call(
            door_only,
            f"/{pool.id}/oauth2/userInfo",
            HTTP_AUTHORIZATION=f"Bearer {access}",
            HTTP_X_REQUEST_ID="lb-1234",
        )
    assert answer.status == 200 and answer.headers["X-Request-Id"] == "lb-1234"
    [line] = [r for r in caplog.records if r.name == "cognate.request"]
    assert (line.request_id, line.route, line.status, line.path) == (
        "lb-1234",
        route,
        200,
        f"/{pool.id}/oauth2/userInfo",
    )
    assert counted._value.get() == before + 1


def test_a_refusal_is_logged_as_djangos_handler_logs_it(door_only, pool, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        answer = call(door_only, f"/{pool.id}/oauth2/userInfo")
    assert answer.status == 401
    assert [r.getMessage() for r in caplog.records if r.name == "django.request"] == [
        f"Unauthorized: /{pool.id}/oauth2/userInfo"
    ]


def test_an_exception_in_the_view_is_djangos_500_with_every_header(
    door_only, pool, access, monkeypatch
):
    from hostedui.oauth import endpoints

    def broken(**_):
        raise RuntimeError("boom")

    monkeypatch.setattr(endpoints, "user_info", broken)
    answer = call(door_only, f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert answer.status == 500
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert name in answer.headers


def test_https_redirect_and_hsts_as_django_sets_them(settings, pool):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    front = Front(WSGIHandler(), ApiHandler())
    front.api_door.api_app = _NotDjango()
    redirected = call(front, f"/{pool.id}/oauth2/userInfo")
    assert redirected.status == 301
    assert redirected.headers["Location"] == f"https://testserver/{pool.id}/oauth2/userInfo"
    secure = call(front, f"/{pool.id}/oauth2/userInfo", **{"wsgi.url_scheme": "https"})
    assert secure.status == 401
    assert secure.headers["Strict-Transport-Security"] == "max-age=3600"


def test_a_pool_domain_goes_through_django(pool, settings):
    """The host routing of hostedui.hosts stays Django's: the door serves the server's own
    names only."""
    UserPoolDomain.objects.create(pool=pool, domain="auth.example.com", kind="custom")
    front = Front(WSGIHandler(), ApiHandler())
    seen = []
    django = front.api_door.api_app
    front.api_door.api_app = lambda environ, start: seen.append(1) or django(environ, start)
    answer = call(front, f"/{pool.id}/oauth2/userInfo", HTTP_HOST="auth.example.com")
    assert seen == [1]
    assert answer.status == 401


def test_a_chain_it_cannot_step_through_goes_through_django(settings, pool):
    settings.API_MIDDLEWARE = [
        *settings.API_MIDDLEWARE,
        "django.middleware.csrf.CsrfViewMiddleware",  # process_view
    ]
    assert _steps(settings.API_MIDDLEWARE) is None
    door = ApiDoor(ApiHandler())
    assert door.steps is None
    front = Front(WSGIHandler(), ApiHandler())
    front.api_door.api_app = _NotDjango()
    with pytest.raises(AssertionError, match="went to Django"):
        call(front, f"/{pool.id}/oauth2/userInfo")


def test_a_chain_not_starting_with_the_request_log_and_hosts_goes_through_django(settings):
    assert _steps(settings.API_MIDDLEWARE[1:]) is None
    assert _steps(settings.API_MIDDLEWARE) is not None


def test_a_path_that_is_no_pool_id_goes_through_django(door_only):
    with pytest.raises(AssertionError, match="went to Django"):
        call(door_only, "/console/oauth2/userInfo")
