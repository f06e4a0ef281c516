"""Identity providers in the console: list, add per type (validation next to the fields,
secrets write-only), edit, enable / disable, delete, "Test" against real loopback servers (a
second Cognate pool's discovery document on a live server, pysaml2 IdP metadata, an address
that refuses, one that never answers), a user's linked identities with link / unlink, the app
client's SupportedIdentityProviders, audit rows, and who may do what."""

from __future__ import annotations

import re
import socket

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from console.models import AuditEntry
from pool.models import AppClient, FederatedIdentity, IdentityProvider, User, UserStatus
from pool.services import federation
from pool.services import identity_providers as idps
from tests import factories
from tests.conftest import free_port
from tests.console.helpers import last_audit
from tests.parallel import run_together
from tests.saml_idp import EMAIL, SamlIdp

pytestmark = pytest.mark.django_db

SECRET = "upstream-secret-0123456789-XYZ"
APPLE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPRIVATEKEYMATERIAL\n"
    "-----END PRIVATE KEY-----"
)


@pytest.fixture
def pool(db):
    return factories.make_pool(name="shop")


def url(name: str, pool, *args) -> str:
    return reverse(f"console:{name}", args=[pool.id, *args])


def oidc_form(**overrides) -> dict:
    data = {
        "provider_name": "Corp",
        "client_id": "cognate-app",
        "client_secret": SECRET,
        "attributes_request_method": "GET",
        "oidc_issuer": "https://idp.example.com",
        "authorize_scopes": "openid email",
        "attribute_mapping": "email = email\nemail_verified = email_verified",
        "idp_identifiers": "example.com",
        "enabled": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_oidc(pool, name: str = "Corp", **details) -> IdentityProvider:
    return idps.create_identity_provider(
        pool=pool,
        provider_name=name,
        provider_type="OIDC",
        details={
            "client_id": "cognate-app",
            "client_secret": SECRET,
            "attributes_request_method": "GET",
            "oidc_issuer": "https://idp.example.com",
            "authorize_scopes": "openid email",
            **details,
        },
        attribute_mapping={"email": "email"},
    )


def field_errors(response, name: str) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


# ------------------------------------------------------------------------------- list and add


def test_the_list_shows_providers_and_offers_every_type(console, pool):
    make_oidc(pool)
    response = console.get(url("providers", pool))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Corp" in page and "OIDC" in page and "enabled" in page
    for provider_type in ("OIDC", "SAML", "Google", "Facebook", "LoginWithAmazon"):
        assert url("provider_create", pool, provider_type) in page
    assert SECRET not in page


def test_adding_an_oidc_provider_calls_the_service_and_is_audited(console, pool):
    response = console.post(url("provider_create", pool, "OIDC"), oidc_form())
    provider = IdentityProvider.objects.get(pool=pool, provider_name="Corp")
    assert response.status_code == 302
    assert response["Location"] == url("provider", pool, provider.pk)
    assert provider.details["oidc_issuer"] == "https://idp.example.com"
    assert provider.secrets() == {"client_secret": SECRET}
    assert SECRET not in str(provider.details)
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute(
            "SELECT secret_details FROM pool_identityprovider WHERE id = %s", [provider.pk]
        )
        assert SECRET not in cursor.fetchone()[0]
    assert provider.attribute_mapping == {
        "email": "email",
        "email_verified": "email_verified",
        "username": "sub",
    }
    assert provider.idp_identifiers == ["example.com"] and provider.enabled
    entry = last_audit("identity_provider.create")
    assert entry.target_pool == pool.id
    assert entry.detail["provider_name"] == "Corp"
    assert entry.detail["secrets_given"] == ["client_secret"]
    assert SECRET not in str(entry.detail)
    page = console.get(url("provider", pool, provider.pk)).content.decode()
    assert "https://idp.example.com" in page and SECRET not in page


def test_validation_errors_show_next_to_their_fields_and_change_nothing(console, pool):
    response = console.post(
        url("provider_create", pool, "OIDC"), oidc_form(oidc_issuer="ftp://idp.example.com")
    )
    assert response.status_code == 400
    assert any("https URL" in error for error in field_errors(response, "oidc_issuer"))
    assert SECRET not in response.content.decode()  # the posted secret is not shown back

    response = console.post(url("provider_create", pool, "OIDC"), oidc_form(client_id=""))
    assert response.status_code == 400
    assert field_errors(response, "client_id")

    for changes, field, fragment in (
        ({"attribute_mapping": "nickname"}, "attribute_mapping", ""),
        ({"attribute_mapping": "shoe_size = shoe"}, "attribute_mapping", "not an attribute"),
        ({"provider_name": "Bad_Name"}, "provider_name", ""),
        ({"authorize_scopes": "email profile"}, "authorize_scopes", "openid"),
    ):
        response = console.post(url("provider_create", pool, "OIDC"), oidc_form(**changes))
        assert response.status_code == 400, changes
        assert any(fragment in e for e in field_errors(response, field)), changes
    assert not IdentityProvider.objects.filter(pool=pool).exists()
    assert not AuditEntry.objects.filter(action="identity_provider.create").exists()


def test_a_taken_name_or_identifier_is_refused_in_place(console, pool):
    make_oidc(pool)
    idps.update_identity_provider(
        provider=IdentityProvider.objects.get(pool=pool), idp_identifiers=["example.com"]
    )
    response = console.post(url("provider_create", pool, "OIDC"), oidc_form())
    assert response.status_code == 400
    assert field_errors(response, "provider_name")
    response = console.post(url("provider_create", pool, "OIDC"), oidc_form(provider_name="Other"))
    assert response.status_code == 400
    assert field_errors(response, "idp_identifiers")
    assert IdentityProvider.objects.filter(pool=pool).count() == 1


def test_unknown_type_is_404(console, pool):
    assert console.get(url("provider_create", pool, "Myspace")).status_code == 404
    assert console.get(url("provider", pool, 999999)).status_code == 404


def test_a_preset_is_named_after_its_type_and_prefilled(console, pool):
    page = console.get(url("provider_create", pool, "Google"))
    assert page.context["form"]["provider_name"].value() == "Google"
    assert "https://accounts.google.com/o/oauth2/v2/auth" in page.content.decode()
    data = {
        "provider_name": "NotGoogle",  # the field is fixed: what is posted is ignored
        "client_id": "1234.apps.googleusercontent.com",
        "client_secret": SECRET,
        "authorize_scopes": "openid email profile",
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://www.googleapis.com/oauth2/v4/token",
        "attributes_url": "https://people.googleapis.com/v1/people/me?personFields=",
        "attributes_url_add_attributes": "on",
        "oidc_issuer": "https://accounts.google.com",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
        "token_request_method": "POST",
        "attribute_mapping": "email = email",
        "enabled": "on",
    }
    response = console.post(url("provider_create", pool, "Google"), data)
    assert response.status_code == 302
    google = IdentityProvider.objects.get(pool=pool)
    assert google.provider_name == "Google" and google.provider_type == "Google"
    assert google.details["attributes_url_add_attributes"] == "true"
    assert google.secrets()["client_secret"] == SECRET


def test_apple_private_key_is_write_only(console, pool):
    data = {
        "client_id": "com.example.web",
        "team_id": "TEAM123456",
        "key_id": "KEY1234567",
        "private_key": APPLE_KEY,
        "authorize_scopes": "email name",
        "attribute_mapping": "email",
        "enabled": "on",
    }
    response = console.post(url("provider_create", pool, "SignInWithApple"), data)
    assert response.status_code == 400  # the mapping line is refused; the key is not echoed
    assert "PRIVATEKEYMATERIAL" not in response.content.decode()
    data["attribute_mapping"] = "email = email"
    response = console.post(url("provider_create", pool, "SignInWithApple"), data)
    assert response.status_code == 302
    apple = IdentityProvider.objects.get(pool=pool)
    assert apple.secrets()["private_key"] == APPLE_KEY
    page = console.get(url("provider", pool, apple.pk)).content.decode()
    assert "PRIVATEKEYMATERIAL" not in page and "TEAM123456" in page


# ---------------------------------------------------------------------------------- editing


def edit_form(provider: IdentityProvider, client: Client, pool, **overrides) -> dict:
    """The edit form as the browser posts it back: its rendered values, then `overrides`."""
    form = client.get(url("provider", pool, provider.pk)).context["form"]
    data: dict = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list):
            data[name] = "\n".join(value)
        elif isinstance(value, dict):
            data[name] = form.fields[name].prepare_value(value)
        elif value is not None:
            data[name] = value
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_editing_keeps_a_blank_secret_and_replaces_a_typed_one(console, pool):
    provider = make_oidc(pool)
    page = console.get(url("provider", pool, provider.pk)).content.decode()
    assert SECRET not in page
    data = edit_form(provider, console, pool, authorize_scopes="openid email profile")
    assert data.get("client_secret", "") == ""
    response = console.post(url("provider", pool, provider.pk), data)
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.details["authorize_scopes"] == "openid email profile"
    assert provider.secrets()["client_secret"] == SECRET
    entry = last_audit("identity_provider.update")
    assert entry.detail["secrets_given"] == []
    data = edit_form(provider, console, pool, client_secret="a-new-secret-456")
    console.post(url("provider", pool, provider.pk), data)
    provider.refresh_from_db()
    assert provider.secrets()["client_secret"] == "a-new-secret-456"
    assert last_audit("identity_provider.update").detail["secrets_given"] == ["client_secret"]
    assert "a-new-secret-456" not in str(last_audit("identity_provider.update").detail)


