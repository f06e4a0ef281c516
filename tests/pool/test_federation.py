"""Federated sign-in at the service level (pool.services.federation): the one place a verified
upstream assertion becomes a pool user. The protocol code that verifies the assertion is
tested with real upstreams in tests/hostedui/; here the assertion is given as verified."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest

from pool import jwt
from pool.errors import (
    InvalidParameterException,
    NotAuthorizedException,
    UserLambdaValidationException,
)
from pool.models import FederatedIdentity, Group, User, UserStatus
from pool.services import federation, tokens
from pool.services import identity_providers as idps
from pool.services import triggers as trigger_config
from pool.services.results import Authenticated, RequestContext
from tests import factories
from tests import triggers_support as hooks
from tests.parallel import burst, run_together

CTX = RequestContext(ip="127.0.0.1", user_agent="pytest", source="hostedui")
OIDC_DETAILS = {
    "client_id": "upstream-client",
    "client_secret": "upstream-secret",
    "attributes_request_method": "GET",
    "oidc_issuer": "https://idp.example.com",
    "authorize_scopes": "openid email profile",
}
MAPPING = {
    "email": "email",
    "email_verified": "email_verified",
    "name": "name",
    "custom:tier": "tier",
}


@pytest.fixture
def tiered_pool(db):
    pool = factories.make_pool()
    pool.custom_attributes.create(name="tier")
    return pool


@pytest.fixture
def provider(tiered_pool):
    return idps.create_identity_provider(
        pool=tiered_pool,
        provider_name="Corp",
        provider_type="OIDC",
        details=OIDC_DETAILS,
        attribute_mapping=MAPPING,
    )


@pytest.fixture
def client(tiered_pool, provider):
    return factories.make_client(
        tiered_pool, supported_identity_providers=["COGNITO", provider.provider_name]
    )


def fed_sign_in(provider, client, subject="sub-1", **claims):
    claims.setdefault("email", "ann@example.com")
    return federation.sign_in(
        pool=provider.pool,
        client=client,
        provider=provider,
        subject=subject,
        claims=claims,
        context=CTX,
    )


def test_first_sign_in_creates_an_external_provider_user_with_mapped_attributes(provider, client):
    result = fed_sign_in(provider, client, name="Ann", tier="gold", email_verified=True)
    assert isinstance(result, Authenticated)
    user = User.objects.get(pk=result.user.pk)
    assert user.username == "Corp_sub-1"
    assert user.status == UserStatus.EXTERNAL_PROVIDER
    assert user.email == "ann@example.com" and user.email_verified is True
    assert user.name == "Ann" and user.attributes["custom:tier"] == "gold"
    assert not user.password
    link = FederatedIdentity.objects.get(user=user)
    assert (link.provider_name, link.subject, link.primary) == ("Corp", "sub-1", True)


@pytest.mark.parametrize("asserted", [False, "false", None, "yes", 1])
def test_email_verified_only_when_the_provider_asserts_it(provider, client, asserted):
    claims = {} if asserted is None else {"email_verified": asserted}
    user = fed_sign_in(provider, client, **claims).user
    user.refresh_from_db()
    assert user.email == "ann@example.com"
    assert user.email_verified is False


def test_email_verified_is_not_taken_when_not_mapped(tiered_pool, client):
    bare = idps.create_identity_provider(
        pool=tiered_pool,
        provider_name="Bare",
        provider_type="OIDC",
        details=OIDC_DETAILS,
        attribute_mapping={"email": "email"},
    )
    client.supported_identity_providers = ["Bare"]
    client.save()
    user = fed_sign_in(bare, client, email_verified=True).user
    user.refresh_from_db()
    assert user.email == "ann@example.com" and user.email_verified is False


def test_repeat_sign_in_updates_mapped_attributes_and_keeps_one_user(provider, client):
    first = fed_sign_in(provider, client, name="Ann", tier="gold", email_verified=True).user
    second = fed_sign_in(
        provider, client, email="ann@new.example.com", name="Ann B", tier="silver"
    ).user
    assert first.pk == second.pk
    user = User.objects.get(pk=first.pk)
    assert user.email == "ann@new.example.com" and user.email_verified is False
    assert user.name == "Ann B" and user.attributes["custom:tier"] == "silver"
    assert User.objects.filter(pool=provider.pool).count() == 1


def test_provider_group_and_identities_claim(provider, client):
    signed = fed_sign_in(provider, client)
    group = Group.objects.get(pool=provider.pool, name=f"{provider.pool_id}_Corp")
    assert signed.user.groups.filter(pk=group.pk).exists()
    issued = tokens.issue(
        user=signed.user,
        client=client,
        scopes=["openid", "email"],
        auth_time=signed.auth_time,
    )
    claims = pyjwt.decode(issued.id_token, options={"verify_signature": False})
    assert claims["cognito:username"] == "Corp_sub-1"
    assert claims["cognito:groups"] == [group.name]
    [identity] = claims["identities"]
    assert identity["userId"] == "sub-1"
    assert identity["providerName"] == "Corp"
    assert identity["providerType"] == "OIDC"
    assert identity["issuer"] is None
    assert identity["primary"] == "true"
    assert identity["dateCreated"].isdigit()
    access = pyjwt.decode(issued.access_token, options={"verify_signature": False})
    assert access["cognito:groups"] == [group.name] and "identities" not in access
    assert jwt.issuer(provider.pool) == claims["iss"]


def test_refreshed_id_tokens_keep_the_identities_claim(provider, client):
    signed = fed_sign_in(provider, client)
    issued = tokens.issue(
        user=signed.user, client=client, scopes=["openid"], auth_time=signed.auth_time
    )
    again = tokens.refresh(client=client, refresh_token=issued.refresh_token)
    claims = pyjwt.decode(again.id_token, options={"verify_signature": False})
    assert [i["providerName"] for i in claims["identities"]] == ["Corp"]


def test_identities_attribute_is_cognitos_json_string(provider, client):
    user = User.objects.get(pk=fed_sign_in(provider, client).user.pk)
    [entry] = json.loads(user.attribute_map()["identities"])
    assert entry["userId"] == "sub-1" and entry["providerName"] == "Corp"
    assert entry["providerType"] == "OIDC" and entry["issuer"] is None
    assert entry["primary"] is True and isinstance(entry["dateCreated"], int)


def test_disabled_provider_is_refused(provider, client):
    idps.update_identity_provider(provider=provider, enabled=False)
    provider.refresh_from_db()
    with pytest.raises(NotAuthorizedException):
        fed_sign_in(provider, client)
    assert not User.objects.filter(pool=provider.pool).exists()


def test_disabled_user_is_refused(provider, client):
    user = fed_sign_in(provider, client).user
    User.objects.filter(pk=user.pk).update(enabled=False)
    with pytest.raises(NotAuthorizedException, match="disabled"):
        fed_sign_in(provider, client)


def test_provider_not_offered_by_the_client_is_refused(provider, tiered_pool):
    cognito_only = factories.make_client(tiered_pool)
    with pytest.raises(NotAuthorizedException):
        fed_sign_in(provider, cognito_only)
    assert not User.objects.filter(pool=tiered_pool).exists()


def test_email_collision_never_links_to_the_native_user(provider, client):
    native = factories.make_user(
        provider.pool, "ann", email="ann@example.com", email_verified=False
    )
    signed = fed_sign_in(provider, client, email_verified=True).user
    assert signed.pk != native.pk
    assert signed.username == "Corp_sub-1"
    assert not FederatedIdentity.objects.filter(user=native).exists()


def test_native_user_holding_the_federated_name_is_not_taken_over(provider, client):
    factories.make_user(provider.pool, "Corp_sub-1")
    with pytest.raises(Exception) as caught:
        fed_sign_in(provider, client)
    assert caught.value.__class__.__name__ == "UsernameExistsException"
    assert not FederatedIdentity.objects.exists()


def test_bad_subject_is_refused(provider, client):
    with pytest.raises(InvalidParameterException):
        fed_sign_in(provider, client, subject="has space")
    with pytest.raises(InvalidParameterException):
        fed_sign_in(provider, client, subject="")


@pytest.fixture
def receiver():
    found, server = hooks.serve()
    yield found
    server.shutdown()
    server.server_close()


def test_pre_sign_up_external_provider_trigger(provider, client, receiver):
    trigger_config.set_trigger(
        pool=provider.pool, kind="PreSignUp", webhook=receiver.url, secret=hooks.SECRET
    )
    fed_sign_in(provider, client, name="Ann")
    event = receiver.last("PreSignUp")
    assert event["triggerSource"] == "PreSignUp_ExternalProvider"
    assert event["userName"] == "Corp_sub-1"
    assert event["callerContext"]["clientId"] == client.client_id
    assert event["request"]["userAttributes"]["email"] == "ann@example.com"
    assert event["request"]["userAttributes"]["name"] == "Ann"
    fed_sign_in(provider, client)
    assert len(receiver.events("PreSignUp")) == 1  # only the first sign-in signs up


def test_pre_sign_up_refusal_creates_nobody(provider, client, receiver):
    receiver.answer = hooks.refusing("no outsiders")
    trigger_config.set_trigger(
        pool=provider.pool, kind="PreSignUp", webhook=receiver.url, secret=hooks.SECRET
    )
    with pytest.raises(UserLambdaValidationException, match="no outsiders"):
        fed_sign_in(provider, client)
    assert not User.objects.filter(pool=provider.pool).exists()
    assert not FederatedIdentity.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_first_sign_ins_make_one_user(provider, client):
    outcomes = burst(lambda: fed_sign_in(provider, client), 4)
    assert all(isinstance(o, Authenticated) for o in outcomes), outcomes
    assert len({o.user.pk for o in outcomes}) == 1
    assert User.objects.filter(pool=provider.pool).count() == 1
    assert FederatedIdentity.objects.count() == 1


def test_pre_authentication_trigger_fires_and_may_refuse(provider, client, receiver):
    trigger_config.set_trigger(
        pool=provider.pool, kind="PreAuthentication", webhook=receiver.url, secret=hooks.SECRET
    )
    fed_sign_in(provider, client)
    event = receiver.last("PreAuthentication")
    assert event["userName"] == "Corp_sub-1"
    receiver.answer = hooks.refusing("not today")
    with pytest.raises(UserLambdaValidationException, match="not today"):
        fed_sign_in(provider, client)


def test_email_username_pool_keeps_federated_and_native_users_apart(db):
    pool = factories.make_pool(username_attributes=["email"])
    native = factories.make_user(pool, "native-id", email="ann@example.com", email_verified=True)
    assert native.email_key
    provider = idps.create_identity_provider(
        pool=pool,
        provider_name="Corp",
        provider_type="OIDC",
        details=OIDC_DETAILS,
        attribute_mapping={"email": "email", "email_verified": "email_verified"},
    )
    client = factories.make_client(pool, supported_identity_providers=["Corp"])
    signed = fed_sign_in(provider, client, email_verified=True).user
    signed.refresh_from_db()
    assert signed.pk != native.pk and signed.username == "Corp_sub-1"
    assert signed.email == "ann@example.com" and signed.email_verified is True
    assert signed.email_key is None  # not a sign-in name: the native user keeps it
    native.refresh_from_db()
    assert native.email_key == "ann@example.com"


def test_missing_required_attribute_refuses_and_creates_nobody(provider, client):
    with pytest.raises(InvalidParameterException, match="email"):
        federation.sign_in(
            pool=provider.pool,
            client=client,
            provider=provider,
            subject="sub-1",
            claims={"name": "No Mail"},
        )
    assert not User.objects.filter(pool=provider.pool).exists()


def test_mapped_value_the_schema_refuses_changes_nothing(provider, client):
    user = fed_sign_in(provider, client, name="Ann").user
    with pytest.raises(InvalidParameterException):
        fed_sign_in(provider, client, email="not-an-email", name="Changed")
    user.refresh_from_db()
    assert user.email == "ann@example.com" and user.name == "Ann"


def test_list_claims_and_issuer_reach_attributes_and_identities(provider, client):
    signed = federation.sign_in(
        pool=provider.pool,
        client=client,
        provider=provider,
        subject="sub-1",
        claims={"email": ["ann@example.com"], "name": ["Ann", "A."]},
        issuer="https://idp.example.com/saml",
    )
    user = User.objects.get(pk=signed.user.pk)
    assert user.email == "ann@example.com" and user.name == "Ann,A."
    from pool.selectors import identity_providers as selectors

    [identity] = selectors.identities(user)
    assert identity["issuer"] == "https://idp.example.com/saml"


def test_imported_external_provider_user_is_adopted(provider, client):
    imported = factories.make_user(
        provider.pool, "Corp_sub-1", password=None, status=UserStatus.EXTERNAL_PROVIDER
    )
    assert fed_sign_in(provider, client).user.pk == imported.pk
    assert FederatedIdentity.objects.get().user_id == imported.pk


def test_provider_of_another_pool_is_refused(provider, client):
    other = factories.make_pool()
    with pytest.raises(Exception) as caught:
        federation.sign_in(
            pool=other, client=None, provider=provider, subject="sub-1", claims={"email": "a@b.c"}
        )
    assert caught.value.__class__.__name__ == "ResourceNotFoundException"
    assert not User.objects.exists()


def test_no_mfa_for_a_federated_sign_in(tiered_pool, provider, client):
    tiered_pool.mfa_configuration = "ON"
    tiered_pool.save()
    provider.pool.refresh_from_db()
    assert isinstance(fed_sign_in(provider, client), Authenticated)


# ------------------------------------------------------------ providers: service and selectors


def test_by_identifier_routes_by_exact_identifier_or_email_domain(tiered_pool):
    from pool.selectors import identity_providers as selectors

    corp = idps.create_identity_provider(
        pool=tiered_pool,
        provider_name="Corp",
        provider_type="OIDC",
        details=OIDC_DETAILS,
        idp_identifiers=["corp.example.com", "CorpSSO"],
    )
    assert selectors.by_identifier(tiered_pool, "corpsso") == corp
    assert selectors.by_identifier(tiered_pool, "ann@Corp.Example.com") == corp
    assert selectors.by_identifier(tiered_pool, "ann@corp.example.com", domains=False) is None
    assert selectors.by_identifier(tiered_pool, "ann@other.example.com") is None
    assert selectors.by_identifier(tiered_pool, "") is None
    idps.update_identity_provider(provider=corp, enabled=False)
    assert selectors.by_identifier(tiered_pool, "corpsso", enabled_only=True) is None
    assert selectors.by_identifier(factories.make_pool(), "corpsso") is None


def test_enabled_for_client_keeps_the_clients_order_and_skips_disabled(tiered_pool):
    from pool.selectors import identity_providers as selectors

    for name in ("Alpha", "Beta", "Gamma"):
        idps.create_identity_provider(
            pool=tiered_pool, provider_name=name, provider_type="OIDC", details=OIDC_DETAILS
        )
    client = factories.make_client(
        tiered_pool, supported_identity_providers=["Gamma", "COGNITO", "Alpha", "Beta"]
    )
    idps.update_identity_provider(provider=selectors.get(tiered_pool, "Beta"), enabled=False)
    assert [p.provider_name for p in selectors.enabled_for_client(client)] == ["Gamma", "Alpha"]


def test_secrets_are_encrypted_at_rest_and_decrypt_for_the_protocol_code(provider):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT details, secret_details FROM pool_identityprovider WHERE id = %s",
            [provider.pk],
        )
        details, secret = cursor.fetchone()
    assert "upstream-secret" not in str(details) and "upstream-secret" not in secret
    fresh = type(provider).objects.get(pk=provider.pk)
    assert fresh.provider_details()["client_secret"] == "upstream-secret"
    assert fresh.provider_details()["oidc_issuer"] == "https://idp.example.com"


def test_immutable_custom_attribute_cannot_be_mapped(tiered_pool):
    tiered_pool.custom_attributes.create(name="fixed", mutable=False)
    with pytest.raises(InvalidParameterException, match="immutable"):
        idps.create_identity_provider(
            pool=tiered_pool,
            provider_name="Corp",
            provider_type="OIDC",
            details=OIDC_DETAILS,
            attribute_mapping={"custom:fixed": "x"},
        )


def test_apple_secret_key_is_encrypted(tiered_pool):
    pem = "-----BEGIN PRIVATE KEY-----\nMIGT\n-----END PRIVATE KEY-----"
    apple = idps.create_identity_provider(
        pool=tiered_pool,
        provider_name="SignInWithApple",
        provider_type="SignInWithApple",
        details={
            "client_id": "com.example.web",
            "team_id": "TEAM123456",
            "key_id": "KEY1234567",
            "private_key": pem,
            "authorize_scopes": "email name",
        },
    )
    assert "private_key" not in apple.details
    assert apple.provider_details()["private_key"] == pem
    assert apple.provider_details()["oidc_issuer"] == "https://appleid.apple.com"


def test_a_federated_user_never_signs_in_with_a_password(provider, client):
    from pool.services import authenticate, credentials

    user = User.objects.get(pk=fed_sign_in(provider, client).user.pk)
    credentials.store(user, factories.PASSWORD)  # however a password got there
    with pytest.raises(NotAuthorizedException, match="Incorrect username or password"):
        authenticate.password(
            pool=provider.pool, username="Corp_sub-1", password=factories.PASSWORD, client=client
        )


@pytest.mark.parametrize("hide", [True, False])
def test_a_federated_user_cannot_reset_a_password(provider, client, hide, mailoutbox):
    from pool.services import passwords

    fed_sign_in(provider, client, email_verified=True)
    provider.pool.prevent_user_existence_errors = hide
    provider.pool.save()
    if hide:
        passwords.forgot_password(
            pool=provider.pool, username="Corp_sub-1", client=client, context=CTX
        )
    else:
        with pytest.raises(NotAuthorizedException, match="cannot be reset"):
            passwords.forgot_password(
                pool=provider.pool, username="Corp_sub-1", client=client, context=CTX
            )
    assert not mailoutbox


def test_deleting_a_provider_keeps_its_users_and_a_new_one_signs_them_in(provider, client):
    first = fed_sign_in(provider, client).user
    idps.delete_identity_provider(provider=provider)
    client.refresh_from_db()
    assert client.supported_identity_providers == ["COGNITO"]
    assert User.objects.filter(pk=first.pk).exists()
    again = idps.create_identity_provider(
        pool=provider.pool,
        provider_name="Corp",
        provider_type="OIDC",
        details=OIDC_DETAILS,
        attribute_mapping=MAPPING,
    )
    client.supported_identity_providers = ["Corp"]
    client.save()
    assert fed_sign_in(again, client).user.pk == first.pk


def test_a_client_cannot_offer_another_pools_provider(provider):
    from pool.services import app_clients

    other = factories.make_pool()
    stranger = factories.make_client(other)
    with pytest.raises(InvalidParameterException, match="supported_identity_providers"):
        app_clients.update_client(client=stranger, supported_identity_providers=["Corp"])


def test_linking_to_a_federated_destination(provider, client):
    from pool.services.federation import link

    idps.create_identity_provider(
        pool=provider.pool, provider_name="Other", provider_type="OIDC", details=OIDC_DETAILS
    )
    client.supported_identity_providers = ["Corp", "Other"]
    client.save()
    primary = fed_sign_in(provider, client).user
    link(
        pool=provider.pool,
        destination_provider="Corp",
        destination_value="sub-1",
        source_provider="Other",
        source_attribute="Cognito_Subject",
        source_value="o-9",
    )
    other = provider.pool.identity_providers.get(provider_name="Other")
    assert fed_sign_in(other, client, subject="o-9").user.pk == primary.pk
    stored = json.loads(User.objects.get(pk=primary.pk).attributes["identities"])
    assert [entry["providerName"] for entry in stored] == ["Corp", "Other"]


@pytest.mark.django_db(transaction=True)
def test_parallel_creations_keep_names_and_identifiers_unique(tiered_pool):
    from pool.errors import DuplicateProviderException
    from pool.models import IdentityProvider

    def create(name):
        return lambda: idps.create_identity_provider(
            pool=tiered_pool,
            provider_name=name,
            provider_type="OIDC",
            details=OIDC_DETAILS,
            idp_identifiers=["corp.example.com"],
        )

    outcomes = run_together(
        [create("Same"), create("Same"), create("Same"), create("One"), create("Two")]
    )
    made = [o for o in outcomes if isinstance(o, IdentityProvider)]
    refused = [o for o in outcomes if isinstance(o, DuplicateProviderException)]
    assert len(made) == 1 and len(refused) == 4, outcomes
    assert IdentityProvider.objects.count() == 1
