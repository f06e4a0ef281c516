"""config.front: JWKS and discovery answered from memory with ETag and 304, never stale after a
rotation or a settings change (in this process or another), and the API paths' short middleware
chain that still sets every security header."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from config.front import ApiHandler, AuthorizeHandler, Front
from pool.services import domains, keys
from pool.services import pools as pool_service
from tests import config_changes
from tests.hostedui.conftest import authorize_url, code_for
from tests.perf.wsgi import call

ROOT = Path(__file__).resolve().parents[2]
JWKS = "/{}/.well-known/jwks.json"
DISCOVERY = "/{}/.well-known/openid-configuration"
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Permissions-Policy",
)


@pytest.fixture
def front():
    return Front(WSGIHandler(), ApiHandler())


def _kids(answer) -> list[str]:
    return [key["kid"] for key in json.loads(answer.body)["keys"]]


@pytest.mark.django_db
@pytest.mark.parametrize("template", [JWKS, DISCOVERY])
def test_documents_carry_etag_cache_control_cors_and_security_headers(front, pool, template):
    first = call(front, template.format(pool.id))
    second = call(front, template.format(pool.id))
    assert first.status == second.status == 200
    assert second.body == first.body
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Cache-Control"].startswith("public, max-age=")
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    assert second.headers["Content-Type"] == "application/json"
    for name in SECURITY_HEADERS:
        assert name in second.headers, name


@pytest.mark.django_db
def test_if_none_match_gets_304_without_a_body(front, pool):
    etag = call(front, JWKS.format(pool.id)).headers["ETag"]
    answer = call(front, JWKS.format(pool.id), HTTP_IF_NONE_MATCH=f'W/"x", {etag}')
    assert answer.status == 304
    assert answer.body == b""
    assert answer.headers["ETag"] == etag
    assert "Content-Type" not in answer.headers
    other = call(front, JWKS.format(pool.id), HTTP_IF_NONE_MATCH='"something else"')
    assert other.status == 200


@pytest.mark.django_db
def test_a_rotation_in_this_process_shows_in_the_next_jwks(front, pool):
    before = call(front, JWKS.format(pool.id))
    new = keys.rotate(pool=pool)
    after = call(front, JWKS.format(pool.id), HTTP_IF_NONE_MATCH=before.headers["ETag"])
    assert after.status == 200
    assert new.kid in _kids(after) and after.headers["ETag"] != before.headers["ETag"]


@pytest.mark.django_db
def test_a_settings_change_shows_in_the_next_discovery(front, pool, settings):
    before = call(front, DISCOVERY.format(pool.id))
    pool_service.update_pool(pool=pool, name="renamed")
    settings.PUBLIC_URL = "https://id.example.com"
    after = call(front, DISCOVERY.format(pool.id))
    assert json.loads(after.body)["issuer"] == f"https://id.example.com/{pool.id}"
    assert after.headers["ETag"] != before.headers["ETag"]


@pytest.mark.django_db(transaction=True)
def test_a_rotation_by_another_process_shows_in_the_next_jwks(
    front, pool, django_assert_num_queries
):
    """A real second process (manage.py shell on the same database) rotates the key. This
    process reads no version until the other counts its change (pool.config_generation): on
    a SQLite file at its commit, on PostgreSQL once its notification arrived here (moments
    after the commit: waited for, not assumed)."""
    keys.active_key(pool)  # made on first use: a change, counted as any
    before = call(front, JWKS.format(pool.id))
    with django_assert_num_queries(_version_reads()):
        assert call(front, JWKS.format(pool.id)).body == before.body
    _in_another_process(
        "from pool.models import UserPool; from pool.services import keys; "
        f"print(keys.rotate(pool=UserPool.objects.get(pk='{pool.id}')).kid)"
    )
    if connection.vendor == "postgresql":
        config_changes.wait_for_delivery()
    after = call(front, JWKS.format(pool.id), HTTP_IF_NONE_MATCH=before.headers["ETag"])
    assert after.status == 200
    assert len(_kids(after)) == 2 and _kids(after)[1:] == _kids(before)[:1]
    assert keys.active_key(pool_from_db(pool.id)).kid == _kids(after)[0]


@pytest.mark.django_db(transaction=True)
def test_a_settings_change_outside_a_transaction_shows_in_the_next_discovery(front, pool):
    """As in a server: no test transaction around the change, which is counted on commit."""
    before = call(front, DISCOVERY.format(pool.id))
    domains.create_domain(pool=pool, domain="shows-at-once")
    after = call(front, DISCOVERY.format(pool.id))
    assert after.body != before.body and b"shows-at-once" in after.body


@pytest.mark.django_db(transaction=True)
def test_a_deleted_pool_has_no_documents_at_once(front, pool, django_assert_num_queries):
    keys.active_key(pool)
    for template in (JWKS, DISCOVERY):
        assert call(front, template.format(pool.id)).status == 200
    with django_assert_num_queries(2 * _version_reads()):  # both kept
        for template in (JWKS, DISCOVERY):
            assert call(front, template.format(pool.id)).status == 200
    pool_id = pool.id
    pool_service.delete_pool(pool=pool)
    assert call(front, JWKS.format(pool_id)).status == 404
    assert call(front, DISCOVERY.format(pool_id)).status == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("template", [JWKS, DISCOVERY])
def test_each_kept_answer_has_its_own_request_id_and_its_length(front, pool, template):
    path = template.format(pool.id)
    answers = [call(front, path) for _ in range(3)]
    ids = [answer.headers["X-Request-Id"] for answer in answers]
    assert len(set(ids)) == 3 and all(len(made) == 32 and int(made, 16) >= 0 for made in ids)
    for answer in answers:
        assert answer.headers["Content-Length"] == str(len(answer.body))
    given = call(front, path, HTTP_X_REQUEST_ID="lb-1234")
    assert given.headers["X-Request-Id"] == "lb-1234"
    not_modified = call(front, path, HTTP_IF_NONE_MATCH=answers[0].headers["ETag"])
    assert not_modified.status == 304 and not_modified.headers["X-Request-Id"] not in ids
    assert "Content-Length" not in not_modified.headers


@pytest.mark.django_db
def test_unknown_pool_and_other_methods_go_to_django(front, pool):
    assert call(front, JWKS.format("local_Missing01")).status == 404
    assert call(front, JWKS.format("bad\x00id")).status == 404
    options = call(front, JWKS.format(pool.id), method="OPTIONS")
    assert options.status == 204
    assert call(front, JWKS.format(pool.id), method="POST").status in (403, 405)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/{}/oauth2/token", "/{}/oauth2/userInfo", "/{}/oauth2/revoke", "/"]
)
def test_api_paths_keep_security_headers_and_set_no_cookies(front, pool, path):
    answer = call(front, path.format(pool.id), method="POST")
    assert answer.status in (400, 401, 405)
    for name in SECURITY_HEADERS:
        assert name in answer.headers, (path, name)
    assert "Set-Cookie" not in answer.headers


def test_api_chain_is_the_full_chain_without_session_and_language_middleware():
    assert [
        name
        for name in settings.MIDDLEWARE
        if name
        not in {
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django_otp.middleware.OTPMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "hostedui.i18n.HostedLanguageMiddleware",
        }
    ] == settings.API_MIDDLEWARE
    assert "config.security.SecurityHeadersMiddleware" in settings.API_MIDDLEWARE
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.API_MIDDLEWARE


def test_authorize_chain_keeps_sessions_messages_and_language_and_every_header_setter():
    chain = settings.AUTHORIZE_MIDDLEWARE
    assert [name for name in settings.MIDDLEWARE if name in chain] == chain
    for name in (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "hostedui.i18n.HostedLanguageMiddleware",
        *settings.API_MIDDLEWARE,
    ):
        assert name in chain, name
    assert "django.middleware.csrf.CsrfViewMiddleware" not in chain


def _browser_cookies(browser, *more: str) -> str:
    pairs = [f"{name}={morsel.value}" for name, morsel in browser.cookies.items()]
    pairs += [cookie.split(";", 1)[0] for cookie in more]
    return "; ".join(pairs)


@pytest.mark.django_db
def test_authorize_through_its_chain_answers_from_the_hosted_session(
    pool, app_client, user, client
):
    """config.front sends GET /oauth2/authorize through settings.AUTHORIZE_MIDDLEWARE: the
    hosted session still signs the browser straight through, with every security header."""
    front = Front(WSGIHandler(), ApiHandler(), AuthorizeHandler())
    code_for(client, pool, app_client)  # signs in: the browser now holds a hosted session
    path, _, query = authorize_url(pool, app_client).partition("?")
    answer = call(front, path, QUERY_STRING=query, HTTP_COOKIE=_browser_cookies(client))
    assert answer.status == 302 and "code=" in answer.headers["Location"]
    assert answer.headers["Location"].startswith("http://localhost:3000/callback?")
    for name in SECURITY_HEADERS:
        assert name in answer.headers, name
    assert not answer.cookies  # nothing changed in the session: no write, no new cookie

    signed_out = call(front, path, QUERY_STRING=query)
    assert signed_out.status == 302 and f"/{pool.id}/login?" in signed_out.headers["Location"]


@pytest.mark.django_db
def test_authorize_through_its_chain_leaves_its_message_for_the_login_page(pool, app_client):
    front = Front(WSGIHandler(), ApiHandler(), AuthorizeHandler())
    path, _, query = authorize_url(
        pool, app_client, idp_identifier="ann@nowhere.example"
    ).partition("?")
    answer = call(front, path, QUERY_STRING=query)
    login_path, _, login_query = answer.headers["Location"].partition("?")
    assert answer.status == 302 and login_path == f"/{pool.id}/login"
    page = call(
        front,
        login_path,
        QUERY_STRING=login_query,
        HTTP_COOKIE="; ".join(cookie.split(";", 1)[0] for cookie in answer.cookies),
    )
    assert page.status == 200
    assert b"No identity provider signs in that address." in page.body


def _version_reads() -> int:
    """Statements a kept answer costs outside a transaction: none while pool.config_generation
    counts changes (a SQLite file, PostgreSQL's notifications), one read of the version on an
    in-memory SQLite database."""
    return 1 if connection.vendor == "sqlite" and connection.is_in_memory_db() else 0


def pool_from_db(pool_id):
    from pool.selectors import pools

    return pools.cached_pool(pool_id)


def _in_another_process(code: str) -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": settings.SECRET_KEY,
        "COGNATE_ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
        "DEBUG": "1",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.django_db
def test_api_paths_speak_english_whatever_the_browser_asks(front):
    """The short chain activates no language: an OAuth endpoint's error stays in English (as
    Cognito's), and the thread is left in the default language for the next request."""
    from django.utils import translation

    answer = call(front, "/us-east-1_Nowhere1/oauth2/userInfo", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status == 404
    assert json.loads(answer.body)["error_description"] == "There is no such user pool."
    assert "Content-Language" not in answer.headers
    assert translation.get_language() == settings.LANGUAGE_CODE
