"""Malformed identity-provider and linking calls through the door (Django's test client,
SigV4-signed): each a 400 in Cognito's error format, never a 500, and nothing written."""

from __future__ import annotations

import json

import pytest

from pool.models import FederatedIdentity, IdentityProvider, User
from pool.services import identity_providers as idps
from tests import factories

pytestmark = pytest.mark.django_db

DETAILS = {
    "client_id": "c",
    "client_secret": "s",
    "attributes_request_method": "GET",
    "oidc_issuer": "https://idp.example.com",
    "authorize_scopes": "openid",
}


@pytest.fixture
def pool(db):
    pool = factories.make_pool()
    idps.create_identity_provider(
        pool=pool, provider_name="Corp", provider_type="OIDC", details=DETAILS
    )
    factories.make_user(pool, "ann")
    return pool


def bodies(pool_id: str) -> list[tuple[str, dict]]:
    create = {"UserPoolId": pool_id, "ProviderName": "New", "ProviderType": "OIDC"}
    return [
        ("CreateIdentityProvider", {**create, "ProviderDetails": ["not", "a", "map"]}),
        ("CreateIdentityProvider", {**create, "ProviderDetails": {"client_id": 5}}),
        ("CreateIdentityProvider", {**create, "ProviderDetails": DETAILS, "AttributeMapping": "x"}),
        ("CreateIdentityProvider", {**create, "ProviderDetails": DETAILS, "IdpIdentifiers": {}}),
        ("CreateIdentityProvider", {**create, "ProviderType": "Myspace", "ProviderDetails": {}}),
        ("CreateIdentityProvider", {**create, "ProviderName": "", "ProviderDetails": DETAILS}),
        (
            "CreateIdentityProvider",
            {**create, "ProviderDetails": DETAILS, "AcrMapping": {"x": "y"}},
        ),
        ("UpdateIdentityProvider", {"UserPoolId": pool_id, "ProviderName": 7}),
        ("ListIdentityProviders", {"UserPoolId": pool_id, "MaxResults": 61}),
        ("GetIdentityProviderByIdentifier", {"UserPoolId": pool_id, "IdpIdentifier": ""}),
        ("AdminLinkProviderForUser", {"UserPoolId": pool_id}),
        (
            "AdminLinkProviderForUser",
            {"UserPoolId": pool_id, "DestinationUser": {}, "SourceUser": {}},
        ),
        (
            "AdminLinkProviderForUser",
            {
                "UserPoolId": pool_id,
                "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": "ann"},
                "SourceUser": {"ProviderName": "Corp", "ProviderAttributeName": "Cognito_Subject"},
            },
        ),
        ("AdminDisableProviderForUser", {"UserPoolId": pool_id, "User": {}}),
        ("AdminDisableProviderForUser", {"UserPoolId": pool_id, "User": "ann"}),
        # A NUL byte reaches no query (PostgreSQL refuses it in text: a 500 before the guard).
        ("DescribeIdentityProvider", {"UserPoolId": pool_id, "ProviderName": "Co\x00rp"}),
        ("UpdateIdentityProvider", {"UserPoolId": pool_id, "ProviderName": "Co\x00rp"}),
        ("DeleteIdentityProvider", {"UserPoolId": pool_id, "ProviderName": "Co\x00rp"}),
        ("GetIdentityProviderByIdentifier", {"UserPoolId": pool_id, "IdpIdentifier": "a\x00b"}),
    ]


def test_malformed_calls_are_400s_that_change_nothing(api, access_key, pool):
    before = (IdentityProvider.objects.count(), FederatedIdentity.objects.count())
    users = User.objects.count()
    for action, body in bodies(pool.id):
        response = api.post(action, body)
        assert response.status_code == 400, (action, body, response.content)
        answer = json.loads(response.content)
        assert answer["__type"] and answer["message"], (action, body)
    assert (IdentityProvider.objects.count(), FederatedIdentity.objects.count()) == before
    assert User.objects.count() == users
    assert IdentityProvider.objects.get().details["authorize_scopes"] == "openid"
