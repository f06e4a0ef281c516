"""SAML 2.0 sign-in through the hosted UI, against a real IdP built on pysaml2's IdP side
(tests/saml_idp.py) on a loopback port: SP- and IdP-initiated round trips to a code and tokens,
every way a response must be refused, single logout, and our SP metadata."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from django.test import Client
from saml2 import BINDING_HTTP_POST
from saml2.config import SPConfig
from saml2.mdstore import MetadataStore

from hostedui.federation import saml
from pool import clock, crypto
from pool.models import SamlAssertionUse, SamlServiceProviderKey, User, UserStatus
from pool.services import identity_providers as idps
from tests import factories
from tests.hostedui.conftest import CALLBACK, authorize_url, exchange_code, redirect_params
from tests.parallel import burst
from tests.saml_idp import EMAIL, GIVEN_NAME, SamlIdp, form_fields

PROVIDER = "CorpSAML"


@pytest.fixture
def idp():
    server = SamlIdp()
    yield server
    server.close()


@pytest.fixture
def saml_pool(db):
    return factories.make_pool()


@pytest.fixture
def provider(saml_pool, idp):
    provider = idps.create_identity_provider(
        pool=saml_pool,
        provider_name=PROVIDER,
        provider_type="SAML",
        details={"MetadataURL": idp.entity_id, "IDPSignout": "true", "IDPInit": "true"},
        attribute_mapping={"email": EMAIL, "given_name": GIVEN_NAME},
    )
    idp.trust(saml.sp_metadata(saml_pool))
    return provider


@pytest.fixture
def app(saml_pool, provider):
    return factories.make_client(
        saml_pool,
        supported_identity_providers=["COGNITO", PROVIDER],
        allowed_oauth_scopes=["openid", "email", "profile"],
    )


def _to_idp(browser: Client, pool, app) -> str:
    """authorize with identity_provider: the redirect to the IdP's SSO URL."""
    response = browser.get(authorize_url(pool, app, identity_provider=PROVIDER))
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    assert location.startswith("http://127.0.0.1:")
    return location


def _idp_answer(location: str) -> dict[str, str]:
    """The browser at the IdP: its auto-posting form's fields."""
    import requests

    page = requests.get(location, timeout=10)
    assert page.status_code == 200, page.text[:500]
    return form_fields(page.text)


def _post_to_acs(browser: Client, pool, fields: dict[str, str]):
    """POST to the ACS as a browser does, following our relay page when the cross-site POST
    came without our session cookie."""
    response = browser.post(f"/{pool.id}/saml2/idpresponse", fields)
    if response.status_code == 200 and b"relayForm" in response.content:
        relayed = form_fields(response.content.decode())
        response = browser.post(
            f"/{pool.id}/saml2/idpresponse", {**relayed, "_cognate_relayed": "1"}
        )
    return response


def sp_initiated(browser: Client, pool, app):
    """SP-initiated sign-in: authorize -> IdP -> our ACS; the ACS's answer."""
    fields = _idp_answer(_to_idp(browser, pool, app))
    return _post_to_acs(browser, pool, fields)


def _id_token_claims(browser, pool, app, response) -> dict:
    code = redirect_params(response)["code"]
    tokens = exchange_code(browser, pool, app, code)
    assert tokens.status_code == 200, tokens.content
    return jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})


def idp_initiated_fields(idp, pool, app, **relay) -> dict[str, str]:
    relay_state = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": CALLBACK,
        "identity_provider": PROVIDER,
        "scope": "openid email",
        **relay,
    }
    if not app.is_confidential:
        from hostedui.oauth import pkce
        from tests.hostedui.conftest import VERIFIER

        relay_state.update(code_challenge=pkce.s256(VERIFIER), code_challenge_method="S256")
    return {
        "SAMLResponse": idp.idp_initiated(
            sp_entity_id=saml.entity_id(pool), acs=saml.acs_url(pool)
        ),
        "RelayState": urlencode(relay_state),
    }


def assert_refused(response, error: str = "invalid_request") -> dict:
    """An OAuth error back at the app, never a 500, and nobody signed in."""
    params = redirect_params(response)
    assert params["error"] == error, params
    assert response["Location"].startswith(CALLBACK)
    assert "code" not in params
    return params


# ----------------------------------------------------------------------------- happy paths


