"""A person signs in with a SAML 2.0 identity provider in a real browser (Playwright + Debian's
chromium): the demo app sends them to the hosted sign-in page, they click "Sign in with
<provider>", the IdP (pysaml2's IdP side, tests/saml_idp.py, on another host name: 127.0.0.1
against the server's localhost, so its form POST back is cross-site and comes without our Lax
session cookie) posts its signed assertion to our ACS, and they land in the demo app with tokens
whose `identities` claim names the provider; signing out goes through the IdP's single
logout. Screenshots go to test-artifacts/e2e/<test>/."""

from __future__ import annotations

import re

import pytest

from hostedui.federation import saml
from pool.services import identity_providers as idp_service
from tests import factories
from tests.e2e.conftest import demo_app, provider_button, shown_identities
from tests.saml_idp import EMAIL, GIVEN_NAME, SamlIdp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_with_saml(live_server, settings):
    settings.PUBLIC_URL = live_server.url
    base = live_server.url
    pool = factories.make_pool(name="Demo")
    idp = SamlIdp()
    idp.subject = "mira"
    idp.attributes = {EMAIL: ["mira@example.org"], GIVEN_NAME: ["Mira"]}
    idp_service.create_identity_provider(
        pool=pool,
        provider_name="CorpSAML",
        provider_type="SAML",
        details={"MetadataURL": idp.entity_id, "IDPSignout": "true"},
        attribute_mapping={"email": EMAIL, "given_name": GIVEN_NAME},
    )
    idp.trust(saml.sp_metadata(pool))
    demo_app(pool, base, "CorpSAML")
    try:
        yield base, pool, idp
    finally:
        idp.close()


def test_sign_in_with_a_saml_provider(demo_with_saml, page, artifact_dir):
    base, pool, idp = demo_with_saml

    def shot(name: str) -> None:
        page.screenshot(path=str(artifact_dir / f"{name}.png"), full_page=True)

    button = provider_button(page, base, pool, "CorpSAML")
    shot("01-hosted-sign-in-with-saml-button")

    button.click()
    page.wait_for_url(f"{base}/demo/", timeout=30_000)
    shown = page.inner_text("main")
    shot("02-signed-in-demo-app")
    assert "CorpSAML_mira" in shown
    identities = shown_identities(shown)
    assert identities[0]["providerName"] == "CorpSAML"
    assert identities[0]["providerType"] == "SAML"
    assert identities[0]["userId"] == "mira"

    # Sign out: through the IdP's single logout and back to the demo app, signed out here.
    page.click("#demoSignOut")
    page.wait_for_url(f"{base}/demo/", timeout=30_000)
    assert idp.logout_requests and idp.logout_requests[-1].name_id.text == "mira"
    page.click("#demoSignIn")
    page.wait_for_url(re.compile(rf"/{pool.id}/login\?"))
    shot("03-signed-out-back-at-sign-in")
