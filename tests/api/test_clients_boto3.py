"""boto3 against a live Cognate: the admin app-client actions, positive and negative."""

from __future__ import annotations

import pytest

from pool.models import AppClient
from tests import factories
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pool(db):
    return factories.make_pool(name="apps")


def test_create_client_with_cognitos_defaults(cognito, recorder, pool):
    client = cognito.create_user_pool_client(UserPoolId=pool.id, ClientName="web")["UserPoolClient"]
    assert "ClientSecret" not in client
    assert client["AccessTokenValidity"] == 1 and client["TokenValidityUnits"]["AccessToken"] == (
        "hours"
    )
    assert client["RefreshTokenValidity"] == 30
    assert client["TokenValidityUnits"]["RefreshToken"] == "days"
    assert client["ExplicitAuthFlows"] == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_CUSTOM_AUTH",
    ]
    assert client["RefreshTokenRotation"] == {"Feature": "DISABLED", "RetryGracePeriodSeconds": 0}
    assert client["AllowedOAuthFlowsUserPoolClient"] is False
    assert "AllowedOAuthFlows" not in client and "CallbackURLs" not in client
    assert client["EnableTokenRevocation"] is True and client["AuthSessionValidity"] == 3
    stored = AppClient.objects.get(pk=client["ClientId"])
    assert stored.allowed_oauth_flows == [] and stored.refresh_token_rotation is False
    assert_fits(recorder)


def test_create_client_with_a_secret_shows_it(cognito, recorder, pool):
    client = cognito.create_user_pool_client(
        UserPoolId=pool.id, ClientName="backend", GenerateSecret=True
    )["UserPoolClient"]
    stored = AppClient.objects.get(pk=client["ClientId"])
    assert stored.check_secret(client["ClientSecret"])
    assert client["ClientSecret"] not in stored.secret  # encrypted at rest
    assert_fits(recorder)


def test_create_client_with_oauth_units_and_rotation(cognito, recorder, pool):
    client = cognito.create_user_pool_client(
        UserPoolId=pool.id,
        ClientName="spa",
        CallbackURLs=["https://app.example.com/callback"],
        LogoutURLs=["https://app.example.com/"],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        AllowedOAuthFlowsUserPoolClient=True,
        SupportedIdentityProviders=["COGNITO"],
        AccessTokenValidity=30,
        IdTokenValidity=30,
        RefreshTokenValidity=12,
        TokenValidityUnits={
            "AccessToken": "minutes",
            "IdToken": "minutes",
            "RefreshToken": "hours",
        },
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 20},
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    stored = AppClient.objects.get(pk=client["ClientId"])
    assert stored.access_token_validity == 30 * 60
    assert stored.refresh_token_validity == 12 * 3600
    assert stored.refresh_token_rotation and stored.refresh_token_retry_grace_seconds == 20
    assert stored.callback_urls == ["https://app.example.com/callback"]
    assert client["AccessTokenValidity"] == 30
    assert client["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert client["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 20}
    assert_fits(recorder)


def test_create_client_refuses_a_validity_out_of_range(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="AccessTokenValidity"):
        cognito.create_user_pool_client(
            UserPoolId=pool.id,
            ClientName="bad",
            AccessTokenValidity=2,
            TokenValidityUnits={"AccessToken": "days"},
        )
    assert not AppClient.objects.exists()


def test_create_client_refuses_an_unknown_scope(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="AllowedOAuthScopes"):
        cognito.create_user_pool_client(
            UserPoolId=pool.id, ClientName="bad", AllowedOAuthScopes=["nope/read"]
        )
    assert not AppClient.objects.exists()


def test_create_client_refuses_a_grace_period_over_60(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.create_user_pool_client(
            UserPoolId=pool.id,
            ClientName="bad",
            RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 61},
        )
    assert not AppClient.objects.exists()


def test_create_client_refuses_a_chosen_secret(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="ClientSecret"):
        cognito.create_user_pool_client(UserPoolId=pool.id, ClientName="bad", ClientSecret="a" * 30)
    assert not AppClient.objects.exists()