def test_sp_initiated_sign_in_reaches_the_app_with_tokens_naming_the_provider(
    client, saml_pool, app, idp
):
    response = sp_initiated(client, saml_pool, app)
    claims = _id_token_claims(client, saml_pool, app, response)
    assert claims["cognito:username"] == f"{PROVIDER}_jdoe"
    assert claims["email"] == "jdoe@example.org"
    assert claims["given_name"] == "Jane"
    assert f"{saml_pool.id}_{PROVIDER}" in claims["cognito:groups"]
    identities = claims["identities"]
    assert identities[0]["providerName"] == PROVIDER
    assert identities[0]["providerType"] == "SAML"
    assert identities[0]["userId"] == "jdoe"
    assert identities[0]["issuer"] == idp.entity_id
    user = User.objects.get(pool=saml_pool, username=f"{PROVIDER}_jdoe")
    assert user.status == UserStatus.EXTERNAL_PROVIDER


def test_the_authn_request_is_signed_and_names_our_acs(client, saml_pool, app, idp):
    location = _to_idp(client, saml_pool, app)
    query = parse_qs(urlsplit(location).query)
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    assert "Signature" in query
    # The IdP (with want_authn_requests_signed) verified it against our SP metadata.
    fields = _idp_answer(location)
    assert set(fields) == {"SAMLResponse", "RelayState"}


def test_idp_initiated_sign_in_with_relay_state_naming_the_client(client, saml_pool, app, idp):
    fields = idp_initiated_fields(idp, saml_pool, app)
    response = _post_to_acs(client, saml_pool, fields)
    claims = _id_token_claims(client, saml_pool, app, response)
    assert claims["cognito:username"] == f"{PROVIDER}_jdoe"


def test_a_post_without_our_cookie_is_relayed_through_our_own_page(saml_pool, app, idp):
    browser = Client()
    fields = idp_initiated_fields(idp, saml_pool, app)
    page = browser.post(f"/{saml_pool.id}/saml2/idpresponse", fields)
    assert page.status_code == 200
    relayed = form_fields(page.content.decode())
    assert relayed["SAMLResponse"] == fields["SAMLResponse"]
    response = browser.post(
        f"/{saml_pool.id}/saml2/idpresponse", {**relayed, "_cognate_relayed": "1"}
    )
    assert "code" in redirect_params(response)


def test_idp_initiated_refused_when_the_provider_does_not_allow_it(client, saml_pool, app, idp):
    idps.update_identity_provider(
        provider=app.pool.identity_providers.get(provider_name=PROVIDER),
        details={"MetadataURL": idp.entity_id},
    )
    response = _post_to_acs(client, saml_pool, idp_initiated_fields(idp, saml_pool, app))
    assert_refused(response)


@pytest.mark.parametrize("required", [False, True])
def test_encrypted_assertion_is_decrypted_with_the_pool_sp_key(
    client, saml_pool, app, idp, provider, required
):
    if required:
        idps.update_identity_provider(
            provider=provider,
            details={"MetadataURL": idp.entity_id, "EncryptedResponses": "true"},
        )
    idp.encrypt = True
    fields = _idp_answer(_to_idp(client, saml_pool, app))
    assert b"EncryptedAssertion" in base64.b64decode(fields["SAMLResponse"])
    response = _post_to_acs(client, saml_pool, fields)
    claims = _id_token_claims(client, saml_pool, app, response)
    assert claims["email"] == "jdoe@example.org"


def test_plain_assertion_refused_when_encrypted_responses_are_required(
    client, saml_pool, app, idp, provider
):
    idps.update_identity_provider(
        provider=provider, details={"MetadataURL": idp.entity_id, "EncryptedResponses": "true"}
    )
    assert_refused(sp_initiated(client, saml_pool, app))


def test_metadata_given_as_xml_instead_of_url(client, saml_pool, app, idp, provider):
    idps.update_identity_provider(provider=provider, details={"MetadataFile": idp.metadata()})
    response = sp_initiated(client, saml_pool, app)
    assert "code" in redirect_params(response)


def test_unreachable_metadata_is_an_oauth_error_for_the_app(client, saml_pool, app, provider):
    from tests.conftest import free_port

    idps.update_identity_provider(
        provider=provider, details={"MetadataURL": f"http://127.0.0.1:{free_port()}/metadata"}
    )
    response = client.get(authorize_url(saml_pool, app, identity_provider=PROVIDER))
    assert_refused(response, "server_error")


def test_sp_private_key_is_encrypted_at_rest(client, saml_pool):
    client.get(f"/{saml_pool.id}/saml2/metadata")
    row = SamlServiceProviderKey.objects.get(pool=saml_pool)
    assert "PRIVATE KEY" not in row.private_key
    assert "PRIVATE KEY" in crypto.decrypt(row.private_key)


