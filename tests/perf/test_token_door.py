"""config.front's ApiDoor writes a token 200 itself (hostedui.views.oauth.token_answer, with
the headers the API chain's steps after the view added to an earlier 200): the same answer as
Django's handler (status, body shape, every header in order, no-store), its request id, log line,
metrics and signals; every refusal and error goes through every step as before."""

from __future__ import annotations

import base64
import json
import logging
from io import BytesIO
from urllib.parse import urlencode

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler

from config import metrics
from config.front import ApiHandler, Front
from hostedui.views import oauth
from pool import clock
from pool.services import tokens
from tests import factories
from tests.hostedui.conftest import CALLBACK, VERIFIER, code_for
from tests.perf.doors import (
    NotDjango,
    comparable,
    no_django_response,
    note_steps_after_the_view,
    request_signals,
)
from tests.perf.wsgi import call

pytestmark = pytest.mark.django_db
_STEPS_AFTER_THE_VIEW = 3
_ROUTE = "/<str:pool_id>/oauth2/token"


def _basic(client) -> str:
    raw = f"{client.client_id}:{client.plain_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


@pytest.fixture
def machine(pool):
    return factories.make_service_client(pool)


def _token(app, pool, form: dict, **environ):
    body = urlencode(form).encode()
    return call(
        app,
        f"/{pool.id}/oauth2/token",
        "POST",
        CONTENT_TYPE="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": BytesIO(body), **environ},
    )


def _client_credentials(app, pool, machine, **environ):
    form = {"grant_type": "client_credentials"}
    return _token(app, pool, form, HTTP_AUTHORIZATION=_basic(machine), **environ)


def _refresh_token(user, app_client) -> str:
    return tokens.issue(
        user=user, client=app_client, scopes=["openid"], auth_time=clock.now()
    ).refresh_token


def _refresh_form(user, app_client) -> dict:
    return {
        "grant_type": "refresh_token",
        "client_id": app_client.client_id,
        "refresh_token": _refresh_token(user, app_client),
    }


def _code_form(browser, pool, app_client) -> dict:
    return {
        "grant_type": "authorization_code",
        "client_id": app_client.client_id,
        "code": code_for(browser, pool, app_client),
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
    }


@pytest.fixture
def django_api():
    return ApiHandler()


@pytest.fixture
def token_written(pool, machine, monkeypatch):
    """A door (never Django's handler) that answered one token request through every step (it
    keeps the headers the steps after the view added to its 200), and that notes each run of a
    step after the view in `.ran`."""
    front = Front(WSGIHandler(), ApiHandler())
    front.api_door.api_app = NotDjango()
    assert _client_credentials(front, pool, machine).status == 200
    assert front.api_door._kept_after
    note_steps_after_the_view(front, monkeypatch)
    return front


def _same(ours, theirs) -> None:
    assert ours.status == theirs.status
    assert comparable(ours.headers) == comparable(theirs.headers)
    assert list(ours.headers) == list(theirs.headers)  # the same order, too
    assert ours.headers["X-Request-Id"] != theirs.headers["X-Request-Id"]


def test_a_client_credentials_200_written_by_the_door_is_djangos_answer(
    token_written, django_api, pool, machine
):
    ours = _client_credentials(token_written, pool, machine)
    theirs = _client_credentials(django_api, pool, machine)
    assert token_written.ran == []
    _same(ours, theirs)
    assert set(json.loads(ours.body)) == set(json.loads(theirs.body))


def test_a_refresh_200_written_by_the_door_is_djangos_answer(
    token_written, django_api, pool, app_client, user
):
    ours = _token(token_written, pool, _refresh_form(user, app_client))
    theirs = _token(django_api, pool, _refresh_form(user, app_client))
    assert token_written.ran == []
    assert ours.status == 200
    _same(ours, theirs)
    assert set(json.loads(ours.body)) == set(json.loads(theirs.body))


def test_a_code_200_written_by_the_door_is_djangos_answer(
    token_written, django_api, client, pool, app_client, user
):
    ours = _token(token_written, pool, _code_form(client, pool, app_client))
    theirs = _token(django_api, pool, _code_form(client, pool, app_client))
    assert token_written.ran == []
    assert ours.status == 200
    _same(ours, theirs)
    assert set(json.loads(ours.body)) == set(json.loads(theirs.body)) >= {"id_token"}


def test_a_written_token_answer_is_not_stored(token_written, pool, machine):
    """RFC 6749 §5.1: Cache-Control: no-store and Pragma: no-cache on every token answer."""
    answer = _client_credentials(token_written, pool, machine)
    assert token_written.ran == []
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Pragma"] == "no-cache"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_a_written_token_answer_has_its_request_id_log_line_metrics_and_signals(
    token_written, pool, machine, caplog, monkeypatch
):
    no_django_response(monkeypatch)
    counted = metrics.REQUESTS.labels(route=_ROUTE, method="POST", status="200")
    before = counted._value.get()
    with request_signals() as seen, caplog.at_level(logging.INFO, logger="cognate.request"):
        answer = _client_credentials(token_written, pool, machine, HTTP_X_REQUEST_ID="lb-7")
    assert answer.status == 200 and answer.headers["X-Request-Id"] == "lb-7"
    assert seen == [signals.request_started, signals.request_finished]
    [line] = [r for r in caplog.records if r.name == "cognate.request"]
    assert (line.request_id, line.route, line.status) == ("lb-7", _ROUTE, 200)
    assert counted._value.get() == before + 1
    assert token_written.ran == []


