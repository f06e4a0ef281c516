"""How Cognito's Create/UpdateUserPoolClient members reach an app client's settings, through
the door with Django's test client."""

from __future__ import annotations

import json

import pytest

from pool.models import AppClient
from tests import factories
from tests.api.shape_check import output_problems

pytestmark = pytest.mark.django_db


def call(api, action: str, body: dict) -> dict:
    response = api.post(action, body)
    assert response.status_code == 200, response.content
    answer = json.loads(response.content)
    assert not output_problems(action, answer)
    return answer


def test_a_described_client_can_be_sent_back_to_update(api, access_key):
    pool = factories.make_pool()
    app = factories.make_client(
        pool,
        secret="",
        allowed_oauth_flows=["code"],
        allowed_oauth_scopes=["openid"],
        access_token_validity=900,
        refresh_token_rotation=True,
        refresh_token_retry_grace_seconds=10,
    )
    described = call(api, "DescribeUserPoolClient", {"UserPoolId": pool.id, "ClientId": app.pk})
    client = described["UserPoolClient"]
    drop = {"ClientSecret", "CreationDate", "LastModifiedDate", "UserPoolId", "ClientId"}
    body = {k: v for k, v in client.items() if k not in drop}
    call(api, "UpdateUserPoolClient", {"UserPoolId": pool.id, "ClientId": app.pk, **body})
    after = call(api, "DescribeUserPoolClient", {"UserPoolId": pool.id, "ClientId": app.pk})
    for member in body:
        assert after["UserPoolClient"][member] == client[member], member
    assert after["UserPoolClient"]["AccessTokenValidity"] == 15
    assert after["UserPoolClient"]["TokenValidityUnits"]["AccessToken"] == "minutes"


def test_validities_are_read_in_their_units(api, access_key):
    pool = factories.make_pool()
    answer = call(
        api,
        "CreateUserPoolClient",
        {
            "UserPoolId": pool.id,
            "ClientName": "units",
            "AccessTokenValidity": 7200,
            "IdTokenValidity": 2,
            "RefreshTokenValidity": 3,
            "TokenValidityUnits": {"AccessToken": "seconds", "RefreshToken": "hours"},
            "AuthSessionValidity": 10,
        },
    )
    stored = AppClient.objects.get(pk=answer["UserPoolClient"]["ClientId"])
    assert stored.access_token_validity == 7200
    assert stored.id_token_validity == 2 * 3600  # hours, Cognito's default unit
    assert stored.refresh_token_validity == 3 * 3600
    assert stored.auth_session_validity == 600


def test_refresh_validity_zero_means_cognitos_thirty_days(api, access_key):
    pool = factories.make_pool()
    answer = call(
        api,
        "CreateUserPoolClient",
        {"UserPoolId": pool.id, "ClientName": "zero", "RefreshTokenValidity": 0},
    )
    assert answer["UserPoolClient"]["RefreshTokenValidity"] == 30
    assert AppClient.objects.get(
        pk=answer["UserPoolClient"]["ClientId"]
    ).refresh_token_validity == (30 * 86400)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"ExplicitAuthFlows": ["ADMIN_NO_SRP_AUTH"]}, "ExplicitAuthFlows"),
        ({"SupportedIdentityProviders": ["Google"]}, "SupportedIdentityProviders"),
        ({"AnalyticsConfiguration": {"ApplicationId": "abc"}}, "AnalyticsConfiguration"),
        ({"DefaultRedirectURI": "https://elsewhere.example.com/"}, "DefaultRedirectURI"),
    ],
)
def test_create_client_refuses_and_writes_nothing(api, access_key, extra, named):
    pool = factories.make_pool()
    response = api.post("CreateUserPoolClient", {"UserPoolId": pool.id, "ClientName": "c", **extra})
    body = json.loads(response.content)
    assert (response.status_code, body["__type"]) == (400, "InvalidParameterException")
    assert named in body["message"]
    assert not AppClient.objects.exists()