def test_an_invalid_edit_changes_nothing(console, pool):
    provider = make_oidc(pool)
    data = edit_form(
        provider, console, pool, token_url="https://idp.example.com/token", client_secret="x2"
    )
    response = console.post(url("provider", pool, provider.pk), data)
    assert response.status_code == 400
    assert any("jwks_uri" in e for e in field_errors(response, "jwks_uri"))
    assert "x2" not in re.findall(r'value="([^"]*)"', response.content.decode())
    provider.refresh_from_db()
    assert "token_url" not in provider.details
    assert provider.secrets()["client_secret"] == SECRET


def test_the_provider_name_cannot_be_changed(console, pool):
    provider = make_oidc(pool)
    data = edit_form(provider, console, pool, provider_name="Renamed")
    assert console.post(url("provider", pool, provider.pk), data).status_code == 302
    provider.refresh_from_db()
    assert provider.provider_name == "Corp"


# ------------------------------------------------------------------- enable, disable, delete


def test_disable_and_enable_are_audited(console, pool):
    provider = make_oidc(pool)
    response = console.post(url("provider_disable", pool, provider.pk))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.enabled is False
    assert last_audit("identity_provider.disable").detail == {"provider_name": "Corp"}
    page = console.get(url("provider", pool, provider.pk)).content.decode()
    assert 'id="provider-enabled">disabled' in page
    console.post(url("provider_enable", pool, provider.pk))
    provider.refresh_from_db()
    assert provider.enabled is True
    assert last_audit("identity_provider.enable").target_pool == pool.id
    # Enabling and disabling are POSTs only.
    assert console.get(url("provider_disable", pool, provider.pk)).status_code == 405


