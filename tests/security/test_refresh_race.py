"""N parallel refreshes of one refresh token (real threads, real transactions, each with its
own database connection). With no retry grace period (the default): exactly one succeeds, and
since the others present a token that has just been rotated, the family is revoked (even the
winner's new token stops working). With a grace period (Cognito's RetryGracePeriodSeconds) they
all succeed, each with its own new refresh token, and the family stands. Run it on PostgreSQL
too: DATABASE_URL=postgres://... pytest tests/security/test_refresh_race.py."""

from __future__ import annotations

import pytest

from pool import clock
from pool.errors import NotAuthorizedException, RefreshTokenReuseException
from pool.models import RefreshFamily
from pool.services import app_clients, tokens
from tests import parallel

THREADS = 6


def race(app_client, refresh_token: str) -> list:
    return parallel.burst(
        lambda: tokens.refresh(client=app_client, refresh_token=refresh_token), THREADS
    )


@pytest.mark.django_db(transaction=True)
def test_exactly_one_parallel_refresh_wins_and_the_family_is_revoked(pool, app_client, user):
    assert app_client.refresh_token_retry_grace_seconds == 0
    clock.freeze()
    issued = tokens.issue(user=user, client=app_client, scopes=["openid"], auth_time=clock.now())
    results = race(app_client, issued.refresh_token)
    winners = [r for r in results if isinstance(r, tokens.Tokens)]
    # The loser that finds the token already replaced reports the reuse; the others find the
    # family it revoked.
    losers = [
        r for r in results if isinstance(r, NotAuthorizedException | RefreshTokenReuseException)
    ]
    assert len(results) == THREADS
    assert len(winners) == 1, results
    assert len(losers) == THREADS - 1, results
    assert RefreshFamily.objects.get(user=user).revoked_at is not None
    with pytest.raises(NotAuthorizedException):
        tokens.refresh(client=app_client, refresh_token=winners[0].refresh_token)


@pytest.mark.django_db(transaction=True)
def test_replay_after_rotation_revokes_the_family(pool, app_client, user):
    issued = tokens.issue(user=user, client=app_client, scopes=["openid"], auth_time=clock.now())
    rotated = tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    with pytest.raises(RefreshTokenReuseException):
        tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    with pytest.raises(NotAuthorizedException):
        tokens.refresh(client=app_client, refresh_token=rotated.refresh_token)


@pytest.mark.django_db(transaction=True)
def test_parallel_refreshes_within_the_grace_period_all_win(pool, app_client, user):
    app_clients.update_client(client=app_client, refresh_token_retry_grace_seconds=30)
    clock.freeze()
    issued = tokens.issue(user=user, client=app_client, scopes=["openid"], auth_time=clock.now())
    results = race(app_client, issued.refresh_token)
    assert all(isinstance(r, tokens.Tokens) for r in results), results
    successors = {r.refresh_token for r in results}
    assert len(successors) == THREADS
    assert RefreshFamily.objects.get(user=user).revoked_at is None
    for successor in successors:
        assert tokens.refresh(client=app_client, refresh_token=successor).access_token
