"""Hosted-page branding: the stylesheet each pool and client is served, its validation, its
caching, the logo and background images, the console's preview, and the CSP kept strict."""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.core import signing

from hostedui import branding as hosted_branding
from pool.errors import InvalidParameterException
from pool.models import Branding
from pool.services import branding
from tests import factories, parallel
from tests.hostedui.conftest import authorize_url
from tests.images import SVG, png

pytestmark = pytest.mark.django_db

STRICT_CSP = re.compile(
    r"^default-src 'self'; script-src 'self' 'nonce-[\w-]+'; style-src 'self' 'nonce-[\w-]+'; "
    r"img-src 'self' data: https:; object-src 'none'; base-uri 'none'; "
    r"form-action 'self' http: https:; frame-ancestors 'none'$"
)


def page(pool, app, name: str = "login") -> str:
    return f"/{pool.id}/{name}?{urlsplit(authorize_url(pool, app)).query}"


def stylesheet_href(html: str) -> str:
    return unescape(re.search(r'<link rel="stylesheet" href="([^"]*branding\.css[^"]*)">', html)[1])


def served_css(client, pool, app) -> str:
    html = client.get(page(pool, app)).content.decode()
    response = client.get(stylesheet_href(html))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    return response.content.decode()


# ------------------------------------------------------------------- the stylesheet


def test_pool_colours_font_and_mode_reach_the_stylesheet(client, pool, app_client):
    branding.set_branding(
        pool=pool,
        settings={
            "mode": "dark",
            "font": "serif",
            "dark": {"primary": "#FF8800", "page": "#000000"},
        },
    )
    css = served_css(client, pool, app_client)
    assert "--brand: #ff8800;" in css and "--bg: #000000;" in css
    assert "color-scheme: dark;" in css and "color-scheme: light;" not in css
    assert f"font-family: {branding.FONTS['serif']};" in css


def test_auto_mode_switches_on_the_browsers_preference(client, pool, app_client):
    branding.set_branding(
        pool=pool,
        settings={"mode": "auto", "light": {"primary": "#112233"}, "dark": {"primary": "#445566"}},
    )
    css = served_css(client, pool, app_client)
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    assert "--brand: #112233;" in light and "--brand: #445566;" in dark


def test_a_clients_branding_overrides_its_pools_key_by_key(client, pool):
    mine, other = factories.make_client(pool), factories.make_client(pool)
    branding.set_branding(
        pool=pool,
        settings={"font": "mono", "light": {"primary": "#111111", "page": "#222222"}},
        css=".app-name { letter-spacing: 1px; }",
    )
    branding.set_branding(
        pool=pool,
        client=mine,
        settings={"light": {"primary": "#333333"}},
        css=".app-name { letter-spacing: 3px; }",
    )
    css = served_css(client, pool, mine)
    assert "--brand: #333333;" in css and "--bg: #222222;" in css
    assert branding.FONTS["mono"] in css
    assert css.index("letter-spacing: 1px") < css.index("letter-spacing: 3px")
    plain = served_css(client, pool, other)
    assert "--brand: #111111;" in plain and "letter-spacing: 3px" not in plain


def test_cognitos_classic_classes_style_our_elements(client, pool, app_client):
    branding.set_branding(pool=pool, css=".submitButton-customizable:hover { color: #010203; }")
    css = served_css(client, pool, app_client)
    assert ":is(.btn-primary):hover { color: #010203; }" in css


def test_unknown_client_or_pool_is_a_404(client, pool):
    assert client.get(f"/{pool.id}/branding.css?client_id=nosuch").status_code == 404
    assert client.get("/local_Nope1234/branding.css").status_code == 404
    assert client.get(f"/{pool.id}/branding.css?client_id=%00").status_code == 404


# ------------------------------------------------------------------- caching


