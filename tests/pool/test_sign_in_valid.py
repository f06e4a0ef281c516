"""pool.selectors.sign_in: the one check that a sign-in (hosted session, code, refresh family,
access token) still stands."""

from __future__ import annotations

import datetime as dt

import pytest

from pool import clock
from pool.errors import InvalidParameterException, NotAuthorizedException
from pool.models import UserStatus
from pool.selectors import sign_in as checks
from tests import factories


def lapse(user, client=None, at=None, **kwargs):
    return checks.lapse(user=user, client=client, signed_in_at=at or clock.now(), **kwargs)


def test_a_fresh_sign_in_stands(user, app_client):
    assert lapse(user, app_client, flow=checks.REFRESH) is None
    assert checks.sign_in_valid(user=user, client=app_client, signed_in_at=clock.now())


def test_each_reason_a_sign_in_lapses(pool, user, app_client):
    assert lapse(None) is checks.Lapse.USER_GONE
    user.enabled = False
    assert lapse(user) is checks.Lapse.USER_DISABLED
    pending = factories.make_user(pool, "una", status=UserStatus.UNCONFIRMED)
    assert lapse(pending) is None
    assert lapse(pending, require_confirmed=True) is checks.Lapse.USER_NOT_CONFIRMED
    app_client.explicit_auth_flows = ["ALLOW_USER_SRP_AUTH"]
    assert lapse(pending, app_client, flow=checks.REFRESH) is checks.Lapse.FLOW_NOT_ALLOWED


def test_a_sign_in_before_tokens_valid_after_is_signed_out(user):
    clock.freeze()
    signed_in_at = clock.now()
    user.tokens_valid_after = signed_in_at + dt.timedelta(milliseconds=300)
    assert lapse(user, at=signed_in_at) is checks.Lapse.SIGNED_OUT
    assert lapse(user, at=user.tokens_valid_after) is None


def test_a_jwt_iat_is_compared_in_whole_seconds(user):
    """`iat` has no fraction: a token issued in the same second as the cut-off stands (its
    refresh family was revoked at the sign-out anyway), one from the second before does not."""
    cutoff = dt.datetime(2026, 1, 1, 12, 0, 0, 500_000, tzinfo=dt.UTC)
    user.tokens_valid_after = cutoff
    second = int(cutoff.timestamp())
    assert lapse(user, at=second) is None
    assert lapse(user, at=second - 1) is checks.Lapse.SIGNED_OUT


def test_check_still_valid_words_each_lapse(user, app_client):
    kwargs = {"client": app_client, "signed_in_at": clock.now(), "revoked": "Gone."}
    checks.check_still_valid(user=user, **kwargs)
    with pytest.raises(NotAuthorizedException, match=r"^Gone\.$"):
        checks.check_still_valid(user=None, **kwargs)
    app_client.explicit_auth_flows = []
    with pytest.raises(InvalidParameterException, match="REFRESH_TOKEN_AUTH flow not enabled"):
        checks.check_still_valid(user=user, flow=checks.REFRESH, **kwargs)
    user.enabled = False
    with pytest.raises(NotAuthorizedException, match=r"^User is disabled\.$"):
        checks.check_still_valid(user=user, **kwargs)


def test_client_exists(pool, app_client):
    assert checks.client_exists(pool=pool, client_id=app_client.client_id)
    assert not checks.client_exists(pool=factories.make_pool(), client_id=app_client.client_id)
    assert not checks.client_exists(pool=pool, client_id=None)
    app_client.delete()
    assert not checks.client_exists(pool=pool, client_id=app_client.client_id)
