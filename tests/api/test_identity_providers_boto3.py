"""boto3 against a live Cognate: identity providers (Create/Describe/Update/Delete/List,
GetIdentityProviderByIdentifier), SupportedIdentityProviders on app clients, and linking
(AdminLinkProviderForUser / AdminDisableProviderForUser), each answer checked against
botocore's shapes."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest

from pool.models import FederatedIdentity, IdentityProvider, User, UserStatus
from pool.services import federation, tokens
from tests import factories
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

OIDC_DETAILS = {
    "client_id": "upstream-client",
    "client_secret": "upstream-secret-value",
    "attributes_request_method": "GET",
    "oidc_issuer": "https://idp.example.com",
    "authorize_scopes": "openid email",
}
GOOGLE_DETAILS = {
    "client_id": "g-client",
    "client_secret": "g-secret",
    "authorize_scopes": "openid email profile",
}


@pytest.fixture
def pool(db):
    return factories.make_pool(name="federated")


def create_oidc(cognito, pool, name="Corp", **extra):
    return cognito.create_identity_provider(
        UserPoolId=pool.id,
        ProviderName=name,
        ProviderType="OIDC",
        ProviderDetails=OIDC_DETAILS,
        AttributeMapping={"email": "email", "email_verified": "email_verified"},
        **extra,
    )["IdentityProvider"]


def test_identity_provider_lifecycle(cognito, recorder, pool):
    created = create_oidc(cognito, pool, IdpIdentifiers=["corp.example.com"])
    assert_fits(recorder)
    assert created["ProviderName"] == "Corp" and created["ProviderType"] == "OIDC"
    assert created["ProviderDetails"]["client_secret"] == "upstream-secret-value"
    assert created["AttributeMapping"] == {
        "email": "email",
        "email_verified": "email_verified",
        "username": "sub",
    }
    assert created["IdpIdentifiers"] == ["corp.example.com"]
    described = cognito.describe_identity_provider(UserPoolId=pool.id, ProviderName="Corp")
    assert_fits(recorder)
    assert described["IdentityProvider"] == created
    updated = cognito.update_identity_provider(
        UserPoolId=pool.id,
        ProviderName="Corp",
        ProviderDetails={**OIDC_DETAILS, "client_secret": "", "authorize_scopes": "openid"},
        AttributeMapping={"name": "name"},
    )["IdentityProvider"]
    assert_fits(recorder)
    # A secret left out (empty) keeps its stored value; the mapping is replaced.
    assert updated["ProviderDetails"]["client_secret"] == "upstream-secret-value"
    assert updated["ProviderDetails"]["authorize_scopes"] == "openid"
    assert updated["AttributeMapping"] == {"name": "name", "username": "sub"}
    found = cognito.get_identity_provider_by_identifier(
        UserPoolId=pool.id, IdpIdentifier="CORP.example.com"
    )
    assert_fits(recorder)
    assert found["IdentityProvider"]["ProviderName"] == "Corp"
    cognito.delete_identity_provider(UserPoolId=pool.id, ProviderName="Corp")
    assert not IdentityProvider.objects.exists()


def test_secrets_are_encrypted_at_rest(cognito, pool):
    create_oidc(cognito, pool)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT details, secret_details FROM pool_identityprovider")
        details, secret = cursor.fetchone()
    assert "upstream-secret-value" not in details
    assert "upstream-secret-value" not in secret
    assert IdentityProvider.objects.get().provider_details()["client_secret"] == (
        "upstream-secret-value"
    )


def test_google_preset_fills_its_endpoints(cognito, recorder, pool):
    created = cognito.create_identity_provider(
        UserPoolId=pool.id,
        ProviderName="Google",
        ProviderType="Google",
        ProviderDetails=GOOGLE_DETAILS,
        AttributeMapping={"email": "email"},
    )["IdentityProvider"]
    assert_fits(recorder)
    details = created["ProviderDetails"]
    assert details["oidc_issuer"] == "https://accounts.google.com"
    assert details["authorize_url"].startswith("https://accounts.google.com/")
    assert created["AttributeMapping"]["username"] == "sub"


def test_list_identity_providers_pages(cognito, recorder, pool):
    for name in ("Alpha", "Beta", "Gamma"):
        create_oidc(cognito, pool, name=name)
    first = cognito.list_identity_providers(UserPoolId=pool.id, MaxResults=2)
    assert_fits(recorder)
    assert [p["ProviderName"] for p in first["Providers"]] == ["Alpha", "Beta"]
    second = cognito.list_identity_providers(
        UserPoolId=pool.id, MaxResults=2, NextToken=first["NextToken"]
    )
    assert [p["ProviderName"] for p in second["Providers"]] == ["Gamma"]
    assert "NextToken" not in second
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.list_identity_providers(UserPoolId=pool.id, NextToken="forged")


@pytest.mark.parametrize(
    ("name", "kind", "details", "message"),
    [
        ("Corp", "OIDC", {**OIDC_DETAILS, "oidc_issuer": "http://idp.example.com"}, "https"),
        ("Corp", "OIDC", {"client_id": "x"}, "need"),
        ("Corp", "OIDC", {**OIDC_DETAILS, "surprise": "x"}, "do not take"),
        ("Corp", "OIDC", {**OIDC_DETAILS, "authorize_scopes": "email"}, "openid"),
        ("Corp", "OIDC", {**OIDC_DETAILS, "authorize_url": "https://idp.example.com/a"}, "all of"),
        ("Google", "OIDC", OIDC_DETAILS, "preset"),
        ("Goog", "Google", GOOGLE_DETAILS, "must be Google"),
        ("Cognito", "OIDC", OIDC_DETAILS, "reserved"),
        ("Corp", "SAML", {}, "MetadataURL"),
        ("Corp", "SAML", {"MetadataURL": "https://x.example/m", "MetadataFile": "<x/>"}, "one"),
        ("Corp", "SAML", {"MetadataFile": "<x/>", "IDPSignout": "yes"}, "true or false"),
        ("SignInWithApple", "SignInWithApple", {"client_id": "x"}, "need"),
    ],
)
def test_bad_provider_definitions_are_refused(cognito, pool, name, kind, details, message):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match=message):
        cognito.create_identity_provider(
            UserPoolId=pool.id, ProviderName=name, ProviderType=kind, ProviderDetails=details
        )
    assert not IdentityProvider.objects.exists()


def test_bad_attribute_mapping_is_refused(cognito, pool):
    for mapping, message in (
        ({"custom:nope": "x"}, "not an attribute"),
        ({"sub": "sub"}, "sub"),
    ):
        with pytest.raises(cognito.exceptions.InvalidParameterException, match=message):
            cognito.create_identity_provider(
                UserPoolId=pool.id,
                ProviderName="Corp",
                ProviderType="OIDC",
                ProviderDetails=OIDC_DETAILS,
                AttributeMapping=mapping,
            )
    assert not IdentityProvider.objects.exists()


def test_duplicates_are_refused(cognito, pool):
    create_oidc(cognito, pool, IdpIdentifiers=["corp.example.com"])
    with pytest.raises(cognito.exceptions.DuplicateProviderException):
        create_oidc(cognito, pool)
    with pytest.raises(cognito.exceptions.DuplicateProviderException):
        create_oidc(cognito, pool, name="Other", IdpIdentifiers=["Corp.Example.com"])
    assert IdentityProvider.objects.count() == 1


def test_unknown_provider_is_resource_not_found(cognito, pool):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.describe_identity_provider(UserPoolId=pool.id, ProviderName="Nope")
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.delete_identity_provider(UserPoolId=pool.id, ProviderName="Nope")
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.get_identity_provider_by_identifier(UserPoolId=pool.id, IdpIdentifier="x.com")


def test_clients_name_the_pools_providers(cognito, recorder, pool):
    create_oidc(cognito, pool)
    client = cognito.create_user_pool_client(
        UserPoolId=pool.id,
        ClientName="web",
        SupportedIdentityProviders=["COGNITO", "Corp"],
        CallbackURLs=["https://app.example.com/cb"],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]
    assert_fits(recorder)
    assert client["SupportedIdentityProviders"] == ["COGNITO", "Corp"]
    described = cognito.describe_user_pool_client(UserPoolId=pool.id, ClientId=client["ClientId"])
    assert described["UserPoolClient"]["SupportedIdentityProviders"] == ["COGNITO", "Corp"]
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="Unknown"):
        cognito.update_user_pool_client(
            UserPoolId=pool.id, ClientId=client["ClientId"], SupportedIdentityProviders=["Unknown"]
        )
    # Deleting the provider takes it off the client.
    cognito.delete_identity_provider(UserPoolId=pool.id, ProviderName="Corp")
    described = cognito.describe_user_pool_client(UserPoolId=pool.id, ClientId=client["ClientId"])
    assert described["UserPoolClient"]["SupportedIdentityProviders"] == ["COGNITO"]


# ----------------------------------------------------------------------------------- linking


def source(value, name="Corp", attribute="Cognito_Subject"):
    return {
        "ProviderName": name,
        "ProviderAttributeName": attribute,
        "ProviderAttributeValue": value,
    }


def destination(username):
    return {"ProviderName": "Cognito", "ProviderAttributeValue": username}


def fed_sign_in(pool, subject, client, **claims):
    provider = IdentityProvider.objects.get(pool=pool, provider_name="Corp")
    return federation.sign_in(
        pool=pool, client=client, provider=provider, subject=subject, claims=claims
    )


def web_client(pool):
    return factories.make_client(pool, supported_identity_providers=["COGNITO", "Corp"])


def test_a_linked_subject_signs_in_as_the_native_user(cognito, recorder, pool):
    create_oidc(cognito, pool)
    native = factories.make_user(pool, "ann")
    cognito.admin_link_provider_for_user(
        UserPoolId=pool.id, DestinationUser=destination("ann"), SourceUser=source("up-1")
    )
    assert_fits(recorder)
    client = web_client(pool)
    signed = fed_sign_in(pool, "up-1", client, email="other@example.com", email_verified=True)
    assert signed.user.pk == native.pk
    native.refresh_from_db()
    # A provider never rewrites a native user's sign-in names.
    assert native.email == "ann@example.com" and native.status == UserStatus.CONFIRMED
    issued = tokens.issue(
        user=signed.user, client=client, scopes=["openid"], auth_time=signed.auth_time
    )
    claims = pyjwt.decode(issued.id_token, options={"verify_signature": False})
    assert claims["cognito:username"] == "ann"
    [identity] = claims["identities"]
    assert identity["userId"] == "up-1" and identity["providerName"] == "Corp"
    assert identity["primary"] == "false"
    assert not User.objects.filter(username="Corp_up-1").exists()
    got = cognito.admin_get_user(UserPoolId=pool.id, Username="ann")
    assert_fits(recorder)
    attributes = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
    [entry] = json.loads(attributes["identities"])
    assert (entry["userId"], entry["providerName"], entry["primary"]) == ("up-1", "Corp", False)
    # Removing the link removes it from the attribute too.
    cognito.admin_disable_provider_for_user(UserPoolId=pool.id, User=source("up-1"))
    got = cognito.admin_get_user(UserPoolId=pool.id, Username="ann")
    assert "identities" not in {a["Name"] for a in got["UserAttributes"]}


def test_linking_refusals(cognito, pool):
    create_oidc(cognito, pool)
    factories.make_user(pool, "ann")
    factories.make_user(pool, "bob")
    client = web_client(pool)
    fed_sign_in(pool, "signed-up", client, email="x@example.com")
    errors = cognito.exceptions
    with pytest.raises(errors.InvalidParameterException, match="Merging"):
        cognito.admin_link_provider_for_user(
            UserPoolId=pool.id, DestinationUser=destination("ann"), SourceUser=source("signed-up")
        )
    cognito.admin_link_provider_for_user(
        UserPoolId=pool.id, DestinationUser=destination("ann"), SourceUser=source("up-1")
    )
    with pytest.raises(errors.AliasExistsException):
        cognito.admin_link_provider_for_user(
            UserPoolId=pool.id, DestinationUser=destination("bob"), SourceUser=source("up-1")
        )
    with pytest.raises(errors.UserNotFoundException):
        cognito.admin_link_provider_for_user(
            UserPoolId=pool.id, DestinationUser=destination("nobody"), SourceUser=source("up-2")
        )
    with pytest.raises(errors.ResourceNotFoundException):
        cognito.admin_link_provider_for_user(
            UserPoolId=pool.id,
            DestinationUser=destination("ann"),
            SourceUser=source("up-2", name="Nope"),
        )
    with pytest.raises(errors.InvalidParameterException, match="Cognito_Subject"):
        cognito.admin_link_provider_for_user(
            UserPoolId=pool.id,
            DestinationUser=destination("ann"),
            SourceUser=source("up-2", attribute="email"),
        )
    assert FederatedIdentity.objects.filter(primary=False).count() == 1


def test_at_most_five_links_per_user(cognito, pool):
    create_oidc(cognito, pool)
    factories.make_user(pool, "ann")
    for n in range(5):
        cognito.admin_link_provider_for_user(
            UserPoolId=pool.id, DestinationUser=destination("ann"), SourceUser=source(f"s{n}")
        )
    with pytest.raises(cognito.exceptions.LimitExceededException):
        cognito.admin_link_provider_for_user(
            UserPoolId=pool.id, DestinationUser=destination("ann"), SourceUser=source("s5")
        )


def test_disable_provider_for_user_removes_a_link(cognito, recorder, pool):
    create_oidc(cognito, pool)
    native = factories.make_user(pool, "ann")
    cognito.admin_link_provider_for_user(
        UserPoolId=pool.id, DestinationUser=destination("ann"), SourceUser=source("up-1")
    )
    cognito.admin_disable_provider_for_user(UserPoolId=pool.id, User=source("up-1"))
    assert_fits(recorder)
    assert not FederatedIdentity.objects.filter(user=native).exists()
    # The subject's next sign-in is a new federated user, not the native one.
    signed = fed_sign_in(pool, "up-1", web_client(pool), email="ann@example.com")
    assert signed.user.pk != native.pk and signed.user.username == "Corp_up-1"


def test_disable_provider_for_a_federated_user_disables_it(cognito, pool):
    from pool.errors import NotAuthorizedException

    create_oidc(cognito, pool)
    client = web_client(pool)
    fed_sign_in(pool, "up-1", client, email="a@example.com")
    cognito.admin_disable_provider_for_user(UserPoolId=pool.id, User=source("up-1"))
    assert User.objects.get(username="Corp_up-1").enabled is False
    with pytest.raises(NotAuthorizedException):
        fed_sign_in(pool, "up-1", client, email="a@example.com")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_disable_provider_for_user(UserPoolId=pool.id, User=source("never"))


def test_disable_provider_cognito_removes_the_password(cognito, pool):
    create_oidc(cognito, pool)
    factories.make_user(pool, "ann")
    client = factories.make_client(pool)
    cognito.admin_disable_provider_for_user(UserPoolId=pool.id, User=source("ann", name="Cognito"))
    user = User.objects.get(username="ann")
    assert user.password == "" and user.srp_verifier == ""
    from pool.errors import NotAuthorizedException
    from pool.services import authenticate

    with pytest.raises(NotAuthorizedException):
        authenticate.password(pool=pool, username="ann", password=factories.PASSWORD, client=client)


def test_federated_users_in_admin_get_user_and_list_users(cognito, recorder, pool):
    create_oidc(cognito, pool)
    factories.make_user(pool, "native")
    fed_sign_in(pool, "up-1", web_client(pool), email="fed@example.com", email_verified=True)
    got = cognito.admin_get_user(UserPoolId=pool.id, Username="Corp_up-1")
    assert_fits(recorder)
    assert got["UserStatus"] == "EXTERNAL_PROVIDER"
    attributes = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
    assert attributes["email"] == "fed@example.com" and attributes["email_verified"] == "true"
    [entry] = json.loads(attributes["identities"])
    assert (entry["providerName"], entry["providerType"], entry["primary"]) == (
        "Corp",
        "OIDC",
        True,
    )
    listed = cognito.list_users(
        UserPoolId=pool.id, Filter='cognito:user_status = "EXTERNAL_PROVIDER"'
    )
    assert_fits(recorder)
    assert [u["Username"] for u in listed["Users"]] == ["Corp_up-1"]
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool.id, Username="Corp_up-1")
    assert [g["GroupName"] for g in groups["Groups"]] == [f"{pool.id}_Corp"]
