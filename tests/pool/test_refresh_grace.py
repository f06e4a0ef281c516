"""Refresh rotation's retry grace period (Cognito's RefreshTokenRotation.RetryGracePeriodSeconds):
for that many seconds after a refresh token is rotated it still refreshes, each time to a new
refresh token; after them, presenting it revokes the family, as with no grace at all."""

from __future__ import annotations

import pytest

from pool import clock
from pool.errors import (
    InvalidParameterException,
    NotAuthorizedException,
    RefreshTokenReuseException,
)
from pool.models import RefreshFamily
from pool.services import app_clients, tokens

pytestmark = pytest.mark.django_db

GRACE = 30


@pytest.fixture
def graceful(app_client):
    return app_clients.update_client(client=app_client, refresh_token_retry_grace_seconds=GRACE)


def sign_in(user, client) -> tokens.Tokens:
    clock.freeze()
    return tokens.issue(user=user, client=client, scopes=["openid"], auth_time=clock.now())


def family_revoked(user) -> bool:
    return RefreshFamily.objects.get(user=user).revoked_at is not None


def test_rotated_token_refreshes_again_within_the_grace_period(graceful, user):
    issued = sign_in(user, graceful)
    first = tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    clock.advance(seconds=GRACE - 1)
    retry = tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    assert retry.access_token and retry.id_token
    assert retry.refresh_token not in (None, first.refresh_token, issued.refresh_token)
    assert not family_revoked(user)


def test_both_successors_of_a_retried_token_keep_working(graceful, user):
    issued = sign_in(user, graceful)
    first = tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    retry = tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    assert tokens.refresh(client=graceful, refresh_token=first.refresh_token).access_token
    assert tokens.refresh(client=graceful, refresh_token=retry.refresh_token).access_token


def test_reuse_after_the_grace_period_revokes_the_family(graceful, user):
    issued = sign_in(user, graceful)
    first = tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    clock.advance(seconds=GRACE)
    with pytest.raises(RefreshTokenReuseException):
        tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    assert family_revoked(user)
    with pytest.raises(NotAuthorizedException):
        tokens.refresh(client=graceful, refresh_token=first.refresh_token)


def test_retries_do_not_extend_the_grace_period(graceful, user):
    issued = sign_in(user, graceful)
    tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    clock.advance(seconds=GRACE - 5)
    tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    clock.advance(seconds=10)
    with pytest.raises(RefreshTokenReuseException):
        tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    assert family_revoked(user)


def test_without_grace_the_first_reuse_revokes_the_family(app_client, user):
    assert app_client.refresh_token_retry_grace_seconds == 0
    issued = sign_in(user, app_client)
    tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    with pytest.raises(RefreshTokenReuseException):
        tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    assert family_revoked(user)


def test_grace_does_not_resurrect_a_revoked_family(graceful, user):
    issued = sign_in(user, graceful)
    tokens.refresh(client=graceful, refresh_token=issued.refresh_token)
    tokens.revoke(client=graceful, token=issued.refresh_token)
    with pytest.raises(NotAuthorizedException):
        tokens.refresh(client=graceful, refresh_token=issued.refresh_token)


def test_grace_period_can_be_set_up_to_sixty_seconds(app_client):
    app_clients.update_client(client=app_client, refresh_token_retry_grace_seconds=60)
    app_client.refresh_from_db()
    assert app_client.refresh_token_retry_grace_seconds == 60


@pytest.mark.parametrize("value", [61, -1, "soon", 1.5, True, None])
def test_grace_period_outside_cognitos_range_is_refused(app_client, value):
    with pytest.raises(InvalidParameterException, match="refresh_token_retry_grace_seconds"):
        app_clients.update_client(client=app_client, refresh_token_retry_grace_seconds=value)
    app_client.refresh_from_db()
    assert app_client.refresh_token_retry_grace_seconds == 0


@pytest.mark.django_db(transaction=True)
def test_a_family_deleted_between_the_read_and_the_rotation_stores_nothing(app_client, user):
    """The user (and with them the family and its tokens) deleted while a refresh is between
    its read and its rotation: the rotation finds no token, raises nothing (SQLite's one
    statement would have inserted the token's row again: its family's foreign key refuses it)
    and leaves no row behind."""
    from pool import crypto
    from pool.models import RefreshToken

    issued = sign_in(user, app_client)
    digest = crypto.digest(issued.refresh_token)
    family = RefreshFamily.objects.get(user=user)
    user.delete()
    successor = tokens._rotate(
        digest=digest, family=family, rotated_at=None, grace=0, now=clock.now()
    )
    assert successor is None
    assert not RefreshToken.objects.exists()
