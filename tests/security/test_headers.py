"""Response headers: a CSP without unsafe-inline that forbids framing, X-Frame-Options DENY,
nosniff, a Referrer-Policy, HSTS behind https, and CORS only on the endpoints OAuth opens to
browser apps (token, revoke, userInfo, JWKS, discovery), never on authorize or pages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from tests.security.conftest import authorize_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(client, pool, app_client):
    login = client.get(authorize_url(pool, app_client))["Location"]
    return {
        "login": client.get(login),
        "signup": client.get(login.replace("/login?", "/signup?")),
        "error": client.get(f"/{pool.id}/oauth2/authorize?client_id=nope"),
        "console": client.get("/console/login"),
    }


def test_pages_have_a_csp_without_unsafe_inline(pages):
    for name, response in pages.items():
        csp = response["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, name
        assert "frame-ancestors 'none'" in csp, name
        assert "object-src 'none'" in csp, name


def test_pages_refuse_framing(pages):
    for name, response in pages.items():
        assert response["X-Frame-Options"] == "DENY", name


def test_pages_forbid_sniffing_and_limit_referrers(pages):
    for name, response in pages.items():
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin"), name


def test_inline_code_carries_the_responses_nonce(pages):
    """CSP refuses inline code without the nonce, so every inline block must carry it (and
    there are no inline event handlers or style attributes, which no nonce can allow)."""
    for name, response in pages.items():
        html = response.content.decode()
        nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
            assert "src=" in tag or f'nonce="{nonce}"' in tag, (name, tag)
        assert not re.search(r"\son[a-z]+=", html), name
        assert not re.search(r"<[a-z][^>]*\sstyle=", html), name


def test_no_hsts_over_plain_http(pages):
    for response in pages.values():
        assert "Strict-Transport-Security" not in response


def test_hsts_behind_https(client, settings, pool, app_client):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/console/login", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_https_public_url_turns_on_hsts_and_secure_cookies():
    """The settings derived from an https PUBLIC_URL (read in a fresh interpreter)."""
    script = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE,"
        " list(s.SECURE_PROXY_SSL_HEADER)]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PUBLIC_URL": "https://id.example.com",
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    hsts, secure, csrf_secure, name, httponly, samesite, proxy = json.loads(out.splitlines()[-1])
    assert hsts >= 31536000
    assert secure and csrf_secure and httponly
    assert name.startswith("__Host-")
    assert samesite in ("Lax", "Strict")
    assert proxy == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.parametrize("path", ["oauth2/token", "oauth2/revoke", "oauth2/userInfo"])
def test_cors_preflight_is_allowed_on_oauth_endpoints(client, pool, path):
    response = client.options(
        f"/{pool.id}/{path}",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert "OPTIONS" in response["Access-Control-Allow-Methods"]
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert response["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize("path", [".well-known/jwks.json", ".well-known/openid-configuration"])
def test_cors_is_allowed_on_public_documents(client, pool, path):
    response = client.get(f"/{pool.id}/{path}", HTTP_ORIGIN="https://app.example")
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", [".well-known/jwks.json", "oauth2/token", "oauth2/userInfo"])
def test_preflight_only_cors_headers_are_not_on_other_answers(client, pool, path):
    """A browser reads Allow-Methods, Allow-Headers and Max-Age from a preflight answer only;
    each header costs the server work on every answer."""
    response = client.generic(
        "POST" if path == "oauth2/token" else "GET",
        f"/{pool.id}/{path}",
        HTTP_ORIGIN="https://app.example",
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    for name in ("Access-Control-Allow-Methods", "Access-Control-Allow-Headers"):
        assert name not in response, name
    assert "Access-Control-Max-Age" not in response


def test_no_cors_on_authorize_pages_or_console(client, pool, app_client, pages):
    authorize = client.get(authorize_url(pool, app_client), HTTP_ORIGIN="https://evil.example")
    for name, response in {**pages, "authorize": authorize}.items():
        assert "Access-Control-Allow-Origin" not in response, name