# ---------------------------------------------------------------------- refused responses


def test_unsigned_assertion_is_refused(client, saml_pool, app, idp):
    idp.sign_assertion = False
    assert_refused(sp_initiated(client, saml_pool, app))


def test_unsigned_assertion_in_a_signed_response_is_refused(client, saml_pool, app, idp):
    idp.sign_assertion = False
    idp.sign_response = True
    assert_refused(sp_initiated(client, saml_pool, app))


def test_tampered_attribute_breaks_the_signature(client, saml_pool, app, idp):
    idp.tamper = ("jdoe@example.org", "admin@example.org")
    assert_refused(sp_initiated(client, saml_pool, app))
    assert not User.objects.filter(pool=saml_pool).exists()


def test_assertion_signed_by_another_key_is_refused(client, saml_pool, app, idp):
    impostor = SamlIdp()
    try:
        impostor.entity_id = idp.entity_id  # same name, its own key
        impostor.trust(saml.sp_metadata(saml_pool))
        location = _to_idp(client, saml_pool, app)
        request_id = _request_id(location)
        fields = {
            "SAMLResponse": impostor.authn_response(
                in_response_to=request_id,
                sp_entity_id=saml.entity_id(saml_pool),
                acs=saml.acs_url(saml_pool),
            ),
            "RelayState": parse_qs(urlsplit(location).query)["RelayState"][0],
        }
    finally:
        impostor.close()
    assert_refused(_post_to_acs(client, saml_pool, fields))


def _request_id(location: str) -> str:
    import zlib

    raw = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
    xml = zlib.decompress(base64.b64decode(raw), -15).decode()
    return xml.split(' ID="', 1)[1].split('"', 1)[0]


def test_wrong_audience_is_refused(client, saml_pool, app, idp):
    idp.audience = "urn:amazon:cognito:sp:someone_else"
    idp.trust(saml.sp_metadata(saml_pool))
    assert_refused(sp_initiated(client, saml_pool, app))


def test_wrong_destination_and_recipient_are_refused(client, saml_pool, app, idp):
    idp.destination = "https://elsewhere.example/saml2/idpresponse"
    assert_refused(sp_initiated(client, saml_pool, app))


def test_wrong_recipient_alone_is_refused(client, saml_pool, app, idp):
    idp.recipient = "https://elsewhere.example/saml2/idpresponse"
    fields = _idp_answer(_to_idp(client, saml_pool, app))
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert 'Recipient="https://elsewhere.example/saml2/idpresponse"' in xml
    assert f'Destination="{saml.acs_url(saml_pool)}"' in xml
    assert_refused(_post_to_acs(client, saml_pool, fields))


def test_expired_assertion_is_refused(client, saml_pool, app, idp):
    idp.lifetime_minutes = -10  # NotOnOrAfter ten minutes ago, beyond the skew
    assert_refused(sp_initiated(client, saml_pool, app))


def test_response_to_an_unknown_request_is_refused(client, saml_pool, app, idp):
    idp.in_response_to = "id-we-never-sent"
    assert_refused(sp_initiated(client, saml_pool, app))


def test_idp_initiated_response_that_answers_a_request_is_refused(client, saml_pool, app, idp):
    fields = idp_initiated_fields(idp, saml_pool, app)
    idp.in_response_to = "id-we-never-sent"
    fields["SAMLResponse"] = idp.authn_response(
        in_response_to=None, sp_entity_id=saml.entity_id(saml_pool), acs=saml.acs_url(saml_pool)
    )
    assert_refused(_post_to_acs(client, saml_pool, fields))


def test_idp_error_status_goes_back_to_the_app_as_an_oauth_error(client, saml_pool, app, idp):
    idp.fail_status = "User cancelled"
    params = assert_refused(sp_initiated(client, saml_pool, app), "access_denied")
    assert params["state"] == "st@te/ü 1"


def test_disabled_provider_is_refused(client, saml_pool, app, idp, provider):
    fields = idp_initiated_fields(idp, saml_pool, app)
    idps.update_identity_provider(provider=provider, enabled=False)
    assert_refused(_post_to_acs(client, saml_pool, fields))
    assert not User.objects.filter(pool=saml_pool).exists()


