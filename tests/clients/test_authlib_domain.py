"""Authlib against a pool served on its own host name, over real HTTP: the app reads the
issuer's discovery document (at `{PUBLIC_URL}/{pool}`), which names the endpoints on the pool's
domain `http://auth.test.localhost:PORT/`; code + PKCE through the hosted sign-in form on that
host; the ID token's issuer is the pool's.

`*.localhost` names are not resolved by glibc here (no /etc/hosts entry is assumed), so requests
to the domain go through `Loopback`, a requests transport adapter that connects to 127.0.0.1 on
the same port and sends the real Host header, as a resolver pointing the name at this machine
would."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from requests.adapters import HTTPAdapter

from pool.services import domains
from tests import factories

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]
CALLBACK = "http://localhost:3000/callback"
DOMAIN = "auth.test.localhost"
ARN = "arn:aws:acm:us-east-1:123456789012:certificate/abcdef-123"


class Loopback(HTTPAdapter):
    """Send requests for a name to 127.0.0.1 (same port), with the name as the Host header."""

    def send(self, request, *args, **kwargs):
        original = request.url
        parts = urlsplit(original)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))
        try:
            response = super().send(request, *args, **kwargs)
        finally:
            request.url = original
        response.url = original
        return response


def on_domain(session: requests.Session, base: str) -> requests.Session:
    session.mount(f"{base}/", Loopback())
    return session


@pytest.fixture
def server(live_server, settings):
    settings.PUBLIC_URL = live_server.url
    return live_server.url


@pytest.fixture
def domain_url(server, pool) -> str:
    domains.create_domain(pool=pool, domain=DOMAIN, certificate_arn=ARN)
    return f"http://{DOMAIN}:{urlsplit(server).port}"


def sign_in_on_the_domain(base: str, authorization_url: str) -> str:
    browser = on_domain(requests.Session(), base)
    to_login = browser.get(authorization_url, allow_redirects=False, timeout=10)
    assert to_login.status_code == 302, to_login.text[:300]
    login_url = urljoin(authorization_url, to_login.headers["Location"])
    assert login_url.startswith(f"{base}/login?")
    page = browser.get(login_url, timeout=10)
    assert 'id="signInFormUsername"' in page.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = browser.post(
        login_url,
        data={"csrfmiddlewaretoken": csrf, "username": "alice", "password": factories.PASSWORD},
        headers={"Origin": base},
        allow_redirects=False,
        timeout=10,
    )
    assert done.status_code == 302, done.text[:500]
    return done.headers["Location"]


def test_code_pkce_on_the_pools_own_host_name(server, pool, domain_url, user):
    app = factories.make_client(pool, callback_urls=[CALLBACK])
    session = on_domain(
        OAuth2Session(
            app.client_id,
            redirect_uri=CALLBACK,
            scope="openid email profile",
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
        ),
        domain_url,
    )
    issuer = f"{server}/{pool.id}"
    oidc = session.get(
        f"{issuer}/.well-known/openid-configuration", withhold_token=True, timeout=10
    ).json()
    assert oidc["issuer"] == issuer
    assert oidc["authorization_endpoint"] == f"{domain_url}/oauth2/authorize"
    assert oidc["token_endpoint"] == f"{domain_url}/oauth2/token"
    assert oidc["userinfo_endpoint"] == f"{domain_url}/oauth2/userInfo"

    verifier, nonce = generate_token(64), generate_token(20)
    url, state = session.create_authorization_url(
        oidc["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = sign_in_on_the_domain(domain_url, url)
    returned = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert returned["state"] == state
    assert returned["iss"] == issuer

    token = session.fetch_token(
        oidc["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    jwks = requests.get(oidc["jwks_uri"], timeout=10).json()
    claims = JsonWebToken(["RS256"]).decode(
        token["id_token"],
        JsonWebKey.import_key_set(jwks),
        claims_options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": app.client_id},
            "nonce": {"essential": True, "value": nonce},
        },
    )
    claims.validate()
    assert claims["iss"] == issuer
    assert claims["sub"] == str(user.sub)

    info = session.get(oidc["userinfo_endpoint"], timeout=10)
    assert info.status_code == 200 and info.json()["sub"] == str(user.sub)


def test_an_unknown_host_on_the_same_server_is_refused(server, domain_url):
    port = urlsplit(domain_url).port
    browser = on_domain(requests.Session(), f"http://other.test.localhost:{port}")
    response = browser.get(f"http://other.test.localhost:{port}/login", timeout=10)
    assert response.status_code == 400
