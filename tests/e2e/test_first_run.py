"""A newcomer's first minute, as the README promises it: the production server (gunicorn,
config.wsgi) on a freshly migrated SQLite database with the bootstrap's demo, then the demo app
signs the demo user in through the hosted pages in a real browser."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.wait_for_server import wait_for
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """migrate + bootstrap + gunicorn, as `make run` does, in a scratch var dir."""
    var = tmp_path_factory.mktemp("first-run")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PYTEST_XDIST_WORKER"}
    }
    env.update(
        COGNATE_VAR_DIR=str(var),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        DEBUG="1",
        SECRET_KEY=secrets.token_urlsafe(40),
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    boot = subprocess.run(
        [*manage, "bootstrap", "--json"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    demo = json.loads(boot.stdout)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
        ],
        cwd=ROOT,
        env=env,
        stdout=(var / "server.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_for(demo["urls"]["discovery"], timeout=60), (var / "server.log").read_text()
        yield demo
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_bootstrap_urls_answer_on_the_production_server(served):
    import requests

    discovery = requests.get(served["urls"]["discovery"], timeout=10).json()
    assert discovery["issuer"] == served["urls"]["discovery"].removesuffix(
        "/.well-known/openid-configuration"
    )
    assert requests.get(served["urls"]["jwks"], timeout=10).json()["keys"]


def test_demo_user_signs_in_through_the_hosted_page(served, page, artifact_dir):
    page.goto(served["urls"]["demo"])
    page.screenshot(path=artifact_dir / "1-demo.png", full_page=True)
    page.click("#demoSignIn")
    page.wait_for_selector("#signInForm")
    assert f"/{served['pool_id']}/login" in page.url
    page.screenshot(path=artifact_dir / "2-hosted-login.png", full_page=True)
    page.fill("input[name=username]", served["demo_user"]["username"])
    page.fill("input[name=password]", served["demo_user"]["password"])
    page.click("input[name=signInSubmitButton]")
    page.wait_for_selector("#demoSignOut")
    page.screenshot(path=artifact_dir / "3-signed-in.png", full_page=True)
    body = page.inner_text("main")
    assert "Signed in through the hosted UI" in body
    assert served["demo_user"]["email"] in body