def test_disabled_provider_is_not_started(client, saml_pool, app, idp, provider):
    idps.update_identity_provider(provider=provider, enabled=False)
    response = client.get(authorize_url(saml_pool, app, identity_provider=PROVIDER))
    assert_refused(response)


def test_missing_or_forged_relay_state_gets_the_error_page(client, saml_pool, app, idp):
    fields = _idp_answer(_to_idp(client, saml_pool, app))
    for relay in ("", "forged-token-that-names-no-round-trip"):
        response = _post_to_acs(client, saml_pool, {**fields, "RelayState": relay})
        assert response.status_code == 400
        assert not User.objects.filter(pool=saml_pool).exists()


def test_round_trip_from_another_browser_is_refused(client, saml_pool, app, idp):
    fields = _idp_answer(_to_idp(client, saml_pool, app))
    other = Client()
    other.get(f"/{saml_pool.id}/saml2/metadata")  # a browser with a session of its own
    other.cookies.load({"cognate_session": "x"})
    response = _post_to_acs(other, saml_pool, {**fields, "_cognate_relayed": "1"})
    assert response.status_code == 400
    assert not User.objects.filter(pool=saml_pool).exists()


def test_garbage_saml_response_is_an_oauth_error_not_a_500(client, saml_pool, app, idp):
    fields = idp_initiated_fields(idp, saml_pool, app)
    for garbage in ("not base64 at all!", base64.b64encode(b"<notsaml/>").decode(), "x" * 100_001):
        assert_refused(_post_to_acs(client, saml_pool, {**fields, "SAMLResponse": garbage}))


# ---------------------------------------------------------------------------------- replay


def test_replayed_assertion_is_refused(client, saml_pool, app, idp):
    fields = idp_initiated_fields(idp, saml_pool, app)
    first = _post_to_acs(client, saml_pool, fields)
    assert "code" in redirect_params(first)
    # Remembered until the assertion's NotOnOrAfter (the IdP gives it five minutes).
    used = SamlAssertionUse.objects.get(pool=saml_pool)
    remaining = (used.expires_at - clock.now()).total_seconds()
    assert 200 < remaining <= 300
    assert_refused(_post_to_acs(Client(), saml_pool, {**fields, "_cognate_relayed": "1"}))
    assert_refused(_post_to_acs(client, saml_pool, fields))


def test_sp_initiated_answer_cannot_be_used_twice(client, saml_pool, app, idp):
    fields = _idp_answer(_to_idp(client, saml_pool, app))
    assert "code" in redirect_params(_post_to_acs(client, saml_pool, fields))
    again = _post_to_acs(client, saml_pool, fields)
    assert again.status_code == 400  # the round trip is spent


@pytest.mark.django_db(transaction=True)
def test_replayed_assertion_in_parallel_one_wins(saml_pool, app, idp):
    fields = {**idp_initiated_fields(idp, saml_pool, app), "_cognate_relayed": "1"}

    def post():
        return _post_to_acs(Client(), saml_pool, fields)

    outcomes = burst(post, 4)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    errors = [redirect_params(o).get("error") for o in outcomes]
    assert sorted(errors, key=str) == [
        None,
        "invalid_request",
        "invalid_request",
        "invalid_request",
    ]
    assert SamlAssertionUse.objects.filter(pool=saml_pool).count() == 1


# --------------------------------------------------------------------------- SP metadata


