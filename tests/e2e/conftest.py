"""Browser fixtures for the e2e tests: Playwright driving Debian's chromium (never a downloaded
browser), screenshots under test-artifacts/e2e/<test>/.

`make test` skips the e2e tests when chromium is not installed; run directly, these fixtures
skip them too. CHROMIUM overrides the browser's path (default /usr/bin/chromium).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import factories

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture
def browser():
    """A chromium of this test's own. Playwright's sync API runs an asyncio loop in this thread
    while it is started, and a second `sync_playwright()` refuses to start inside it ("Sync API
    inside the asyncio loop"): a session-wide one broke every later test that starts its own."""
    with chromium() as launched:
        yield launched


@contextlib.contextmanager
def chromium() -> Iterator:
    """Debian's chromium under Playwright, closed at the end with the database connections the
    test opened meanwhile. While Playwright's loop runs in this thread, Django keeps this
    thread's connections apart from the ones it has without the loop (asgiref's Local holds
    them per async context then): a connection the test opens while the browser is up is one
    Django's end-of-test closing never sees. Left open, it kept a session on PostgreSQL's test
    database, which then could not be dropped at the end of the run. Skips the test without
    chromium."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"chromium not found at {CHROMIUM}: install Debian's chromium to run e2e tests")
    # Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls
    # from it unless told that this synchronous use is intended.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            try:
                launched.close()
            finally:
                connections.close_all()  # the ones opened while the loop ran, as they are seen now


@pytest.fixture
def artifact_dir(request) -> Path:
    """Where this test's screenshots go (kept after the run, outside git)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    path = ARTIFACTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


# ------------------------------------------------------------ federated sign-in in the demo


def demo_app(pool, base: str, provider_name: str):
    """The demo app (as `manage.py bootstrap` makes it) offering the pool's accounts and
    `provider_name`."""
    return factories.make_client(
        pool,
        name="Demo app",
        callback_urls=[f"{base}/demo/callback"],
        logout_urls=[f"{base}/demo/"],
        supported_identity_providers=["COGNITO", provider_name],
    )


def provider_button(page, base: str, pool, provider_name: str):
    """From the demo app to the hosted sign-in page: its one "Sign in with <provider>"."""
    page.goto(f"{base}/demo/")
    page.click("#demoSignIn")
    page.wait_for_url(re.compile(rf"/{pool.id}/login\?"))
    button = page.locator("a.idp-button", has_text=f"Sign in with {provider_name}")
    assert button.count() == 1
    return button


def shown_identities(shown: str) -> list[dict]:
    """The `identities` claim of the ID token the demo app shows (a JSON string in it)."""
    match = re.search(r'"identities":\s*("(?:[^"\\]|\\.)*"|\[.*?\])', shown, re.S)
    assert match, shown[:2000]
    identities = json.loads(match.group(1))
    return json.loads(identities) if isinstance(identities, str) else identities
