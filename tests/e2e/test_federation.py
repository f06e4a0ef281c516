"""A person signs in with an upstream OpenID provider, in a real browser (Playwright + Debian's
chromium): the demo app sends them to the hosted sign-in page, they click "Sign in with
<provider>", sign in at the npm registry's `oidc-provider` (its own login page), and land back
in the demo app with verified tokens whose `identities` claim names the provider. Screenshots
go to test-artifacts/e2e/<test>/."""

from __future__ import annotations

import re

import pytest

from pool.services import identity_providers as idp_service
from tests import factories
from tests.api.js_clients import NODE, install_node_modules
from tests.e2e.conftest import demo_app, provider_button, shown_identities
from tests.hostedui.upstreams import OidcProviderUpstream

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.node,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(NODE is None, reason="node is not installed"),
]

SECRET = "upstream-secret-0123456789abcdef"


@pytest.fixture
def demo_with_provider(live_server, settings):
    """The demo pool and app (as `manage.py bootstrap` makes them) with an OIDC provider,
    oidc-provider on loopback, that the demo app offers."""
    install_node_modules()
    settings.PUBLIC_URL = live_server.url
    base = live_server.url
    pool = factories.make_pool(name="Demo")
    upstream = OidcProviderUpstream(
        clients=[
            {
                "client_id": "cognate-demo",
                "client_secret": SECRET,
                "redirect_uris": [f"{base}/{pool.id}/oauth2/idpresponse"],
            }
        ],
        accounts={
            "lin": {"email": "lin@example.com", "email_verified": True, "name": "Lin Upstream"}
        },
    )
    idp_service.create_identity_provider(
        pool=pool,
        provider_name="Upstream",
        provider_type="OIDC",
        details={
            "client_id": "cognate-demo",
            "client_secret": SECRET,
            "attributes_request_method": "GET",
            "oidc_issuer": upstream.issuer,
            "authorize_scopes": "openid email profile",
        },
        attribute_mapping={"email": "email", "email_verified": "email_verified", "name": "name"},
    )
    demo_app(pool, base, "Upstream")
    try:
        yield base, pool, upstream
    finally:
        upstream.close()


def test_sign_in_with_an_upstream_provider(demo_with_provider, page, artifact_dir):
    base, pool, upstream = demo_with_provider

    def shot(name: str) -> None:
        page.screenshot(path=str(artifact_dir / f"{name}.png"), full_page=True)

    button = provider_button(page, base, pool, "Upstream")
    shot("01-hosted-sign-in-with-provider-button")

    button.click()
    page.wait_for_url(re.compile(rf"^{re.escape(upstream.issuer)}/interaction/"))
    page.fill("input[name=login]", "lin")
    page.fill("input[name=password]", "anything")
    shot("02-upstream-sign-in")
    page.click("button[type=submit]")

    page.wait_for_url(f"{base}/demo/")
    shown = page.inner_text("main")
    shot("03-signed-in-demo-app")
    assert "Upstream_lin" in shown
    identities = shown_identities(shown)
    assert identities[0]["providerName"] == "Upstream"
    assert identities[0]["userId"] == "lin"
