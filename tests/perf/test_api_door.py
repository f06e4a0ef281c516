"""config.front's ApiDoor: the API paths' views called without Django's handler give the answer
Django's handler gives (status, body, every header: security, CORS, caching), with the same
request id, log line and metrics; other hosts, a chain it cannot step through and anything it
does not know go through Django."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.handlers.wsgi import WSGIHandler

from config import metrics
from config.front import ApiDoor, ApiHandler, Front, _steps
from pool import clock
from pool.models import UserPoolDomain
from pool.services import tokens
from tests.api.conftest import CONTENT_TYPE, TARGET
from tests.perf.doors import (
    NONCE,
    NotDjango,
    comparable,
    no_django_response,
    note_steps_after_the_view,
    request_signals,
)
from tests.perf.wsgi import call

pytestmark = pytest.mark.django_db


@pytest.fixture
def door_only():
    front = Front(WSGIHandler(), ApiHandler())
    front.api_door.api_app = NotDjango()
    return front


@pytest.fixture
def django_api():
    return ApiHandler()


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
    assert comparable(ours.headers) == comparable(theirs.headers)
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
    front.api_door.api_app = NotDjango()
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
    front.api_door.api_app = NotDjango()
    with pytest.raises(AssertionError, match="went to Django"):
        call(front, f"/{pool.id}/oauth2/userInfo")


def test_a_chain_not_starting_with_the_request_log_and_hosts_goes_through_django(settings):
    assert _steps(settings.API_MIDDLEWARE[1:]) is None
    assert _steps(settings.API_MIDDLEWARE) is not None


def test_a_path_that_is_no_pool_id_goes_through_django(door_only):
    with pytest.raises(AssertionError, match="went to Django"):
        call(door_only, "/console/oauth2/userInfo")


# ------------------------------------------------- userInfo answers the door writes itself


def _user_info(app, pool, access, **extra):
    return call(app, f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {access}", **extra)


@pytest.fixture
def written_by_the_door(door_only, pool, access, monkeypatch):
    """A door that answered one userInfo through the chain (it keeps that answer's headers),
    and whose chain now fails: a 200 can only be its own."""
    assert _user_info(door_only, pool, access).status == 200

    def no_chain(*args, **kwargs):
        raise AssertionError("the chain answered")

    chain = door_only.api_door._answer
    monkeypatch.setattr(door_only.api_door, "_answer", no_chain)
    door_only.chain = chain
    return door_only


def test_a_user_info_written_by_the_door_is_djangos_answer(
    written_by_the_door, django_api, pool, access
):
    ours = _user_info(written_by_the_door, pool, access)
    theirs = _user_info(django_api, pool, access)
    assert (ours.status, ours.body) == (theirs.status, theirs.body) == (200, ours.body)
    assert comparable(ours.headers) == comparable(theirs.headers)
    assert list(ours.headers) == list(theirs.headers)  # the same order, too
    assert ours.headers["X-Request-Id"] != theirs.headers["X-Request-Id"]
    assert NONCE.findall(ours.headers["Content-Security-Policy"]) != NONCE.findall(
        theirs.headers["Content-Security-Policy"]
    )


def test_a_user_info_written_by_the_door_has_its_request_id_log_line_and_metrics(
    written_by_the_door, pool, access, caplog
):
    route = "/<str:pool_id>/oauth2/userInfo"
    counted = metrics.REQUESTS.labels(route=route, method="GET", status="200")
    before = counted._value.get()
    with caplog.at_level(logging.INFO, logger="cognate.request"):
        answer = _user_info(written_by_the_door, pool, access, HTTP_X_REQUEST_ID="lb-5678")
    assert answer.status == 200 and answer.headers["X-Request-Id"] == "lb-5678"
    [line] = [r for r in caplog.records if r.name == "cognate.request"]
    assert (line.request_id, line.route, line.status, line.path, line.funcName) == (
        "lb-5678",
        route,
        200,
        f"/{pool.id}/oauth2/userInfo",
        "finish",
    )
    assert counted._value.get() == before + 1


def test_a_user_info_written_by_the_door_ends_the_request_as_django(
    written_by_the_door, pool, access
):
    from django.core import signals

    with request_signals() as seen:
        assert _user_info(written_by_the_door, pool, access).status == 200
    assert seen == [signals.request_started, signals.request_finished]


def test_a_revoked_token_goes_to_the_view_after_a_written_answer(
    written_by_the_door, django_api, pool, access, monkeypatch
):
    claims = tokens.verify_access_token(pool=pool, token=access)
    tokens.revoke_family(family_id=claims["origin_jti"], reason="test")
    monkeypatch.setattr(written_by_the_door.api_door, "_answer", written_by_the_door.chain)
    ours = _user_info(written_by_the_door, pool, access)
    theirs = _user_info(django_api, pool, access)
    assert ours.status == 401
    assert (ours.status, ours.body) == (theirs.status, theirs.body)
    assert comparable(ours.headers) == comparable(theirs.headers)


@pytest.mark.parametrize("token", ["", "x", "Basic abc"])
def test_a_refusal_goes_to_the_view_after_a_written_answer(written_by_the_door, pool, token):
    with pytest.raises(AssertionError, match="the chain answered"):
        call(written_by_the_door, f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=token)


def test_an_expired_token_goes_to_the_view_after_a_written_answer(
    written_by_the_door, pool, access
):
    clock.freeze()
    clock.advance(hours=2)
    with pytest.raises(AssertionError, match="the chain answered"):
        _user_info(written_by_the_door, pool, access)


def test_a_settings_change_forgets_the_kept_headers(door_only, pool, access, settings):
    assert _user_info(door_only, pool, access).headers["X-Frame-Options"] == "DENY"
    settings.X_FRAME_OPTIONS = "SAMEORIGIN"  # read by its middleware on every answer
    assert _user_info(door_only, pool, access).headers["X-Frame-Options"] == "SAMEORIGIN"


def test_headers_are_kept_per_scheme(settings, pool, access):
    settings.SECURE_HSTS_SECONDS = 3600
    front = Front(WSGIHandler(), ApiHandler())
    secure = {"wsgi.url_scheme": "https"}
    for _ in range(2):
        assert "Strict-Transport-Security" not in _user_info(front, pool, access).headers
        answer = _user_info(front, pool, access, **secure)
        assert answer.headers["Strict-Transport-Security"] == "max-age=3600"


def test_with_another_middleware_the_chain_answers_every_user_info(settings, pool, access):
    settings.API_MIDDLEWARE = [*settings.API_MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    front = Front(WSGIHandler(), ApiHandler())
    front.api_door.api_app = NotDjango()
    assert front.api_door.steps is not None and not front.api_door.keeps_headers
    answered = []
    chain = front.api_door._answer
    front.api_door._answer = lambda *args: answered.append(1) or chain(*args)
    for _ in range(2):
        assert _user_info(front, pool, access).status == 200
    assert answered == [1, 1]


# ------------------------------------- GetUser answers with the headers the steps added before


def _get_user(app, access, **extra):
    _, method, environ = _requests_get_user(access)
    return _call(app, "/", method, {**environ, **extra})


def _requests_get_user(access):
    body = json.dumps({"AccessToken": access}).encode()
    json_api = {"CONTENT_TYPE": CONTENT_TYPE, "HTTP_X_AMZ_TARGET": TARGET + "GetUser"}
    return "/", "POST", {**json_api, "wsgi.input": body}


@pytest.fixture
def steps_not_run(door_only, access, monkeypatch):
    """A door that answered one GetUser through every step (it keeps the headers the steps
    after the view added), and that notes each run of a step after the view in `.ran`."""
    assert _get_user(door_only, access).status == 200
    note_steps_after_the_view(door_only, monkeypatch)
    return door_only


def test_a_get_user_answered_without_the_steps_is_djangos_answer(steps_not_run, django_api, access):
    ours = _get_user(steps_not_run, access)
    theirs = _get_user(django_api, access)
    assert steps_not_run.ran == []
    assert (ours.status, ours.body) == (theirs.status, theirs.body)
    assert ours.status == 200
    assert comparable(ours.headers) == comparable(theirs.headers)
    assert list(ours.headers) == list(theirs.headers)
    assert ours.headers["x-amzn-RequestId"] != theirs.headers["x-amzn-RequestId"]
    assert ours.headers["X-Request-Id"] != theirs.headers["X-Request-Id"]


def test_a_get_user_answered_without_the_steps_has_its_log_line_and_metrics(
    steps_not_run, access, caplog
):
    route = "/"
    counted = metrics.REQUESTS.labels(route=route, method="POST", status="200")
    before = counted._value.get()
    with caplog.at_level(logging.INFO, logger="cognate.request"):
        answer = _get_user(steps_not_run, access, HTTP_X_REQUEST_ID="lb-9")
    assert answer.status == 200 and answer.headers["X-Request-Id"] == "lb-9"
    [line] = [r for r in caplog.records if r.name == "cognate.request"]
    assert (line.request_id, line.route, line.status) == ("lb-9", route, 200)
    assert counted._value.get() == before + 1


def test_a_get_user_refusal_runs_every_step(steps_not_run, django_api):
    ours = _get_user(steps_not_run, "not-a-token")
    theirs = _get_user(django_api, "not-a-token")
    assert len(steps_not_run.ran) == 3
    assert (ours.status, ours.body) == (theirs.status, theirs.body) != (200, ours.body)
    assert comparable(ours.headers) == comparable(theirs.headers)


def test_another_action_runs_every_step(steps_not_run, pool):
    environ = {
        "CONTENT_TYPE": CONTENT_TYPE,
        "HTTP_X_AMZ_TARGET": TARGET + "ListUsers",
        "wsgi.input": b"{}",
    }
    _call(steps_not_run, "/", "POST", environ)
    assert len(steps_not_run.ran) == 3


def test_get_user_headers_are_kept_per_scheme(settings, access):
    settings.SECURE_HSTS_SECONDS = 3600
    front = Front(WSGIHandler(), ApiHandler())
    secure = {"wsgi.url_scheme": "https"}
    for _ in range(2):
        assert "Strict-Transport-Security" not in _get_user(front, access).headers
        answer = _get_user(front, access, **secure)
        assert answer.headers["Strict-Transport-Security"] == "max-age=3600"


def test_a_settings_change_forgets_the_get_user_headers(door_only, access, settings):
    assert _get_user(door_only, access).headers["X-Frame-Options"] == "DENY"
    settings.X_FRAME_OPTIONS = "SAMEORIGIN"
    assert _get_user(door_only, access).headers["X-Frame-Options"] == "SAMEORIGIN"


# ------------------------------------------- GetUser answers the door writes itself, and refusals


@pytest.fixture
def get_user_written(steps_not_run, access):
    """A door that keeps the steps' headers of a GetUser 200 (steps_not_run), so that a later
    GetUser is answered by api.views.answer without Django's response: a 200 written by the
    door, any other answer through every step."""
    assert steps_not_run.api_door._kept_after
    return steps_not_run


def _claiming_pool(access: str, pool_id: str) -> str:
    """`access` with its issuer (the pool it names) replaced, its signature kept."""
    import base64

    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["iss"] = claims["iss"].rsplit("/", 1)[0] + "/" + pool_id
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def _of_another_pool(access, user):
    from tests import factories

    return _claiming_pool(access, factories.make_pool().id)


def _revoked(access, user):
    tokens.revoke_family(
        family_id=tokens.verify_access_token(pool=user.pool, token=access)["origin_jti"],
        reason="test",
    )
    return access


def _expired(access, user):
    clock.freeze()
    clock.advance(hours=2)
    return access


def _signed_out(access, user):
    tokens.revoke_user_sessions(user=user, reason="test")
    return access


def _disabled(access, user):
    user.enabled = False
    user.save()
    return access


def _deleted(access, user):
    user.delete()
    return access


_REFUSALS = {
    "revoked": _revoked,
    "expired": _expired,
    "signed out": _signed_out,
    "claiming another pool": _of_another_pool,
    "claiming no pool": lambda access, user: _claiming_pool(access, "eu-west-1_Nowhere1"),
    "of a disabled user": _disabled,
    "of a deleted user": _deleted,
    "malformed": lambda access, user: "not-a-token",
    "tampered": lambda access, user: access[:-4] + ("AAAA" if access[-4:] != "AAAA" else "BBBB"),
    "not a string": lambda access, user: 5,
}


@pytest.mark.parametrize("case", list(_REFUSALS))
def test_a_get_user_refusal_after_a_written_answer_is_djangos_answer(
    get_user_written, django_api, access, user, case
):
    token = _REFUSALS[case](access, user)
    ours = _get_user(get_user_written, token)
    theirs = _get_user(django_api, token)
    assert ours.status == 400 and json.loads(ours.body)["__type"] in (
        "NotAuthorizedException",
        "InvalidParameterException",
    )
    assert len(get_user_written.ran) == 3  # every step after the view
    assert (ours.status, ours.body) == (theirs.status, theirs.body)
    assert comparable(ours.headers) == comparable(theirs.headers)
    assert list(ours.headers) == list(theirs.headers)


@pytest.mark.parametrize(
    "environ",
    [
        {"wsgi.input": b"{not json"},
        {"wsgi.input": b"[]"},
        {"CONTENT_TYPE": "application/json"},
        {"wsgi.input": json.dumps({"AccessToken": "a", "Other": 1}).encode()},
    ],
)
def test_a_malformed_get_user_after_a_written_answer_is_djangos_answer(
    get_user_written, django_api, access, environ
):
    ours = _get_user(get_user_written, access, **environ)
    theirs = _get_user(django_api, access, **environ)
    assert ours.status == 400
    assert (ours.status, ours.body) == (theirs.status, theirs.body)
    assert comparable(ours.headers) == comparable(theirs.headers)
    assert list(ours.headers) == list(theirs.headers)


def test_a_get_user_written_by_the_door_ends_the_request_as_django(
    get_user_written, access, monkeypatch
):
    from django.core import signals

    no_django_response(monkeypatch)
    with request_signals() as seen:
        assert _get_user(get_user_written, access).status == 200
    assert seen == [signals.request_started, signals.request_finished]
    assert get_user_written.ran == []


def test_an_exception_in_a_written_get_user_is_djangos_500_with_every_header(
    get_user_written, access, monkeypatch
):
    from api import views

    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "answer", broken)
    answer = _get_user(get_user_written, access)
    assert answer.status == 500
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Request-Id"):
        assert name in answer.headers


def test_get_user_still_counts_against_the_rate_limit_when_written(
    get_user_written, access, settings
):
    settings.RATE_LIMIT_API_PER_MINUTE = 3  # (a settings change forgets the kept headers)
    assert _get_user(get_user_written, access).status == 200  # the fixture's, then this one
    get_user_written.ran.clear()
    assert _get_user(get_user_written, access).status == 200
    assert get_user_written.ran == []  # written by the door, and counted
    refused = _get_user(get_user_written, access)
    assert refused.status == 429
    assert json.loads(refused.body)["__type"] == "TooManyRequestsException"
