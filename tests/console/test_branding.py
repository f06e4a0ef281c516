"""Branding in the console: the pool's and each client's form, saved through
pool/services/branding.py and audited, refusals shown in place, uploads checked, and a preview
iframe of the real sign-in page rendered with the unsaved draft."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from console.models import AuditEntry
from pool.models import Branding
from pool.services import branding
from tests import factories
from tests.console.helpers import last_audit
from tests.images import SVG, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    return factories.make_pool(name="shop")


def form_data(**values) -> dict:
    data = {"mode": "", "font": "", "css": ""}
    for mode in ("light", "dark"):
        for name in branding.COLOURS:
            data[f"{mode}_{name}"] = ""
    data.update(values)
    return data


def preview_src(html: str) -> str:
    return unescape(re.search(r'<iframe class="branding-preview"[^>]* src="([^"]+)"', html)[1])


def test_saving_the_pools_branding_is_audited(console, pool):
    url = reverse("console:pool_branding", args=[pool.id])
    logo = SimpleUploadedFile("logo.png", png(), content_type="image/png")
    response = console.post(
        url, form_data(action="save", mode="dark", dark_primary="#FF0066", logo=logo)
    )
    assert response.status_code == 302
    row = Branding.objects.get(pool=pool, client=None)
    assert row.settings == {"mode": "dark", "dark": {"primary": "#ff0066"}}
    assert bytes(row.logo) == png() and row.logo_type == "image/png"
    assert last_audit("branding.update").target_pool == pool.id
    page = console.get(url).content.decode()
    assert 'value="#ff0066"' in page and "A logo is uploaded" in page


def test_a_clients_branding_is_its_own(console, pool):
    app = factories.make_client(pool)
    url = reverse("console:client_branding", args=[pool.id, app.client_id])
    console.post(url, form_data(action="save", light_primary="#123456"))
    assert Branding.objects.get(client=app).settings == {"light": {"primary": "#123456"}}
    assert not Branding.objects.filter(client=None).exists()
    detail = console.get(reverse("console:client", args=[pool.id, app.client_id]))
    assert url in detail.content.decode()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"light_primary": "red"}, "must look like #1a2b3c"),
        ({"css": "@import url(https://evil.example/x.css);"}, "@import is not allowed"),
        (
            {"logo": SimpleUploadedFile("x.svg", SVG, content_type="image/svg+xml")},
            "SVG is not accepted",
        ),
    ],
)
def test_refusals_show_in_place_and_change_nothing(console, pool, values, message):
    url = reverse("console:pool_branding", args=[pool.id])
    response = console.post(url, form_data(action="save", **values))
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not Branding.objects.exists()
    assert not AuditEntry.objects.filter(action="branding.update").exists()


def test_preview_renders_the_draft_without_saving_it(console, pool):
    branding.set_branding(pool=pool, settings={"light": {"primary": "#111111"}})
    url = reverse("console:pool_branding", args=[pool.id])
    response = console.post(url, form_data(action="preview", light_primary="#00ff00"))
    assert response.status_code == 200
    src = preview_src(response.content.decode())
    assert src.startswith(f"/{pool.id}/branding/preview?token=")
    frame = console.get(src)
    assert frame.status_code == 200 and "frame-ancestors 'self'" in frame["Content-Security-Policy"]
    css_href = unescape(re.search(r'href="([^"]*branding\.css[^"]*)"', frame.content.decode())[1])
    assert "--brand: #00ff00;" in console.get(css_href).content.decode()
    assert Branding.objects.get().settings == {"light": {"primary": "#111111"}}


def test_readonly_operators_may_look_but_not_save(readonly_console, pool):
    url = reverse("console:pool_branding", args=[pool.id])
    assert readonly_console.get(url).status_code == 200
    response = readonly_console.post(url, form_data(action="save", mode="dark"))
    assert response.status_code == 403
    assert not Branding.objects.exists()


def test_unknown_client_is_a_404(console, pool):
    other = factories.make_client(factories.make_pool())
    url = reverse("console:client_branding", args=[pool.id, other.client_id])
    assert console.get(url).status_code == 404
