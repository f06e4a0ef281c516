"""The sign-in page in two brandings, in Debian's chromium: a light blue pool branding and a
client's dark branding with an uploaded logo and Cognito classic CSS. Screenshots go to
test-artifacts/e2e/<test>/; the computed colours must be the configured ones, the logo must load,
and the browser must report no CSP violation (the branding is one stylesheet of ours)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pool.services import branding
from tests import factories
from tests.hostedui.conftest import authorize_url
from tests.images import png

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIGHT_BLUE = {"mode": "light", "font": "sans", "light": {"primary": "#1e6fd9", "page": "#dbe9ff"}}
DARK = {
    "mode": "dark",
    "font": "serif",
    "dark": {"primary": "#ff9900", "page": "#101010", "card": "#1c1c1c", "text": "#f5f5f5"},
}
CLASSIC_CSS = ".submitButton-customizable { border-radius: 0px; }"


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture
def branded(live_server, settings):
    settings.PUBLIC_URL = live_server.url
    pool = factories.make_pool(name="Brand test")
    plain, dark = (
        factories.make_client(pool, name="Blue app"),
        factories.make_client(pool, name="Night app"),
    )
    branding.set_branding(pool=pool, settings=LIGHT_BLUE)
    branding.set_branding(
        pool=pool, client=dark, settings=DARK, css=CLASSIC_CSS, logo=png(64, 32, (255, 153, 0))
    )
    return live_server.url, pool, plain, dark


def login_url(base: str, pool, client) -> str:
    return f"{base}/{pool.id}/login?{urlsplit(authorize_url(pool, client)).query}"


def computed(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")


def watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return violations


def test_sign_in_page_in_two_brandings(branded, page, artifact_dir):
    base, pool, plain, dark = branded
    violations = watch_csp(page)

    page.goto(login_url(base, pool, plain))
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifact_dir / "light-blue.png"), full_page=True)
    light = {
        "page": computed(page, "body", "backgroundColor"),
        "button": computed(page, ".btn-primary", "backgroundColor"),
        "font": computed(page, "body", "fontFamily"),
    }
    assert light["page"] == rgb("#dbe9ff")
    assert light["button"] == rgb("#1e6fd9")
    assert "Helvetica" in light["font"]
    assert page.locator("img.logo").count() == 0

    page.goto(login_url(base, pool, dark))
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifact_dir / "dark-with-logo.png"), full_page=True)
    night = {
        "page": computed(page, "body", "backgroundColor"),
        "button": computed(page, ".btn-primary", "backgroundColor"),
        "card": computed(page, ".card", "backgroundColor"),
        "text": computed(page, "h1", "color"),
        "radius": computed(page, ".btn-primary", "borderTopLeftRadius"),
        "font": computed(page, "body", "fontFamily"),
    }
    assert night["page"] == rgb("#101010") and night["card"] == rgb("#1c1c1c")
    assert night["button"] == rgb("#ff9900") and night["text"] == rgb("#f5f5f5")
    assert night["radius"] == "0px"  # Cognito's classic class reached our button
    assert "Georgia" in night["font"]
    assert page.eval_on_selector("img.logo", "img => img.complete && img.naturalWidth") == 64
    assert night["page"] != light["page"] and night["button"] != light["button"]
    assert violations == []


def test_auto_mode_follows_the_browser(branded, page, artifact_dir):
    base, pool, plain, _dark = branded
    branding.set_branding(
        pool=pool, settings={**LIGHT_BLUE, "mode": "auto", "dark": {"page": "#000033"}}
    )
    page.emulate_media(color_scheme="dark")
    page.goto(login_url(base, pool, plain))
    page.screenshot(path=str(artifact_dir / "auto-dark.png"), full_page=True)
    assert computed(page, "body", "backgroundColor") == rgb("#000033")
    page.emulate_media(color_scheme="light")
    assert computed(page, "body", "backgroundColor") == rgb("#dbe9ff")


def test_console_preview_frames_the_draft(live_server, page, artifact_dir):
    """An operator previews unsaved colours: the iframe (our own sign-in page, framable by the
    console only) shows them; saving stores them."""
    from django.contrib.auth.models import User as Operator
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from pool.models import Branding

    operator = Operator.objects.create_superuser("ops", "ops@ops.example", "Operator-Pass-42")
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    pool = factories.make_pool(name="Preview shop")
    violations = watch_csp(page)
    base = live_server.url
    page.goto(f"{base}/console/login")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "Operator-Pass-42")
    page.get_by_role("button", name="Continue", exact=True).click()
    page.fill("#id_token", f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify", exact=True).click()
    page.wait_for_url(f"{base}/console/")

    page.goto(f"{base}/console/pools/{pool.id}/branding/")
    page.select_option("#id_mode", "dark")
    page.fill("#id_dark_page", "#202040")
    page.fill("#id_dark_primary", "#22cc88")
    page.get_by_role("button", name="Preview", exact=True).click()
    page.wait_for_load_state("networkidle")
    frame = page.frame_locator("#brandingPreview")
    frame.locator(".btn-primary").wait_for()
    page.screenshot(path=str(artifact_dir / "console-preview.png"), full_page=True)
    inside = frame.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    button = frame.locator(".btn-primary").evaluate("b => getComputedStyle(b).backgroundColor")
    assert (inside, button) == (rgb("#202040"), rgb("#22cc88"))
    assert not Branding.objects.exists()

    page.get_by_role("button", name="Save branding", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert Branding.objects.get(pool=pool).settings["dark"] == {
        "page": "#202040",
        "primary": "#22cc88",
    }
    assert violations == []