def test_create_client_in_an_unknown_pool_is_resource_not_found(cognito):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.create_user_pool_client(UserPoolId="eu-west-1_Nope12345", ClientName="x")


def test_prevent_user_existence_errors_follows_the_pool(cognito, pool):
    client = cognito.create_user_pool_client(
        UserPoolId=pool.id, ClientName="ok", PreventUserExistenceErrors="ENABLED"
    )["UserPoolClient"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="per pool"):
        cognito.create_user_pool_client(
            UserPoolId=pool.id, ClientName="legacy", PreventUserExistenceErrors="LEGACY"
        )


def test_describe_client(cognito, recorder, pool):
    app = factories.make_client(pool, secret="")
    client = cognito.describe_user_pool_client(UserPoolId=pool.id, ClientId=app.client_id)[
        "UserPoolClient"
    ]
    assert client["ClientId"] == app.client_id and client["ClientSecret"] == app.plain_secret
    assert_fits(recorder)


def test_describe_a_client_of_another_pool_is_resource_not_found(cognito, pool):
    other = factories.make_client(factories.make_pool())
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.describe_user_pool_client(UserPoolId=pool.id, ClientId=other.client_id)


def test_update_client_sets_what_it_names_and_resets_the_rest(cognito, recorder, pool):
    app = factories.make_client(pool, allowed_oauth_flows=["code"], require_pkce=False)
    client = cognito.update_user_pool_client(
        UserPoolId=pool.id,
        ClientId=app.client_id,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 5},
    )["UserPoolClient"]
    app.refresh_from_db()
    assert app.refresh_token_rotation and app.refresh_token_retry_grace_seconds == 5
    assert app.allowed_oauth_flows == [] and app.callback_urls == []  # Cognito's defaults
    assert app.name == client["ClientName"]  # the name stays
    assert app.require_pkce is False  # not a Cognito field: untouched
    assert_fits(recorder)


def test_update_client_refuses_a_bad_url_and_changes_nothing(cognito, pool):
    app = factories.make_client(pool)
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="CallbackURLs"):
        cognito.update_user_pool_client(
            UserPoolId=pool.id,
            ClientId=app.client_id,
            CallbackURLs=["javascript:alert(1)"],
            AllowedOAuthFlows=["code"],
        )
    before = app.callback_urls
    app.refresh_from_db()
    assert app.callback_urls == before


def test_update_an_unknown_client_is_resource_not_found(cognito, pool):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.update_user_pool_client(UserPoolId=pool.id, ClientId="nosuchclient")


def test_list_clients_pages(cognito, recorder, pool):
    made = {factories.make_client(pool).client_id for _ in range(3)}
    first = cognito.list_user_pool_clients(UserPoolId=pool.id, MaxResults=2)
    second = cognito.list_user_pool_clients(
        UserPoolId=pool.id, MaxResults=2, NextToken=first["NextToken"]
    )
    listed = [c["ClientId"] for c in first["UserPoolClients"] + second["UserPoolClients"]]
    assert set(listed) == made and len(listed) == 3 and "NextToken" not in second
    assert_fits(recorder)


def test_a_next_token_of_another_pool_is_refused(cognito, pool):
    other = factories.make_pool()
    for _ in range(2):
        factories.make_client(other)
    token = cognito.list_user_pool_clients(UserPoolId=other.id, MaxResults=1)["NextToken"]
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.list_user_pool_clients(UserPoolId=pool.id, MaxResults=1, NextToken=token)


def test_delete_client(cognito, recorder, pool):
    app = factories.make_client(pool)
    cognito.delete_user_pool_client(UserPoolId=pool.id, ClientId=app.client_id)
    assert not AppClient.objects.filter(pk=app.client_id).exists()
    assert_fits(recorder)


def test_delete_an_unknown_client_is_resource_not_found(cognito, pool):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.delete_user_pool_client(UserPoolId=pool.id, ClientId="nosuchclient")
