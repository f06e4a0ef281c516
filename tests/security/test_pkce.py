"""PKCE: S256 only (plain refused), public clients must use it (unless an operator switches
`require_pkce` off for that client), a code issued with a challenge needs its verifier, and a
verifier for a code issued without one is refused (downgrade)."""

from __future__ import annotations

import pytest

from hostedui.oauth import pkce
from pool.errors import InvalidParameterException
from pool.services import app_clients
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


# --- require_pkce: Cognate's stricter default, switchable per client -------------------------


def test_new_clients_require_pkce(pool):
    created, _ = app_clients.create_client(
        pool=pool, name="spa", callback_urls=["https://app.example.com/cb"]
    )
    assert created.require_pkce is True


def test_public_client_without_pkce_signs_in_once_the_operator_allows_it(
    client, pool, app_client, user
):
    """An app written for Cognito without PKCE works after an explicit choice."""
    app_clients.update_client(client=app_client, require_pkce=False)
    code = code_for(client, pool, app_client, code_challenge=None, code_challenge_method=None)
    response = exchange(client, pool, app_client, code)
    assert response.status_code == 200, response.content
    assert response.json()["access_token"]


def test_switching_pkce_off_keeps_the_other_pkce_rules(client, pool, app_client, user):
    app_clients.update_client(client=app_client, require_pkce=False)
    url = authorize_url(pool, app_client, code_challenge=VERIFIER, code_challenge_method="plain")
    assert redirect_params(client.get(url))["error"] == "invalid_request"
    code = code_for(client, pool, app_client)
    assert exchange(client, pool, app_client, code).status_code == 400


def test_code_issued_without_pkce_is_refused_once_pkce_is_required_again(
    client, pool, app_client, user
):
    app_clients.update_client(client=app_client, require_pkce=False)
    code = code_for(client, pool, app_client, code_challenge=None, code_challenge_method=None)
    app_clients.update_client(client=app_client, require_pkce=True)
    response = exchange(client, pool, app_client, code)
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("value", ["no", 0, None])
def test_require_pkce_takes_a_boolean(app_client, value):
    with pytest.raises(InvalidParameterException, match="require_pkce"):
        app_clients.update_client(client=app_client, require_pkce=value)
    app_client.refresh_from_db()
    assert app_client.require_pkce is True
