"""Browser fixtures for the e2e tests: Playwright driving Debian's chromium (never a downloaded
browser), screenshots under test-artifacts/e2e/<test>/.

`make test` skips the e2e tests when chromium is not installed; run directly, these fixtures
skip them too. CHROMIUM overrides the browser's path (default /usr/bin/chromium).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture
def browser():
    """A chromium of this test's own. Playwright's sync API runs an asyncio loop in this thread
    while it is started, and a second `sync_playwright()` refuses to start inside it ("Sync API
    inside the asyncio loop"): a session-wide one broke every later test that starts its own."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"chromium not found at {CHROMIUM}: install Debian's chromium to run e2e tests")
    # Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls
    # from it unless told that this synchronous use is intended.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


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