def test_versioned_url_is_cached_for_long_and_revalidates_by_etag(client, pool, app_client):
    html = client.get(page(pool, app_client)).content.decode()
    href = stylesheet_href(html)
    first = client.get(href)
    assert first["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = first["ETag"]
    version = re.search(r"v=(\w+)", href)[1]
    assert etag == f'"{version}"'
    again = client.get(href, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag


def test_a_change_gives_a_new_version_and_the_old_url_revalidates(client, pool, app_client):
    old = stylesheet_href(client.get(page(pool, app_client)).content.decode())
    branding.set_branding(pool=pool, settings={"light": {"primary": "#abcdef"}})
    new = stylesheet_href(client.get(page(pool, app_client)).content.decode())
    assert new != old
    stale = client.get(old)
    assert stale["Cache-Control"] == "public, no-cache"
    assert "--brand: #abcdef;" in stale.content.decode()


# ------------------------------------------------------------------- CSS validation


@pytest.mark.parametrize(
    "css",
    [
        "@import url(https://evil.example/x.css);",
        "@IMPORT 'https://evil.example/x.css';",
        "@font-face { font-family: x; src: url(https://evil.example/f.woff); }",
        "body { background: url(javascript:alert(1)); }",
        "body { background: url( 'https://tracker.example/p.png' ); }",
        "body { background: url(/static/other.png); }",
        "body { background: image-set('https://evil.example/x.png' 1x); }",
        "body { width: expression(alert(1)); }",
        "body { -moz-binding: url(x.xml#y); }",
        "body { b\\61 ckground: url(https://evil.example); }",
        "</style><script>alert(1)</script>",
        "body { color: red; ",
        "body { color: red; } /* open",
        "a" * (branding.MAX_CSS_CHARS + 1),
    ],
)
def test_unsafe_css_is_refused_and_nothing_is_stored(pool, css):
    branding.set_branding(pool=pool, css="body { color: #000000; }")
    with pytest.raises(InvalidParameterException) as caught:
        branding.set_branding(pool=pool, css=css)
    assert caught.value.field == "css"
    assert Branding.objects.get(pool=pool).custom_css == "body { color: #000000; }"


@pytest.mark.parametrize(
    "css",
    [
        "@media (max-width: 480px) { .card { padding: 0; } }",
        "body { background: url(data:image/png;base64,iVBORw0KGgo=); }",
        "/* a comment with @import and url(http://x) */ .card { border-radius: 2px; }",
        '.card::after { content: "{"; }',
    ],
)
def test_safe_css_is_kept(pool, css):
    assert branding.set_branding(pool=pool, css=css).custom_css == css


@pytest.mark.parametrize(
    "given",
    [
        {"mode": "sepia"},
        {"font": "https://fonts.example/Comic.woff2"},
        {"light": {"primary": "red;}body{x:y"}},
        {"light": {"sparkle": "#ffffff"}},
        {"logo": "x"},
        ["mode", "dark"],
    ],
)
def test_bad_settings_are_refused(pool, given):
    with pytest.raises(InvalidParameterException):
        branding.set_branding(pool=pool, settings=given)
    assert not Branding.objects.exists()


# ------------------------------------------------------------------- images


@pytest.mark.parametrize(
    "image",
    [
        SVG,
        b"<html><script>alert(1)</script></html>",
        b"GIF8" + b"x" * 20,
        png() + b"\0" * branding.MAX_LOGO_BYTES,
    ],
)
def test_bad_logos_are_refused(pool, image):
    with pytest.raises(InvalidParameterException) as caught:
        branding.set_branding(pool=pool, logo=image)
    assert caught.value.field == "logo"
    assert not Branding.objects.exists()


def test_logo_is_served_with_its_type_version_and_a_sandbox(client, pool, app_client):
    logo = png(rgb=(1, 2, 3))
    branding.set_branding(pool=pool, logo=logo)
    html = client.get(page(pool, app_client)).content.decode()
    src = unescape(re.search(r'<img class="logo" src="([^"]+)"', html)[1])
    response = client.get(src)
    assert response.status_code == 200 and response.content == logo
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(src, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_background_image_is_linked_from_the_stylesheet(client, pool, app_client):
    branding.set_branding(pool=pool, background=png(rgb=(9, 9, 9)))
    css = served_css(client, pool, app_client)
    url = re.search(r'background-image: url\("([^"]+)"\)', css)[1]
    assert client.get(url).content == png(rgb=(9, 9, 9))


def test_images_are_found_only_under_their_own_pool(client, pool):
    other = factories.make_pool()
    saved = branding.set_branding(pool=other, logo=png())
    assert client.get(f"/{other.id}/branding/{saved.id}/logo").status_code == 200
    assert client.get(f"/{pool.id}/branding/{saved.id}/logo").status_code == 404
    assert client.get(f"/{other.id}/branding/{saved.id}/settings").status_code == 404
    assert client.get(f"/{other.id}/branding/not-a-uuid/logo").status_code == 404


def test_a_clients_old_logo_url_shows_until_a_logo_is_uploaded(client, pool):
    app = factories.make_client(pool, logo_url="https://cdn.example.com/logo.png")
    html = client.get(page(pool, app)).content.decode()
    assert 'src="https://cdn.example.com/logo.png"' in html
    branding.set_branding(pool=pool, logo=png())
    html = client.get(page(pool, app)).content.decode()
    assert "cdn.example.com" not in html and f"/{pool.id}/branding/" in html


# ------------------------------------------------------------------- CSP and inline styles


@pytest.mark.parametrize("name", ["login", "signup", "forgotPassword"])
def test_pages_keep_the_strict_csp_and_carry_no_inline_style(client, pool, name):
    pool.allow_self_sign_up = True
    pool.save()
    app = factories.make_client(pool, brand_color="#aa3366")
    branding.set_branding(pool=pool, settings={"mode": "dark"}, css=".card { margin: 0; }")
    response = client.get(page(pool, app, name))
    assert response.status_code == 200
    assert STRICT_CSP.match(response["Content-Security-Policy"])
    html = response.content.decode()
    assert "<style" not in html and " style=" not in html
    assert stylesheet_href(html).startswith(f"/{pool.id}/branding.css?client_id={app.client_id}&v=")


# ------------------------------------------------------------------- console preview


def test_preview_shows_the_draft_without_saving_it(client, pool, app_client):
    branding.set_branding(pool=pool, client=app_client, settings={"light": {"primary": "#111111"}})
    token = hosted_branding.save_draft(
        pool_id=pool.id,
        client_id=app_client.client_id,
        settings=branding.clean_settings({"light": {"primary": "#999999"}}),
        css="",
    )
    response = client.get(f"/{pool.id}/branding/preview?token={token}")
    assert response.status_code == 200
    assert response["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    assert "form-action 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Cache-Control"] == "no-store"
    css = client.get(stylesheet_href(response.content.decode()))
    assert css["Cache-Control"] == "no-store"
    assert "--brand: #999999;" in css.content.decode()
    assert "--brand: #111111;" in served_css(client, pool, app_client)


def test_preview_tokens_are_bound_to_their_pool_and_unforgeable(client, pool):
    other = factories.make_pool()
    token = hosted_branding.save_draft(pool_id=other.id, client_id=None, settings={}, css="")
    assert client.get(f"/{pool.id}/branding/preview?token={token}").status_code == 400
    assert client.get(f"/{other.id}/branding/preview?token={token}x").status_code == 400
    assert client.get(f"/{pool.id}/branding.css?preview={token}").status_code == 404
    assert client.post(f"/{other.id}/branding/preview?token={token}").status_code == 405


def test_preview_tokens_expire(client, pool):
    token = hosted_branding.save_draft(pool_id=pool.id, client_id=None, settings={}, css="")
    payload = signing.loads(token, salt=hosted_branding.PREVIEW_SALT)

    class SignedLongAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - hosted_branding.PREVIEW_SECONDS - 5)

    stale = SignedLongAgo(salt=hosted_branding.PREVIEW_SALT).sign_object(payload)
    assert client.get(f"/{pool.id}/branding/preview?token={token}").status_code == 200
    assert client.get(f"/{pool.id}/branding/preview?token={stale}").status_code == 400


# ------------------------------------------------------------------- races


@pytest.mark.django_db(transaction=True)
def test_parallel_first_saves_make_one_row(pool):
    colours = ["#000001", "#000002", "#000003", "#000004"]
    results = parallel.run_together(
        [
            (lambda c=c: branding.set_branding(pool=pool, settings={"light": {"primary": c}}))
            for c in colours
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Branding.objects.filter(pool=pool).count() == 1


def test_use_cognito_provided_values_shows_the_defaults(client, pool, app_client):
    saved = branding.create_client_branding(
        pool=pool, client=app_client, settings={"light": {"primary": "#123123"}}
    )
    assert "--brand: #123123;" in served_css(client, pool, app_client)
    branding.update_by_id(pool=pool, branding_id=saved.id, use_defaults=True)
    assert "--brand: #2f6fde;" in served_css(client, pool, app_client)


def test_a_clients_own_colour_beats_the_pools_branding(client, pool):
    app = factories.make_client(pool, brand_color="#aa3366")
    branding.set_branding(pool=pool, settings={"light": {"primary": "#111111", "page": "#222222"}})
    css = served_css(client, pool, app)
    assert "--brand: #aa3366;" in css and "--bg: #222222;" in css
    branding.set_branding(pool=pool, client=app, settings={"light": {"primary": "#333333"}})
    assert "--brand: #333333;" in served_css(client, pool, app)


def test_use_cognito_provided_values_on_a_client_drops_the_pools_branding_too(client, pool):
    app = factories.make_client(pool, brand_color="#aa3366")
    branding.set_branding(pool=pool, settings={"light": {"page": "#222222"}}, css="a { x: y; }")
    branding.create_client_branding(pool=pool, client=app, use_defaults=True)
    css = served_css(client, pool, app)
    assert "--bg: #f3f5f9;" in css and "--brand: #2f6fde;" in css and "x: y" not in css


# ------------------------------------------------------------------- on the pool's own domain


def test_on_a_custom_domain_the_branding_is_served_from_the_domain(settings, pool, app_client):
    from django.test import Client

    from pool.services import domains

    settings.PUBLIC_URL = "http://localhost:8000"
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/abcdef-123"
    domains.create_domain(pool=pool, domain="auth.example.com", certificate_arn=arn)
    branding.set_branding(pool=pool, settings={"light": {"primary": "#0a0b0c"}}, logo=png())
    browser = Client(HTTP_HOST="auth.example.com")
    query = urlsplit(authorize_url(pool, app_client)).query
    html = browser.get(f"/login?{query}").content.decode()
    href = stylesheet_href(html)
    assert href.startswith(f"/branding.css?client_id={app_client.client_id}&v=")
    assert "--brand: #0a0b0c;" in browser.get(href).content.decode()
    src = unescape(re.search(r'<img class="logo" src="([^"]+)"', html)[1])
    assert src.startswith("/branding/") and browser.get(src).content == png()
