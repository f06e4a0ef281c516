"""redirect_uri must equal a registered callback URL exactly. Every variant attackers use on
real servers gets our error page, never a redirect: also with prompt=none, also from the hosted
pages, also for logout_uri. Native apps (RFC 8252) may register a private-use scheme, and a
loopback IP callback matches on any port; nothing else is loosened."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from pool.errors import InvalidParameterException
from pool.models import AppClient
from pool.services import app_clients
from tests import factories
from tests.hostedui.conftest import exchange_code
from tests.security.conftest import CALLBACK, authorize_url, code_for, sign_in

pytestmark = pytest.mark.django_db

VARIANTS = [
    "http://localhost:3000@evil.example/callback",
    "http://localhost:3000%40evil.example/callback",
    "http://evil.example@localhost:3000/callback",
    "http://localhost:3000/callback/..;/evil",
    "http://localhost:3000/callback/../evil",
    "http://localhost:3000/callback%2F..%2Fevil",
    "http://localhost:3000/callback/",
    "http://localhost:3000.evil.example/callback",
    "http://localhost:3000/callback.evil.example",
    "http://localhost:3001/callback",
    "http://localhost/callback",
    "http://localhost:03000/callback",
    "https://localhost:3000/callback",
    "HTTP://localhost:3000/callback",
    "http://LOCALHOST:3000/callback",
    "http://localhost:3000/Callback",
    "http://localhost:3000/callback?next=https://evil.example",
    "http://localhost:3000/callback?",
    "http://localhost:3000/callback#x",
    "http://localhost:3000/callback#",
    " http://localhost:3000/callback",
    "http://localhost:3000/callback ",
    "http://localhost:3000/callback\t",
    "http://localhost:3000/callback\x00",
    "//evil.example/callback",
    "javascript:alert(1)//localhost:3000/callback",
    "http://127.0.0.1:3000/callback",
    "http://[::1]:3000/callback",
]


def never_redirects(response) -> None:
    assert response.status_code != 302, response.get("Location")
    assert "Location" not in response


@pytest.mark.parametrize("redirect_uri", VARIANTS)
def test_variant_gets_the_error_page(client, pool, app_client, redirect_uri):
    never_redirects(client.get(authorize_url(pool, app_client, redirect_uri=redirect_uri)))


@pytest.mark.parametrize("redirect_uri", VARIANTS)
def test_variant_with_prompt_none_gets_the_error_page(client, pool, app_client, redirect_uri):
    url = authorize_url(pool, app_client, redirect_uri=redirect_uri, prompt="none")
    never_redirects(client.get(url))


@pytest.mark.parametrize("redirect_uri", VARIANTS[:8])
def test_variant_with_a_live_session_gets_the_error_page(
    client, pool, app_client, user, redirect_uri
):
    sign_in(client, authorize_url(pool, app_client))
    url = authorize_url(pool, app_client, redirect_uri=redirect_uri, prompt="none")
    never_redirects(client.get(url))


def test_unknown_client_with_prompt_none_gets_the_error_page(client, pool, app_client):
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "unknownclient",
            "redirect_uri": CALLBACK,
            "prompt": "none",
        }
    )
    never_redirects(client.get(f"/{pool.id}/oauth2/authorize?{query}"))


def test_repeated_redirect_uri_gets_the_error_page(client, pool, app_client):
    url = (
        authorize_url(pool, app_client) + "&" + urlencode({"redirect_uri": "https://evil.example"})
    )
    never_redirects(client.get(url))


@pytest.mark.parametrize("redirect_uri", VARIANTS[:8])
def test_hosted_sign_in_with_a_variant_never_redirects(
    client, pool, app_client, user, redirect_uri
):
    good = client.get(authorize_url(pool, app_client))["Location"]
    bad = good.replace(
        urlencode({"redirect_uri": CALLBACK}), urlencode({"redirect_uri": redirect_uri})
    )
    assert bad != good
    never_redirects(client.post(bad, {"username": "alice", "password": "Correct-Horse-9"}))


def test_exact_callback_still_redirects(client, pool, app_client):
    response = client.get(authorize_url(pool, app_client))
    assert response.status_code == 302


@pytest.mark.parametrize(
    "logout_uri",
    ["http://localhost:3000@evil.example/", "http://localhost:3000/..;/", "https://evil.example"],
)
def test_logout_uri_variants_never_redirect(client, pool, app_client, logout_uri):
    query = urlencode({"client_id": app_client.client_id, "logout_uri": logout_uri})
    never_redirects(client.get(f"/{pool.id}/logout?{query}"))


# --- native apps: private-use schemes and loopback ports (pool/redirect_uris.py) -------------

LOOPBACK_V4 = "http://127.0.0.1/callback"
LOOPBACK_V6 = "http://[::1]:8080/callback"
APP_SCHEME = "com.example.app:/oauth2redirect"


@pytest.fixture
def native_app(pool):
    return factories.make_client(
        pool, callback_urls=[LOOPBACK_V4, LOOPBACK_V6, APP_SCHEME, "myapp://callback"]
    )


@pytest.mark.parametrize(
    "url",
    [
        "myapp://callback",
        APP_SCHEME,
        "com.example.app://auth/done?x=1",
        LOOPBACK_V4,
        LOOPBACK_V6,
        "http://localhost:3000/callback",
    ],
)
def test_native_callback_is_accepted_at_registration(pool, url):
    created, _ = app_clients.create_client(pool=pool, name="native", callback_urls=[url])
    assert created.callback_urls == [url]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript://localhost/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "blob:https://app.example.com/0d4a",
        "intent://callback#Intent;scheme=myapp;end",
        "view-source:https://app.example.com/",
        "java\tscript:alert(1)",
        "myapp://call back",
        "myapp://callback\n",
        "myapp://callback#frag",
        "myapp://user:secret@callback",
        "myapp:",
        "myapp://",
        "//evil.example/callback",
        "http://app.example.com/callback",
        "http://127.0.0.2.evil.example/callback",
        "1app://callback",
    ],
)
def test_unsafe_callback_is_refused_at_registration(pool, url):
    with pytest.raises(InvalidParameterException):
        app_clients.create_client(pool=pool, name="native", callback_urls=[url])
    assert not AppClient.objects.filter(pool=pool, name="native").exists()


def test_logo_url_takes_no_app_scheme(pool):
    with pytest.raises(InvalidParameterException, match="logo_url"):
        app_clients.create_client(
            pool=pool, name="native", callback_urls=[APP_SCHEME], logo_url="myapp://logo.png"
        )


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:51234/callback",
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1:65535/callback",
        "http://127.0.0.1/callback",
        "http://[::1]:49152/callback",
        "http://[::1]/callback",
    ],
)
def test_loopback_ip_callback_matches_on_any_port(client, pool, native_app, redirect_uri):
    response = client.get(authorize_url(pool, native_app, redirect_uri=redirect_uri))
    assert response.status_code == 302
    assert "/login?" in response["Location"]


def test_private_scheme_callback_gets_the_code(client, pool, native_app, user):
    response = sign_in(client, authorize_url(pool, native_app, redirect_uri=APP_SCHEME))
    assert response["Location"].startswith(APP_SCHEME + "?code=")


LOOPBACK_VARIANTS = [
    "http://127.0.0.1:51234/callback/",
    "http://127.0.0.1:51234/Callback",
    "http://127.0.0.1:51234/callback?next=https://evil.example",
    "http://127.0.0.1:51234/callback#x",
    "http://127.0.0.1:51234/callback\t",
    "http://127.0.0.1:0/callback",
    "http://127.0.0.1:65536/callback",
    "http://127.0.0.1:051234/callback",
    "http://127.0.0.1:/callback",
    "http://127.0.0.1:51234@evil.example/callback",
    "http://127.0.0.1.evil.example/callback",
    "http://127.0.0.1:51234.evil.example/callback",
    "https://127.0.0.1:51234/callback",
    "HTTP://127.0.0.1:51234/callback",
    "http://127.0.0.2:51234/callback",
    "http://127.1:51234/callback",
    "http://[::1]:51234/other",
    "http://[0:0:0:0:0:0:0:1]:51234/callback",
    "myapp://callback:1234",
    "com.example.app:/oauth2redirect/",
]


@pytest.mark.parametrize("redirect_uri", LOOPBACK_VARIANTS)
def test_native_variant_gets_the_error_page(client, pool, native_app, redirect_uri):
    never_redirects(client.get(authorize_url(pool, native_app, redirect_uri=redirect_uri)))


def test_localhost_keeps_its_exact_port(client, pool, app_client):
    """RFC 8252 §8.3: only the IP literals vary their port; `localhost` is matched exactly."""
    assert app_client.callback_urls == [CALLBACK]
    url = authorize_url(pool, app_client, redirect_uri="http://localhost:3001/callback")
    never_redirects(client.get(url))


def test_token_endpoint_wants_the_loopback_port_of_the_authorization(
    client, pool, native_app, user
):
    used = "http://127.0.0.1:51234/callback"
    code = code_for(client, pool, native_app, redirect_uri=used)
    for other in ("http://127.0.0.1:51235/callback", LOOPBACK_V4):
        response = exchange_code(client, pool, native_app, code, redirect_uri=other)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
    response = exchange_code(client, pool, native_app, code, redirect_uri=used)
    assert response.status_code == 200, response.content
    assert response.json()["refresh_token"]
