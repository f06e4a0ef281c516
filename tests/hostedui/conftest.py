"""Helpers for the hosted UI's tests: PKCE pairs, authorize URLs, signing in through the form."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from hostedui.oauth import pkce
from tests import factories

CALLBACK = "http://localhost:3000/callback"
VERIFIER = "v" * 43 + "-verifier._~0123456789"


@pytest.fixture
def challenge() -> str:
    return pkce.s256(VERIFIER)


def authorize_url(pool, client, **params) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": CALLBACK,
        "state": "st@te/ü 1",
    }
    if not client.is_confidential:
        query.update(code_challenge=pkce.s256(VERIFIER), code_challenge_method="S256")
    query.update(params)
    query = {k: v for k, v in query.items() if v is not None}
    return f"/{pool.id}/oauth2/authorize?{urlencode(query)}"


def redirect_params(response) -> dict[str, str]:
    """The query (or fragment) parameters of a redirect back to the app."""
    assert response.status_code == 302, response.content[:500]
    parts = urlsplit(response["Location"])
    raw = parts.fragment or parts.query
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def sign_in(browser, url: str, username: str = "alice", password: str = factories.PASSWORD):
    """Follow authorize to the sign-in page and submit the form; returns the final response."""
    response = browser.get(url)
    if response.status_code == 302 and "/login?" in response["Location"]:
        login = response["Location"]
        return browser.post(login, {"username": username, "password": password})
    return response


def code_for(browser, pool, client, **params) -> str:
    response = sign_in(browser, authorize_url(pool, client, **params))
    return redirect_params(response)["code"]


def token_request(browser, pool, data: dict, **headers):
    return browser.post(f"/{pool.id}/oauth2/token", data, **headers)


def exchange_code(browser, pool, app_client, code, **over):
    """POST the authorization_code grant as a public PKCE client would; `over` changes or (with
    None) removes a parameter."""
    data = {
        "grant_type": "authorization_code",
        "client_id": app_client.client_id,
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
        **over,
    }
    return token_request(browser, pool, {k: v for k, v in data.items() if v is not None})
