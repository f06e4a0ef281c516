"""redirect_uri must equal a registered callback URL exactly. Every variant attackers use on
real servers gets our error page, never a redirect: also with prompt=none, also from the hosted
pages, also for logout_uri."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.security.conftest import CALLBACK, authorize_url, sign_in

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
