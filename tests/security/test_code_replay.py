"""A second redemption of an authorization code fails and revokes every token the first
redemption issued (RFC 6749 §4.1.2)."""

from __future__ import annotations

import pytest

from tests.hostedui.conftest import exchange_code
from tests.security.conftest import code_for, token_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def replayed(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    first = exchange_code(client, pool, app_client, code).json()
    second = exchange_code(client, pool, app_client, code)
    return first, second


def test_second_redemption_fails(replayed):
    _, second = replayed
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_replay_revokes_the_first_refresh_token(client, pool, app_client, replayed):
    first, _ = replayed
    response = token_request(
        client,
        pool,
        {
            "grant_type": "refresh_token",
            "client_id": app_client.client_id,
            "refresh_token": first["refresh_token"],
        },
    )
    assert response.json()["error"] == "invalid_grant"


def test_replay_revokes_the_first_access_token(client, pool, replayed):
    first, _ = replayed
    response = client.get(
        f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=f"Bearer {first['access_token']}"
    )
    assert response.status_code == 401


def test_code_of_another_client_is_refused(client, pool, app_client, user):
    from tests import factories

    code = code_for(client, pool, app_client)
    other = factories.make_client(pool)
    assert exchange_code(client, pool, other, code).json()["error"] == "invalid_grant"


@pytest.mark.django_db(transaction=True)
def test_parallel_redemptions_one_wins_and_the_winner_is_revoked(pool, app_client, user):
    """The single use is the exchange's conditional write: of parallel redemptions of one code
    exactly one gets tokens, the others are replays and revoke what the winner got."""
    from django.test import Client

    from pool.models import RefreshFamily
    from tests.parallel import run_together

    code = code_for(Client(), pool, app_client)
    answers = run_together([lambda: exchange_code(Client(), pool, app_client, code)] * 4)
    assert sorted(answer.status_code for answer in answers) == [200, 400, 400, 400]
    winner = next(answer for answer in answers if answer.status_code == 200).json()
    assert all(a.json()["error"] == "invalid_grant" for a in answers if a.status_code == 400)
    # The losers stored nothing: their family rows went with their lost conditional write.
    assert RefreshFamily.objects.filter(user=user).count() == 1
    refreshed = token_request(
        Client(),
        pool,
        {
            "grant_type": "refresh_token",
            "client_id": app_client.client_id,
            "refresh_token": winner["refresh_token"],
        },
    )
    assert refreshed.json()["error"] == "invalid_grant"