def test_sp_metadata_is_served_and_parseable_by_pysaml2(client, saml_pool):
    response = client.get(f"/{saml_pool.id}/saml2/metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/samlmetadata+xml"
    config = SPConfig()
    config.load({"entityid": "urn:test"})
    store = MetadataStore(attrc=config.attribute_converters, config=config)
    store.load("inline", response.content.decode())
    entity = saml.entity_id(saml_pool)
    assert entity in list(store.keys())  # noqa: SIM118 (MetadataStore has no __contains__)
    acs = store.assertion_consumer_service(entity, BINDING_HTTP_POST)
    assert [a["location"] for a in acs] == [saml.acs_url(saml_pool)]
    assert store.certs(entity, "spsso", "signing")
    assert store.certs(entity, "spsso", "encryption")
    # The same key pair on every call: made once per pool.
    assert client.get(f"/{saml_pool.id}/saml2/metadata").content == response.content


def test_sp_metadata_of_an_unknown_pool_is_404(client, db):
    assert client.get("/local_Nope0000/saml2/metadata").status_code == 404


# ------------------------------------------------------------------------------- logout


def test_single_logout_round_trip(client, saml_pool, app, idp):
    response = sp_initiated(client, saml_pool, app)
    assert "code" in redirect_params(response)
    logout = client.get(
        f"/{saml_pool.id}/logout?"
        + urlencode({"client_id": app.client_id, "logout_uri": "http://localhost:3000/"})
    )
    assert logout.status_code == 302
    assert logout["Location"].startswith(f"{idp.base}/slo/redirect?")
    import requests

    at_idp = requests.get(logout["Location"], allow_redirects=False, timeout=10)
    assert at_idp.status_code == 302, at_idp.text
    assert idp.logout_requests[-1].name_id.text == "jdoe"
    back = urlsplit(at_idp.headers["Location"])
    assert back.path == f"/{saml_pool.id}/saml2/logout"
    unsigned = {
        k: v[0] for k, v in parse_qs(back.query).items() if k not in ("Signature", "SigAlg")
    }
    assert client.get(f"{back.path}?{urlencode(unsigned)}").status_code == 400
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302
    assert done["Location"] == "http://localhost:3000/"
    # Signed out here: authorize goes to the sign-in page again.
    again = client.get(authorize_url(saml_pool, app))
    assert "/login?" in again["Location"]
    # The LogoutResponse is single use.
    assert client.get(f"{back.path}?{back.query}").status_code == 400


def test_idp_initiated_logout_ends_the_hosted_session(client, saml_pool, app, idp):
    sp_initiated(client, saml_pool, app)
    assert "code" in redirect_params(client.get(authorize_url(saml_pool, app)))
    url = idp.logout_request_url(
        sp_entity_id=saml.entity_id(saml_pool), slo=saml.slo_url(saml_pool), name_id_text="jdoe"
    )
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{idp.base}/slo/redirect?")
    assert "SAMLResponse=" in response["Location"]
    assert "/login?" in client.get(authorize_url(saml_pool, app))["Location"]


@pytest.mark.parametrize("forgery", ["unsigned", "bad signature"])
def test_unsigned_or_badly_signed_idp_logout_request_is_refused(
    client, saml_pool, app, idp, forgery
):
    sp_initiated(client, saml_pool, app)
    url = idp.logout_request_url(
        sp_entity_id=saml.entity_id(saml_pool), slo=saml.slo_url(saml_pool), name_id_text="jdoe"
    )
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if forgery == "unsigned":
        del query["Signature"], query["SigAlg"]
    else:
        signature = bytearray(base64.b64decode(query["Signature"]))
        signature[10] ^= 0xFF
        query["Signature"] = base64.b64encode(bytes(signature)).decode()
    response = client.get(f"{parts.path}?{urlencode(query)}")
    assert response.status_code == 400
    assert "code" in redirect_params(client.get(authorize_url(saml_pool, app)))


def test_logout_without_idp_signout_stays_local(client, saml_pool, app, idp, provider):
    idps.update_identity_provider(provider=provider, details={"MetadataURL": idp.entity_id})
    assert "code" in redirect_params(sp_initiated(client, saml_pool, app))
    logout = client.get(
        f"/{saml_pool.id}/logout?"
        + urlencode({"client_id": app.client_id, "logout_uri": "http://localhost:3000/"})
    )
    assert logout["Location"] == "http://localhost:3000/"
    assert idp.logout_requests == []
    assert "/login?" in client.get(authorize_url(saml_pool, app))["Location"]


@pytest.mark.django_db(transaction=True)
def test_parallel_first_requests_make_one_sp_key_pair(saml_pool):
    def fetch():
        return Client().get(f"/{saml_pool.id}/saml2/metadata")

    outcomes = burst(fetch, 4)
    assert all(getattr(o, "status_code", None) == 200 for o in outcomes), outcomes
    assert len({o.content for o in outcomes}) == 1
    assert SamlServiceProviderKey.objects.filter(pool=saml_pool).count() == 1


def test_the_spec_names_are_pysaml2s():
    """hostedui.federation.saml spells the binding and algorithm URIs itself (pysaml2 loads
    only when a SAML request comes): they are the ones pysaml2 defines."""
    import saml2
    from saml2 import xmldsig

    assert saml.BINDING_HTTP_POST == saml2.BINDING_HTTP_POST
    assert saml.BINDING_HTTP_REDIRECT == saml2.BINDING_HTTP_REDIRECT
    assert saml.RSA_SHA256 == xmldsig.SIG_RSA_SHA256
    assert saml.DIGEST_SHA256 == xmldsig.DIGEST_SHA256
