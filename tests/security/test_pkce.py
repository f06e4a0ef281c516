"""PKCE: S256 only (plain refused), public clients must use it, a code issued with a challenge
needs its verifier, and a verifier for a code issued without one is refused (downgrade)."""

from __future__ import annotations

import pytest

from hostedui.oauth import pkce
from tests import factories
from tests.security.conftest import (
    CALLBACK,
    VERIFIER,
    authorize_url,
    code_for,
    redirect_params,
    token_request,
)

pytestmark = pytest.mark.django_db


def exchange(client, pool, app, code, **extra):
    data = {
        "grant_type": "authorization_code",
        "client_id": app.client_id,
        "code": code,
        "redirect_uri": CALLBACK,
        **extra,
    }
    if app.is_confidential:
        data["client_secret"] = app.plain_secret
    return token_request(client, pool, {k: v for k, v in data.items() if v is not None})


def test_plain_method_is_refused(client, pool, app_client):
    url = authorize_url(pool, app_client, code_challenge=VERIFIER, code_challenge_method="plain")
    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_challenge_without_method_is_refused(client, pool, app_client):
    """RFC 7636 would default to plain; we refuse rather than accept plain silently."""
    url = authorize_url(pool, app_client, code_challenge_method=None)
    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_public_client_without_pkce_is_refused(client, pool, app_client):
    url = authorize_url(pool, app_client, code_challenge=None, code_challenge_method=None)
    assert redirect_params(client.get(url))["error"] == "invalid_request"


def test_code_with_challenge_needs_the_verifier(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    response = exchange(client, pool, app_client, code)
    assert response.status_code == 400
    assert "access_token" not in response.json()


def test_wrong_verifier_is_refused(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    response = exchange(client, pool, app_client, code, code_verifier="w" * 43)
    assert response.json()["error"] == "invalid_grant"


def test_verifier_for_a_code_issued_without_challenge_is_refused(client, pool, user):
    confidential = factories.make_client(pool, secret="")
    code = code_for(client, pool, confidential)
    response = exchange(client, pool, confidential, code, code_verifier=VERIFIER)
    assert response.json()["error"] == "invalid_grant"


def test_downgrade_attempt_does_not_burn_the_honest_exchange(client, pool, user):
    """The refused downgrade leaves the code to its rightful, challenge-less exchange."""
    confidential = factories.make_client(pool, secret="")
    code = code_for(client, pool, confidential)
    exchange(client, pool, confidential, code, code_verifier=VERIFIER)
    assert "access_token" in exchange(client, pool, confidential, code).json()


def test_right_verifier_is_accepted(client, pool, app_client, user):
    code = code_for(client, pool, app_client)
    assert pkce.s256(VERIFIER)
    assert "access_token" in exchange(client, pool, app_client, code, code_verifier=VERIFIER).json()
