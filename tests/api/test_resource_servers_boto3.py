"""boto3 against a live Cognate: the admin resource-server actions, positive and negative."""

from __future__ import annotations

import pytest

from pool.models import ResourceServer
from tests import factories
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pool(db):
    return factories.make_pool(name="apis")


def test_resource_server_lifecycle(cognito, recorder, pool):
    created = cognito.create_resource_server(
        UserPoolId=pool.id,
        Identifier="https://api.example.com",
        Name="orders",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "Read orders"}],
    )["ResourceServer"]
    assert created["Scopes"] == [{"ScopeName": "read", "ScopeDescription": "Read orders"}]
    described = cognito.describe_resource_server(
        UserPoolId=pool.id, Identifier="https://api.example.com"
    )["ResourceServer"]
    assert described == created
    updated = cognito.update_resource_server(
        UserPoolId=pool.id,
        Identifier="https://api.example.com",
        Name="orders v2",
        Scopes=[{"ScopeName": "write", "ScopeDescription": "Write orders"}],
    )["ResourceServer"]
    assert updated["Name"] == "orders v2" and updated["Scopes"][0]["ScopeName"] == "write"
    listed = cognito.list_resource_servers(UserPoolId=pool.id, MaxResults=10)["ResourceServers"]
    assert [s["Identifier"] for s in listed] == ["https://api.example.com"]
    cognito.delete_resource_server(UserPoolId=pool.id, Identifier="https://api.example.com")
    assert not ResourceServer.objects.exists()
    assert_fits(recorder)


def test_a_client_may_be_allowed_a_resource_servers_scope(cognito, pool):
    cognito.create_resource_server(
        UserPoolId=pool.id,
        Identifier="orders",
        Name="orders",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "Read"}],
    )
    client = cognito.create_user_pool_client(
        UserPoolId=pool.id,
        ClientName="machine",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=["orders/read"],
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]
    assert client["AllowedOAuthScopes"] == ["orders/read"]


def test_update_resource_server_without_scopes_leaves_none(cognito, pool):
    ResourceServer.objects.create(
        pool=pool, identifier="rs", name="rs", scopes=[{"name": "a", "description": "a"}]
    )
    updated = cognito.update_resource_server(UserPoolId=pool.id, Identifier="rs", Name="rs")
    assert updated["ResourceServer"]["Scopes"] == []


def test_a_duplicate_resource_server_is_refused(cognito, pool):
    ResourceServer.objects.create(pool=pool, identifier="rs", name="rs")
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="already exists"):
        cognito.create_resource_server(UserPoolId=pool.id, Identifier="rs", Name="again")
    assert ResourceServer.objects.count() == 1


def test_a_duplicate_scope_is_refused(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="twice"):
        cognito.create_resource_server(
            UserPoolId=pool.id,
            Identifier="rs",
            Name="rs",
            Scopes=[
                {"ScopeName": "a", "ScopeDescription": "a"},
                {"ScopeName": "a", "ScopeDescription": "b"},
            ],
        )
    assert not ResourceServer.objects.exists()


@pytest.mark.parametrize(
    "call",
    [
        lambda c, p: c.describe_resource_server(UserPoolId=p, Identifier="none"),
        lambda c, p: c.update_resource_server(UserPoolId=p, Identifier="none", Name="x"),
        lambda c, p: c.delete_resource_server(UserPoolId=p, Identifier="none"),
    ],
    ids=["describe", "update", "delete"],
)
def test_an_unknown_resource_server_is_resource_not_found(cognito, pool, call):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        call(cognito, pool.id)


def test_resource_servers_of_an_unknown_pool_are_resource_not_found(cognito):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.list_resource_servers(UserPoolId="eu-west-1_Nope12345", MaxResults=5)
