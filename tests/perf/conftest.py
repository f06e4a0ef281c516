"""Fixtures the tests of config.front's doors share."""

from __future__ import annotations

import pytest

from pool import clock
from pool.services import tokens


@pytest.fixture
def access(user, app_client) -> str:
    """An access token of `user` for `app_client` with openid, email and the admin scope (what
    userInfo and GetUser read)."""
    return tokens.issue(
        user=user,
        client=app_client,
        scopes=["openid", "email", tokens.ADMIN_SCOPE],
        auth_time=clock.now(),
    ).access_token