def test_delete_asks_for_the_name_then_deletes_through_the_service(console, pool):
    provider = make_oidc(pool)
    app = factories.make_client(pool, supported_identity_providers=["COGNITO", "Corp"])
    page = console.get(url("provider_delete", pool, provider.pk))
    assert page.status_code == 200
    wrong = console.post(url("provider_delete", pool, provider.pk), {"confirm": "corp!"})
    assert wrong.status_code == 200 and IdentityProvider.objects.filter(pk=provider.pk).exists()
    done = console.post(url("provider_delete", pool, provider.pk), {"confirm": "Corp"})
    assert done.status_code == 302 and done["Location"] == url("providers", pool)
    assert not IdentityProvider.objects.filter(pk=provider.pk).exists()
    app.refresh_from_db()
    assert app.supported_identity_providers == ["COGNITO"]
    entry = last_audit("identity_provider.delete")
    assert entry.detail == {"provider_name": "Corp", "provider_type": "OIDC"}


# ------------------------------------------------------------------------------------- test


@pytest.fixture
def live(live_server, settings) -> str:
    settings.PUBLIC_URL = live_server.url
    return live_server.url


def report_of(response) -> dict[str, tuple[bool, str]]:
    report = response.context["report"]
    return {item.label: (item.ok, item.detail) for item in report.items}


