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


def test_demo_opened_on_another_host_moves_to_public_url_and_signs_in(client, demo, settings):
    """`make run` binds 127.0.0.1 while PUBLIC_URL says localhost: the demo opened at the
    address the server listens on must still end signed in, not in a state mismatch."""
    settings.PUBLIC_URL = "http://localhost:8000"
    pool, app = demo
    app.callback_urls = ["http://localhost:8000/demo/callback"]
    app.save()
    local = {"HTTP_HOST": "127.0.0.1:8000"}
    public = {"HTTP_HOST": "localhost:8000"}
    moved = client.get("/demo/", **local)
    assert moved.status_code == 302
    assert moved["Location"].startswith("http://localhost:8000/demo/")
    # The browser follows to localhost: its cookies there are its own (the test client keeps
    # one jar, so start from an empty one as the browser would on a new host).
    client.cookies.clear()
    start = client.get(moved["Location"], **public)
    assert start.status_code == 200
    authorize = client.post("/demo/", **public)["Location"]
    login = client.get(authorize, **public)["Location"]
    callback = client.post(login, {"username": "demo", "password": factories.PASSWORD}, **public)[
        "Location"
    ]
    assert callback.startswith("http://localhost:8000/demo/callback?")
    done = client.get(callback, **public)
    assert done.status_code == 302, done.content.decode()
    assert b"cognito:username" in client.get("/demo/", **public).content


def test_demo_does_not_loop_behind_a_proxy_that_rewrites_the_host(client, demo, settings):
    settings.PUBLIC_URL = "http://localhost:8000"
    response = client.get("/demo/?moved=1", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200


def test_make_run_prints_the_public_url_it_serves():
    """`make run` listens on 127.0.0.1 but must point the newcomer at PUBLIC_URL (localhost),
    where the demo's sign-in comes back."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=root, capture_output=True, text=True, timeout=60
    ).stdout
    serving = next(line for line in dry_run.splitlines() if "Serving" in line)
    assert "http://localhost:8123/" in serving
    assert "http://127.0.0.1" not in serving
