"""The demo relying party at /demo/: starts code + PKCE, exchanges the code, verifies the ID
token against the pool's JWKS, shows the tokens and userInfo, signs out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.PUBLIC_URL = "http://testserver"
    pool = factories.make_pool(name="Demo")
    app = factories.make_client(
        pool,
        name="Demo app",
        callback_urls=["http://testserver/demo/callback"],
        logout_urls=["http://testserver/demo/"],
    )
    factories.make_user(pool, "demo")
    return pool, app


def test_demo_without_bootstrap_says_what_to_run(client, db):
    response = client.get("/demo/")
    assert b"manage.py bootstrap" in response.content


def test_demo_starts_code_flow_with_pkce(client, demo):
    pool, app = demo
    response = client.post("/demo/")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert response["Location"].startswith(f"/{pool.id}/oauth2/authorize?")
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == [app.client_id]
    assert query["state"] and query["nonce"]


def test_demo_runs_the_whole_flow_and_signs_out(client, demo):
    pool, app = demo
    authorize = client.post("/demo/")["Location"]
    login = client.get(authorize)["Location"]
    callback = client.post(login, {"username": "demo", "password": factories.PASSWORD})
    assert callback["Location"].startswith("http://testserver/demo/callback?")
    shown = client.get(client.get(callback["Location"])["Location"])
    html = shown.content.decode()
    assert "cognito:username" in html and "demo@example.com" in html
    assert "JWKS" in html
    logout = client.get(
        f"/{pool.id}/logout", {"client_id": app.client_id, "logout_uri": "http://testserver/demo/"}
    )
    assert logout["Location"] == "http://testserver/demo/"
    assert b"cognito:username" not in client.get("/demo/").content


def test_demo_callback_refuses_a_foreign_state(client, demo):
    client.post("/demo/")
    response = client.get("/demo/callback", {"code": "x", "state": "forged"})
    assert response.status_code == 400
    assert b"state does not match" in response.content
