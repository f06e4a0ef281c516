"""Codes asked for on the hosted pages arrive as multipart email branded by the app client
whose pages they came from (its logo and colour), through a real SMTP server."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.hostedui.conftest import authorize_url
from tests.pool.helpers import code_in

pytestmark = pytest.mark.django_db
LOGO = "https://cdn.example.com/shop-logo.png"


def page(pool, app_client, name: str) -> str:
    return f"/{pool.id}/{name}?{urlsplit(authorize_url(pool, app_client)).query}"


@pytest.fixture
def branded(pool, app_client):
    app_client.logo_url = LOGO
    app_client.brand_color = "#0a7f3c"
    app_client.save()
    return app_client


def test_the_sign_up_page_sends_a_branded_email(client, pool, branded, smtp_sink):
    client.post(
        page(pool, branded, "signup"),
        {"username": "dora", "email": "dora@example.com", "password": factories.PASSWORD},
    )
    message = smtp_sink.wait_for("dora@example.com")
    code = code_in(smtp_sink.body(message))
    html = smtp_sink.html(message)
    assert re.search(rf"<img src=\"{re.escape(LOGO)}\"", html)
    assert "#0a7f3c" in html and code in html


def test_the_forgot_password_page_sends_a_branded_email(client, pool, branded, user, smtp_sink):
    client.post(page(pool, branded, "forgotPassword"), {"username": "alice"})
    html = smtp_sink.html(smtp_sink.wait_for("alice@example.com"))
    assert LOGO in html and "#0a7f3c" in html
