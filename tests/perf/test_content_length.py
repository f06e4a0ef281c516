"""config.front sends every answer of the API and authorize chains with its length, as the full
chain's CommonMiddleware does for the pages: without one the server frames the body in chunks
and writes the last (empty) chunk in a system call of its own. Answers written by ApiDoor itself
(userInfo, GetUser, token 200s) carry it too; an answer without a body (a 204 preflight, a 304)
carries none."""

from __future__ import annotations

import base64
import json
from io import BytesIO
from urllib.parse import urlencode

import pytest
from django.core.handlers.wsgi import WSGIHandler

from config.front import ApiHandler, AuthorizeHandler, Front
from tests import factories
from tests.api.conftest import CONTENT_TYPE, TARGET
from tests.hostedui.conftest import authorize_url
from tests.perf.doors import NotDjango
from tests.perf.wsgi import call

pytestmark = pytest.mark.django_db


@pytest.fixture
def front():
    return Front(WSGIHandler(), ApiHandler(), AuthorizeHandler())


def _post(app, path: str, body: bytes, **environ):
    return call(
        app,
        path,
        "POST",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": BytesIO(body), **environ},
    )


def _requests(pool, app_client, access, machine) -> dict:
    basic = base64.b64encode(f"{machine.client_id}:{machine.plain_secret}".encode()).decode()
    form = "application/x-www-form-urlencoded"
    get_user = json.dumps({"AccessToken": access}).encode()
    json_api = {"CONTENT_TYPE": CONTENT_TYPE, "HTTP_X_AMZ_TARGET": TARGET + "GetUser"}
    path, _, query = authorize_url(pool, app_client).partition("?")
    return {
        "userInfo": lambda app: call(
            app, f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {access}"
        ),
        "userInfo refused": lambda app: call(app, f"/{pool.id}/oauth2/userInfo"),
        "userInfo preflight": lambda app: call(app, f"/{pool.id}/oauth2/userInfo", "OPTIONS"),
        "GetUser": lambda app: _post(app, "/", get_user, **json_api),
        "GetUser refused": lambda app: _post(app, "/", b'{"AccessToken": "x"}', **json_api),
        "client_credentials": lambda app: _post(
            app,
            f"/{pool.id}/oauth2/token",
            urlencode({"grant_type": "client_credentials"}).encode(),
            CONTENT_TYPE=form,
            HTTP_AUTHORIZATION=f"Basic {basic}",
        ),
        "token refused": lambda app: _post(
            app, f"/{pool.id}/oauth2/token", b"grant_type=nothing", CONTENT_TYPE=form
        ),
        "token without a pool in the path": lambda app: _post(
            app, "/oauth2/token", b"grant_type=nothing", CONTENT_TYPE=form
        ),
        "authorize": lambda app: call(app, path, QUERY_STRING=query),
    }


NAMES = [
    "userInfo",
    "userInfo refused",
    "userInfo preflight",
    "GetUser",
    "GetUser refused",
    "client_credentials",
    "token refused",
    "token without a pool in the path",
    "authorize",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_answer_of_the_short_chains_carries_its_length(front, pool, app_client, access, name):
    machine = factories.make_service_client(pool)
    send = _requests(pool, app_client, access, machine)[name]
    for _ in range(3):  # the first answers go through the chain, later 200s are written
        answer = send(front)
        assert "Transfer-Encoding" not in answer.headers
        if answer.status in (204, 304):  # no body, no length (RFC 9110 §8.6)
            assert "Content-Length" not in answer.headers
        else:
            assert answer.headers.get("Content-Length") == str(len(answer.body)), name


@pytest.mark.parametrize("name", ["userInfo", "GetUser", "client_credentials"])
def test_answers_the_door_writes_itself_carry_their_own_length(pool, app_client, access, name):
    """After the first 200 the door writes these answers without Django's response: the length
    is this answer's, never the one of the answer whose headers it kept."""
    front = Front(WSGIHandler(), ApiHandler())
    machine = factories.make_service_client(pool)
    send = _requests(pool, app_client, access, machine)[name]
    first = send(front)
    front.api_door.api_app = NotDjango()
    written = send(front)
    assert first.status == written.status == 200
    assert written.headers["Content-Length"] == str(len(written.body))
    assert list(written.headers).count("Content-Length") == 1


def test_a_not_modified_document_has_no_length(front, pool):
    path = f"/{pool.id}/.well-known/jwks.json"
    etag = call(front, path).headers["ETag"]
    answer = call(front, path, HTTP_IF_NONE_MATCH=etag)
    assert answer.status == 304
    assert "Content-Length" not in answer.headers