def _wrong_secret(pool, machine, app_client, user):
    return {"grant_type": "client_credentials"}, {
        "HTTP_AUTHORIZATION": "Basic "
        + base64.b64encode(f"{machine.client_id}:x".encode()).decode()
    }


def _unknown_refresh_token(pool, machine, app_client, user):
    form = {"grant_type": "refresh_token", "client_id": app_client.client_id}
    return {**form, "refresh_token": "not-a-token"}, {}


def _reused_refresh_token(pool, machine, app_client, user):
    form = _refresh_form(user, app_client)
    tokens.refresh(client=app_client, refresh_token=form["refresh_token"], context=None)
    return form, {}


_REFUSALS = {
    "invalid_client (401, WWW-Authenticate)": _wrong_secret,
    "invalid_grant: an unknown refresh token": _unknown_refresh_token,
    "invalid_grant: a rotated refresh token": _reused_refresh_token,
    "unsupported_grant_type": lambda *args: ({"grant_type": "password"}, {}),
    "no grant_type": lambda *args: ({}, {}),
    "a bad code": lambda pool, machine, app_client, user: (
        {"grant_type": "authorization_code", "client_id": app_client.client_id, "code": "x"},
        {},
    ),
}


@pytest.mark.parametrize("case", list(_REFUSALS))
def test_a_token_refusal_after_a_written_answer_runs_every_step_as_django(
    token_written, django_api, pool, machine, app_client, user, case
):
    form, environ = _REFUSALS[case](pool, machine, app_client, user)
    ours = _token(token_written, pool, form, **environ)
    assert len(token_written.ran) == _STEPS_AFTER_THE_VIEW
    assert ours.status in (400, 401)
    form, environ = _REFUSALS[case](pool, machine, app_client, user)  # its own (reuse revokes)
    theirs = _token(django_api, pool, form, **environ)
    assert (ours.status, ours.body) == (theirs.status, theirs.body)
    _same(ours, theirs)
    assert ours.headers["Cache-Control"] == "no-store"
    if ours.status == 401:
        assert ours.headers["WWW-Authenticate"] == f'Basic realm="{pool.id}"'


def test_a_token_request_of_no_pool_runs_every_step_as_django(token_written, django_api):
    class NoPool:
        id = "eu-west-1_Nowhere1"

    ours = _token(token_written, NoPool, {"grant_type": "client_credentials"})
    theirs = _token(django_api, NoPool, {"grant_type": "client_credentials"})
    assert ours.status == 404 and len(token_written.ran) == _STEPS_AFTER_THE_VIEW
    assert (ours.status, ours.body) == (theirs.status, theirs.body)
    _same(ours, theirs)


def test_the_token_rate_limit_still_refuses_after_a_written_answer(
    token_written, django_api, pool, machine, settings
):
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 2
    clock.freeze()
    # A window of its own: the fixture's request may have been in the previous one.
    clock.advance(seconds=60)
    assert _client_credentials(token_written, pool, machine).status == 200
    token_written.ran.clear()
    assert _client_credentials(token_written, pool, machine).status == 200
    assert token_written.ran == []  # written by the door, and counted
    refused = _client_credentials(token_written, pool, machine)
    assert refused.status == 429 and len(token_written.ran) == _STEPS_AFTER_THE_VIEW
    assert refused.headers["Retry-After"].isdigit()
    assert refused.headers["Cache-Control"] == "no-store"


def test_an_exception_in_a_written_token_answer_is_djangos_500_with_every_header(
    token_written, pool, machine, monkeypatch
):
    def broken(request, pool_id):
        raise RuntimeError("boom")

    monkeypatch.setattr(oauth, "token_answer", broken)
    answer = _client_credentials(token_written, pool, machine)
    assert answer.status == 500 and len(token_written.ran) == _STEPS_AFTER_THE_VIEW
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Request-Id"):
        assert name in answer.headers


def test_token_headers_are_kept_per_scheme(settings, pool, machine):
    settings.SECURE_HSTS_SECONDS = 3600
    front = Front(WSGIHandler(), ApiHandler())
    for _ in range(2):
        assert "Strict-Transport-Security" not in _client_credentials(front, pool, machine).headers
        answer = _client_credentials(front, pool, machine, **{"wsgi.url_scheme": "https"})
        assert answer.headers["Strict-Transport-Security"] == "max-age=3600"
