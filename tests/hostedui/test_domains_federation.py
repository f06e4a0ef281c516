"""Federated sign-in started on a pool's own host name comes back to that host name, as
Cognito's `https://{domain}/oauth2/idpresponse` and `/saml2/idpresponse`: the browser's session
(and with it the round trip) is the domain's."""

from __future__ import annotations

import jwt
import pytest
import requests
from django.test import Client

from hostedui.federation import saml
from pool import jwt as pool_jwt
from pool.services import domains
from pool.services import identity_providers as idps
from tests import factories
from tests.hostedui.conftest import CALLBACK, VERIFIER, authorize_url
from tests.hostedui.upstreams import STANDIN_CLIENT_ID, STANDIN_SECRET, StandIn, to_app
from tests.saml_idp import EMAIL, SamlIdp, form_fields

pytestmark = pytest.mark.django_db

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/abcdef-123"
DOMAIN = "auth.example.com"
ON_DOMAIN = f"http://{DOMAIN}:8000"


@pytest.fixture
def domain_pool(settings, pool):
    settings.PUBLIC_URL = "http://localhost:8000"
    domains.create_domain(pool=pool, domain=DOMAIN, certificate_arn=ARN)
    return pool


def on_domain(path: str) -> str:
    """A hosted URL of the test helpers, moved from `/{pool}/…` to the domain's `/…`."""
    return "/" + path.split("/", 2)[2]


def exchange(browser: Client, app, code: str) -> dict:
    response = browser.post(
        "/oauth2/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": app.client_id,
            "code_verifier": VERIFIER,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def standin():
    upstream = StandIn()
    yield upstream
    upstream.close()


def test_oidc_sign_in_started_on_the_domain_comes_back_there(domain_pool, standin):
    idps.create_identity_provider(
        pool=domain_pool,
        provider_name="StandIn",
        provider_type="OIDC",
        details={
            "client_id": STANDIN_CLIENT_ID,
            "client_secret": STANDIN_SECRET,
            "attributes_request_method": "GET",
            "oidc_issuer": standin.issuer,
            "authorize_scopes": "openid email",
        },
        attribute_mapping={"email": "email"},
    )
    app = factories.make_client(domain_pool, supported_identity_providers=["StandIn"])
    browser = Client(HTTP_HOST=DOMAIN)
    upstream = browser.get(on_domain(authorize_url(domain_pool, app, identity_provider="StandIn")))
    assert upstream.status_code == 302, upstream.content[:300]
    sent = standin.authorized(upstream["Location"])
    assert sent["redirect_uri"] == f"{ON_DOMAIN}/oauth2/idpresponse"

    answer = to_app(browser.get("/oauth2/idpresponse", {"code": "c", "state": sent["state"]}))
    assert standin.token_requests[-1]["redirect_uri"] == [sent["redirect_uri"]]
    claims = jwt.decode(
        exchange(browser, app, answer["code"])["id_token"], options={"verify_signature": False}
    )
    assert claims["iss"] == pool_jwt.issuer(domain_pool)
    assert claims["email"] == "sam@example.com"


@pytest.fixture
def idp():
    server = SamlIdp()
    yield server
    server.close()


def test_saml_sign_in_started_on_the_domain_comes_back_there(domain_pool, idp):
    idps.create_identity_provider(
        pool=domain_pool,
        provider_name="CorpSAML",
        provider_type="SAML",
        details={"MetadataURL": idp.entity_id},
        attribute_mapping={"email": EMAIL},
    )
    browser = Client(HTTP_HOST=DOMAIN)
    metadata = browser.get("/saml2/metadata").content.decode()
    assert f"{ON_DOMAIN}/saml2/idpresponse" in metadata
    assert saml.acs_url(domain_pool) == f"http://localhost:8000/{domain_pool.id}/saml2/idpresponse"
    idp.trust(metadata)
    app = factories.make_client(domain_pool, supported_identity_providers=["CorpSAML"])

    to_idp = browser.get(on_domain(authorize_url(domain_pool, app, identity_provider="CorpSAML")))
    assert to_idp.status_code == 302, to_idp.content[:300]
    fields = form_fields(requests.get(to_idp["Location"], timeout=10).text)
    answer = browser.post("/saml2/idpresponse", fields)
    if answer.status_code == 200 and b"relayForm" in answer.content:
        relayed = form_fields(answer.content.decode())
        answer = browser.post("/saml2/idpresponse", {**relayed, "_cognate_relayed": "1"})
    code = to_app(answer)["code"]
    claims = jwt.decode(
        exchange(browser, app, code)["id_token"], options={"verify_signature": False}
    )
    assert claims["iss"] == pool_jwt.issuer(domain_pool)
