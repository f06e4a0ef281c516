"""Identity providers in the console, in a real browser (Playwright + Debian's chromium): an
operator adds an OpenID Connect provider whose issuer is a second Cognate pool on the same live
server, tests it (discovery document and JWKS fetched and checked), offers it on an app client,
links a provider identity to a user, and disables the provider. Screenshots go to
test-artifacts/e2e/<test>/."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User as Operator
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.models import AuditEntry
from pool.models import AppClient, FederatedIdentity, IdentityProvider
from tests import factories

OPERATOR_PASSWORD = "Operator-Pass-42"
SECRET = "upstream-secret-0123456789"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_adds_tests_offers_links_and_disables_a_provider(
    live_server, settings, page, artifact_dir
):
    from playwright.sync_api import expect

    settings.PUBLIC_URL = live_server.url
    base = live_server.url
    operator = Operator.objects.create_superuser("ops", "ops@ops.example", OPERATOR_PASSWORD)
    device = TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    upstream = factories.make_pool(name="Upstream")
    pool = factories.make_pool(name="Shop")
    app = factories.make_client(pool, name="web")
    alice = factories.make_user(pool, "alice", email="alice@shop.example")
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{base}/console/login")
    page.fill("#id_username", "ops")
    page.fill("#id_password", OPERATOR_PASSWORD)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.fill("#id_token", f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("h1")).to_have_text("User pools")

    page.goto(f"{base}/console/pools/{pool.id}/")
    page.click("nav.tabs >> text=Identity providers")
    page.get_by_role("link", name="OpenID Connect", exact=True).click()
    page.fill("#id_provider_name", "Upstream")
    page.fill("#id_client_id", "cognate-app")
    page.fill("#id_client_secret", SECRET)
    page.fill("#id_oidc_issuer", f"{base}/{upstream.id}")
    page.fill("#id_authorize_scopes", "openid email")
    page.fill("#id_attribute_mapping", "email = email\nemail_verified = email_verified")
    page.screenshot(path=artifact_dir / "01-add.png", full_page=True)
    page.get_by_role("button", name="Add provider", exact=True).click()
    expect(page.locator(".flash[role=status]")).to_contain_text("Upstream added")
    # The secret is write-only: the edit form's field is empty.
    expect(page.locator("#id_client_secret")).to_have_value("")
    assert SECRET not in page.content()

    page.get_by_role("button", name="Test", exact=True).click()
    report = page.locator("#test-result")
    expect(report).to_contain_text("passed")
    expect(report).to_contain_text("Issuer matches")
    expect(report).to_contain_text("JWKS fetched")
    page.screenshot(path=artifact_dir / "02-tested.png", full_page=True)

    page.goto(f"{base}/console/pools/{pool.id}/clients/{app.client_id}/")
    page.check("input[name=supported_identity_providers][value=Upstream]")
    page.get_by_role("button", name="Save app client", exact=True).click()
    expect(page.locator(".flash[role=status]")).to_contain_text("App client saved.")

    page.goto(f"{base}/console/pools/{pool.id}/users/{alice.sub}/")
    page.select_option("#identities select", "Upstream")
    page.fill("#identities input[name=subject]", "grace-sub")
    page.get_by_role("button", name="Link", exact=True).click()
    expect(page.locator("#identities")).to_contain_text("grace-sub")
    page.screenshot(path=artifact_dir / "03-linked.png", full_page=True)

    provider = IdentityProvider.objects.get(pool=pool, provider_name="Upstream")
    page.goto(f"{base}/console/pools/{pool.id}/providers/{provider.pk}/")
    page.get_by_role("button", name="Disable", exact=True).click()
    expect(page.locator("#provider-enabled")).to_have_text("disabled")
    page.screenshot(path=artifact_dir / "04-disabled.png", full_page=True)

    provider.refresh_from_db()
    assert provider.enabled is False and provider.secrets()["client_secret"] == SECRET
    assert AppClient.objects.get(pk=app.pk).supported_identity_providers == [
        "COGNITO",
        "Upstream",
    ]
    assert FederatedIdentity.objects.get(subject="grace-sub").user_id == alice.pk
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "identity_provider.create",
        "identity_provider.test",
        "client.update",
        "user.link_provider",
        "identity_provider.disable",
    ]