@pytest.mark.django_db(transaction=True)
def test_test_reads_another_cognate_pools_discovery_and_jwks(live):
    from tests.console.conftest import make_operator, verified_client

    console = verified_client(make_operator("ops", can_change=True))
    upstream = factories.make_pool(name="upstream")
    pool = factories.make_pool(name="downstream")
    provider = make_oidc(pool, oidc_issuer=f"{live}/{upstream.id}")
    response = console.post(url("provider_test", pool, provider.pk))
    assert response.status_code == 200
    checks = report_of(response)
    assert response.context["report"].ok, checks
    assert checks["Issuer matches"][0] is True
    assert checks["Endpoints present"][0] is True
    assert f"{live}/{upstream.id}/oauth2/authorize" in checks["Endpoints present"][1]
    assert checks["JWKS fetched"][0] is True
    assert 'id="test-result"' in response.content.decode()
    entry = last_audit("identity_provider.test")
    assert entry.detail == {"provider_name": "Corp", "outcome": "ok", "failed": []}

    # An issuer the document does not name: reported, not accepted.
    idps.update_identity_provider(
        provider=provider,
        details={**provider.details, "oidc_issuer": f"{live}/{upstream.id}/"},
    )
    response = console.post(url("provider_test", pool, provider.pk))
    checks = report_of(response)
    assert checks["Issuer matches"][0] is False
    assert not response.context["report"].ok
    assert last_audit("identity_provider.test").detail["failed"] == ["Issuer matches"]

    # A path with no discovery document: the HTTP status is reported.
    idps.update_identity_provider(
        provider=provider, details={**provider.details, "oidc_issuer": f"{live}/nowhere"}
    )
    checks = report_of(console.post(url("provider_test", pool, provider.pk)))
    assert checks["Discovery document fetched"][0] is False
    assert "HTTP 404" in checks["Discovery document fetched"][1]


def test_test_reports_a_refused_connection(console, pool):
    provider = make_oidc(pool, oidc_issuer=f"http://127.0.0.1:{free_port()}")
    response = console.post(url("provider_test", pool, provider.pk))
    assert response.status_code == 200
    ok, detail = report_of(response)["Discovery document fetched"]
    assert ok is False and "could not be reached" in detail


@pytest.fixture
def silent_server():
    """A loopback port that takes connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_test_gives_up_on_a_silent_provider(console, pool, silent_server, settings):
    settings.IDENTITY_PROVIDER_CHECK_TIMEOUT = 0.5
    provider = make_oidc(pool, oidc_issuer=silent_server)
    response = console.post(url("provider_test", pool, provider.pk))
    assert response.status_code == 200
    ok, detail = report_of(response)["Discovery document fetched"]
    assert ok is False and "did not answer within 0.5 seconds" in detail
    assert last_audit("identity_provider.test").detail["outcome"] == "failed"


def test_explicit_endpoints_skip_discovery_but_need_the_jwks(console, pool, silent_server):
    port = free_port()
    provider = make_oidc(
        pool,
        authorize_url="https://idp.example.com/authorize",
        token_url="https://idp.example.com/token",
        attributes_url="https://idp.example.com/userinfo",
        jwks_uri=f"http://127.0.0.1:{port}/jwks",
    )
    checks = report_of(console.post(url("provider_test", pool, provider.pk)))
    assert checks["Configured endpoints"][0] is True
    assert "Discovery document fetched" not in checks
    assert checks["JWKS fetched"][0] is False


@pytest.fixture
def idp():
    server = SamlIdp()
    yield server
    server.close()


def make_saml(pool, **details) -> IdentityProvider:
    return idps.create_identity_provider(
        pool=pool, provider_name="CorpSAML", provider_type="SAML", details=details
    )


def test_test_reads_saml_metadata_from_a_pysaml2_idp(console, pool, idp):
    provider = make_saml(pool, MetadataURL=idp.entity_id, IDPSignout="true")
    response = console.post(url("provider_test", pool, provider.pk))
    checks = report_of(response)
    assert response.context["report"].ok, checks
    assert checks["Metadata parsed"] == (True, f"IdP entity id {idp.entity_id}.")
    assert checks["Signing certificate"][0] is True
    assert checks["Single sign-on endpoint"][0] is True
    assert checks["Single logout endpoint"][0] is True


def test_test_refuses_saml_metadata_without_a_signing_certificate(console, pool, idp):
    metadata = re.sub(
        r"<(?:md:|ns\d+:)?KeyDescriptor.*?</(?:md:|ns\d+:)?KeyDescriptor>",
        "",
        idp.metadata(),
        flags=re.S,
    )
    assert "KeyDescriptor" not in metadata
    provider = make_saml(pool, MetadataFile=metadata)
    checks = report_of(console.post(url("provider_test", pool, provider.pk)))
    assert checks["Metadata parsed"][0] is True
    assert checks["Signing certificate"][0] is False


def test_test_reports_unreadable_or_unreachable_saml_metadata(console, pool):
    provider = make_saml(pool, MetadataFile="<not-metadata/>")
    response = console.post(url("provider_test", pool, provider.pk))
    assert response.status_code == 200
    assert report_of(response)["Metadata parsed"][0] is False
    idps.update_identity_provider(
        provider=provider, details={"MetadataURL": f"http://127.0.0.1:{free_port()}/md"}
    )
    checks = report_of(console.post(url("provider_test", pool, provider.pk)))
    assert checks["Metadata fetched"][0] is False


def test_social_presets_report_their_endpoints(console, pool):
    provider = idps.create_identity_provider(
        pool=pool,
        provider_name="Facebook",
        provider_type="Facebook",
        details={"client_id": "123", "client_secret": SECRET, "authorize_scopes": "email"},
    )
    response = console.post(url("provider_test", pool, provider.pk))
    ok, detail = report_of(response)["Endpoints present"]
    assert ok and "graph.facebook.com" in detail
    assert SECRET not in response.content.decode()


# ----------------------------------------------------------------------- linked identities


@pytest.fixture
def federated_user(pool) -> User:
    provider = make_oidc(pool)
    app = factories.make_client(pool, supported_identity_providers=["COGNITO", "Corp"])
    result = federation.sign_in(
        pool=pool, client=app, provider=provider, subject="up-42", claims={"email": "f@x.io"}
    )
    return result.user


def test_the_user_page_shows_a_federated_users_identity(console, pool, federated_user):
    assert federated_user.status == UserStatus.EXTERNAL_PROVIDER
    page = console.get(reverse("console:user", args=[pool.id, federated_user.sub]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="identities"' in html and "up-42" in html and "own identity" in html


def test_link_and_unlink_a_provider_identity_on_a_native_user(console, pool):
    make_oidc(pool)
    native = factories.make_user(pool, "alice")
    user_url = reverse("console:user", args=[pool.id, native.sub])
    assert "Link a provider identity" in console.get(user_url).content.decode()
    link = reverse("console:user_link_identity", args=[pool.id, native.sub])
    response = console.post(link, {"provider_name": "Corp", "subject": "corp-7"})
    assert response.status_code == 302
    identity = FederatedIdentity.objects.get(pool=pool, provider_name="Corp", subject="corp-7")
    assert identity.user_id == native.pk and identity.primary is False
    native.refresh_from_db()
    assert "corp-7" in native.attributes["identities"]
    entry = last_audit("user.link_provider")
    assert entry.target_user == "alice"
    assert entry.detail == {"provider_name": "Corp", "subject": "corp-7"}
    assert "corp-7" in console.get(user_url).content.decode()

    # The same identity twice: refused next to the field, nothing changes.
    again = console.post(link, {"provider_name": "Corp", "subject": "corp-7"})
    assert again.status_code == 400
    assert again.context["link_form"].errors["subject"]
    assert FederatedIdentity.objects.filter(pool=pool).count() == 1

    unlink = reverse("console:user_unlink_identity", args=[pool.id, native.sub, identity.pk])
    assert console.post(unlink).status_code == 302
    assert not FederatedIdentity.objects.filter(pk=identity.pk).exists()
    native.refresh_from_db()
    assert native.enabled and not native.attributes.get("identities")
    assert last_audit("user.disable_provider").detail["primary"] is False


def test_an_identity_that_already_signed_in_is_not_merged(console, pool, federated_user):
    native = factories.make_user(pool, "bob")
    link = reverse("console:user_link_identity", args=[pool.id, native.sub])
    response = console.post(link, {"provider_name": "Corp", "subject": "up-42"})
    assert response.status_code == 400
    assert response.context["link_form"].errors["subject"]
    assert not FederatedIdentity.objects.filter(user=native).exists()
    assert not AuditEntry.objects.filter(action="user.link_provider").exists()


def test_linking_to_an_unknown_provider_is_a_form_error(console, pool):
    make_oidc(pool)
    native = factories.make_user(pool, "carol")
    link = reverse("console:user_link_identity", args=[pool.id, native.sub])
    response = console.post(link, {"provider_name": "Nope", "subject": "1"})
    assert response.status_code == 400
    assert response.context["link_form"].errors["provider_name"]


def test_disabling_a_federated_users_own_identity_disables_the_user(console, pool, federated_user):
    identity = FederatedIdentity.objects.get(user=federated_user)
    unlink = reverse(
        "console:user_unlink_identity", args=[pool.id, federated_user.sub, identity.pk]
    )
    assert console.post(unlink).status_code == 302
    federated_user.refresh_from_db()
    assert federated_user.enabled is False
    assert FederatedIdentity.objects.filter(pk=identity.pk).exists()
    assert last_audit("user.disable_provider").detail["primary"] is True


def test_an_identity_of_another_user_is_404(console, pool, federated_user):
    other = factories.make_user(pool, "dave")
    identity = FederatedIdentity.objects.get(user=federated_user)
    unlink = reverse("console:user_unlink_identity", args=[pool.id, other.sub, identity.pk])
    assert console.post(unlink).status_code == 404
    assert FederatedIdentity.objects.filter(pk=identity.pk).exists()


# ------------------------------------------------------------------------------ app clients


def test_the_client_page_offers_the_pools_providers(console, pool):
    make_oidc(pool)
    app = factories.make_client(pool)
    page = console.get(reverse("console:client", args=[pool.id, app.client_id]))
    choices = dict(page.context["form"].fields["supported_identity_providers"].choices)
    assert set(choices) == {"COGNITO", "Corp"}
    from tests.console.test_clients import client_data

    data = client_data(name=app.name, supported_identity_providers=["COGNITO", "Corp"])
    response = console.post(reverse("console:client", args=[pool.id, app.client_id]), data)
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.supported_identity_providers == ["COGNITO", "Corp"]
    assert "supported_identity_providers" in last_audit("client.update").detail["changed"]
    bad = client_data(name=app.name, supported_identity_providers=["COGNITO", "Elsewhere"])
    response = console.post(reverse("console:client", args=[pool.id, app.client_id]), bad)
    assert response.status_code == 200
    assert response.context["form"].errors["supported_identity_providers"]
    assert AppClient.objects.get(pk=app.pk).supported_identity_providers == ["COGNITO", "Corp"]


# ----------------------------------------------------------------------------------- access


def test_a_read_only_operator_sees_but_cannot_change(readonly_console, pool):
    provider = make_oidc(pool)
    native = factories.make_user(pool, "erin")
    assert readonly_console.get(url("providers", pool)).status_code == 200
    page = readonly_console.get(url("provider", pool, provider.pk))
    assert page.status_code == 200 and b"Save provider" not in page.content
    for target in (
        url("provider_create", pool, "OIDC"),
        url("provider", pool, provider.pk),
        url("provider_test", pool, provider.pk),
        url("provider_disable", pool, provider.pk),
        url("provider_delete", pool, provider.pk),
        reverse("console:user_link_identity", args=[pool.id, native.sub]),
    ):
        assert readonly_console.post(target, oidc_form(provider_name="X")).status_code == 403
    provider.refresh_from_db()
    assert provider.enabled and IdentityProvider.objects.filter(pool=pool).count() == 1
    assert not AuditEntry.objects.exists()


def test_an_operator_without_totp_is_sent_to_the_totp_step(operator, pool):
    provider = make_oidc(pool)
    client = Client()
    client.force_login(operator)  # password step only
    for target in (url("providers", pool), url("provider", pool, provider.pk)):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("console:otp"))
    response = client.post(url("provider_disable", pool, provider.pk))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.enabled and not AuditEntry.objects.exists()


def test_signed_out_visitors_go_to_the_login_page(client, pool):
    provider = make_oidc(pool)
    response = client.post(url("provider_test", pool, provider.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))
    assert not AuditEntry.objects.exists()


def test_adding_a_saml_provider_with_its_metadata_url_and_options(console, pool, idp, settings):
    data = {
        "provider_name": "CorpSAML",
        "MetadataURL": idp.entity_id,
        "IDPSignout": "on",
        "attribute_mapping": f"email = {EMAIL}",
        "idp_identifiers": "corp.example\nCorp",
        "enabled": "on",
    }
    response = console.post(url("provider_create", pool, "SAML"), data)
    assert response.status_code == 302
    provider = IdentityProvider.objects.get(pool=pool, provider_name="CorpSAML")
    assert provider.details["MetadataURL"] == idp.entity_id
    assert provider.details["IDPSignout"] == "true" and "IDPInit" not in provider.details
    assert provider.idp_identifiers == ["corp.example", "Corp"]
    page = console.get(url("provider", pool, provider.pk))
    assert f"{settings.PUBLIC_URL}/{pool.id}/saml2/metadata" in page.content.decode()
    # Unticking IDPSignout stores "false"; IDPInit, never set, stays unset.
    data = edit_form(provider, console, pool)
    data.pop("IDPSignout")
    assert console.post(url("provider", pool, provider.pk), data).status_code == 302
    provider.refresh_from_db()
    assert provider.details["IDPSignout"] == "false" and "IDPInit" not in provider.details
    # Both a URL and a document: the error names both fields.
    data["MetadataFile"] = idp.metadata()
    response = console.post(url("provider", pool, provider.pk), data)
    assert response.status_code == 400
    assert field_errors(response, "MetadataURL") and field_errors(response, "MetadataFile")


def test_an_oidc_provider_page_shows_the_redirect_uri_to_register(console, pool, settings):
    provider = make_oidc(pool)
    page = console.get(url("provider", pool, provider.pk)).content.decode()
    assert f"{settings.PUBLIC_URL}/{pool.id}/oauth2/idpresponse" in page


@pytest.mark.parametrize(
    "field", ["provider_name", "client_id", "attribute_mapping", "oidc_issuer"]
)
def test_nul_bytes_are_form_errors_not_500s(console, pool, field):
    response = console.post(url("provider_create", pool, "OIDC"), oidc_form(**{field: "a\x00b"}))
    assert response.status_code == 400
    assert not IdentityProvider.objects.filter(pool=pool).exists()
    user = factories.make_user(pool, "nul")
    make_oidc(pool)
    link = reverse("console:user_link_identity", args=[pool.id, user.sub])
    assert console.post(link, {"provider_name": "Corp", "subject": "a\x00b"}).status_code == 400
    assert not FederatedIdentity.objects.exists()


def test_the_mapping_editor_takes_custom_attributes_and_shows_them_back(console, pool):
    pool.custom_attributes.create(name="tier")
    mapping = "email = email\ncustom:tier = https://corp.example/claims/tier\nusername = oid"
    response = console.post(
        url("provider_create", pool, "OIDC"), oidc_form(attribute_mapping=mapping)
    )
    assert response.status_code == 302
    provider = IdentityProvider.objects.get(pool=pool)
    assert provider.attribute_mapping == {
        "email": "email",
        "custom:tier": "https://corp.example/claims/tier",
        "username": "oid",
    }
    page = console.get(url("provider", pool, provider.pk)).content.decode()
    assert "custom:tier = https://corp.example/claims/tier" in page
    twice = console.post(
        url("provider_create", pool, "OIDC"),
        oidc_form(provider_name="Two", attribute_mapping="email = a\nemail = b"),
    )
    assert any("twice" in e for e in field_errors(twice, "attribute_mapping"))


@pytest.mark.django_db(transaction=True)
def test_parallel_links_of_one_identity_to_two_users_link_it_once():
    from tests.console.conftest import make_operator, verified_client

    pool = factories.make_pool(name="race")
    make_oidc(pool)
    users = [factories.make_user(pool, name) for name in ("ann", "ben", "cat", "dan")]
    operator = make_operator("ops", can_change=True)
    consoles = [verified_client(operator) for _ in users]

    def linker(console, user):
        link = reverse("console:user_link_identity", args=[pool.id, user.sub])
        return lambda: console.post(link, {"provider_name": "Corp", "subject": "shared"})

    outcomes = run_together([linker(c, u) for c, u in zip(consoles, users, strict=True)])
    statuses = sorted(getattr(o, "status_code", o) for o in outcomes)
    assert statuses == [302, 400, 400, 400], statuses
    assert FederatedIdentity.objects.filter(pool=pool, subject="shared").count() == 1
    assert AuditEntry.objects.filter(action="user.link_provider").count() == 1


def test_a_new_graph_api_version_moves_the_facebook_endpoints_left_alone(console, pool):
    provider = idps.create_identity_provider(
        pool=pool,
        provider_name="Facebook",
        provider_type="Facebook",
        details={"client_id": "123", "client_secret": SECRET, "authorize_scopes": "email"},
    )
    data = edit_form(provider, console, pool, api_version="v19.0")
    assert console.post(url("provider", pool, provider.pk), data).status_code == 302
    provider.refresh_from_db()
    assert provider.details["api_version"] == "v19.0"
    assert provider.details["token_url"] == "https://graph.facebook.com/v19.0/oauth/access_token"
    assert provider.secrets()["client_secret"] == SECRET
    # An endpoint the operator types stays as typed.
    data = edit_form(
        provider, console, pool, api_version="v20.0", token_url="https://127.0.0.1/token"
    )
    assert console.post(url("provider", pool, provider.pk), data).status_code == 302
    provider.refresh_from_db()
    assert provider.details["token_url"] == "https://127.0.0.1/token"
    assert provider.details["authorize_url"] == "https://www.facebook.com/v20.0/dialog/oauth"


def test_changes_without_a_csrf_token_are_refused(csrf_console, pool):
    provider = make_oidc(pool)
    for target in (
        url("provider_test", pool, provider.pk),
        url("provider_disable", pool, provider.pk),
        url("provider", pool, provider.pk),
    ):
        assert csrf_console.post(target, oidc_form()).status_code == 403
    provider.refresh_from_db()
    assert provider.enabled and not AuditEntry.objects.exists()


def test_the_audit_log_lists_provider_changes(console, pool):
    console.post(url("provider_create", pool, "OIDC"), oidc_form())
    page = console.get(reverse("console:audit")).content.decode()
    assert "identity_provider.create" in page and SECRET not in page
