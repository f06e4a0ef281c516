"""Sign-in through an upstream OpenID provider, door to door.

The round trips run against real providers on loopback: the npm registry's OpenID-certified
`oidc-provider` (Node.js) and a second Cognate pool on the same live server. The crafted-token
negatives (other audience, expired, other key, an earlier round's nonce) use a small stand-in
that signs what the test asks for; the validation is the real library's either way."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import requests
from django.core.cache import cache
from django.test import Client

from hostedui.federation import state as round_trips
from pool import clock
from pool import jwt as pool_jwt
from pool.models import AuthEvent, FederatedIdentity, IdentityProvider, User, UserStatus
from pool.services import identity_providers as idp_service
from tests import factories, parallel
from tests.api.js_clients import NODE, install_node_modules
from tests.hostedui.conftest import CALLBACK, VERIFIER, authorize_url
from tests.hostedui.upstreams import (
    STANDIN_CLIENT_ID,
    STANDIN_SECRET,
    OidcProviderUpstream,
    StandIn,
    back,
    params_of,
    to_app,
    tokens_for,
)

pytestmark = pytest.mark.django_db

THREADS = 4
MAPPING = {"email": "email", "email_verified": "email_verified", "name": "name"}


# ------------------------------------------------------------- the stand-in (crafted tokens)


@pytest.fixture
def standin():
    upstream = StandIn()
    yield upstream
    upstream.close()


@pytest.fixture
def provider(pool, standin) -> IdentityProvider:
    return idp_service.create_identity_provider(
        pool=pool,
        provider_name="StandIn",
        provider_type="OIDC",
        details={
            "client_id": STANDIN_CLIENT_ID,
            "client_secret": STANDIN_SECRET,
            "attributes_request_method": "GET",
            "oidc_issuer": standin.issuer,
            "authorize_scopes": "openid email profile",
        },
        attribute_mapping=MAPPING,
    )


@pytest.fixture
def fed_client(pool, provider):
    return factories.make_client(pool, supported_identity_providers=["COGNITO", "StandIn"])


def go(client, pool, app, standin, **params) -> dict[str, str]:
    """authorize with identity_provider=StandIn: the browser goes straight upstream."""
    response = client.get(authorize_url(pool, app, identity_provider="StandIn", **params))
    assert response.status_code == 302, response.content[:500]
    return standin.authorized(response["Location"])


def test_authorize_goes_upstream_with_state_nonce_and_pkce(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    assert sent["client_id"] == STANDIN_CLIENT_ID
    assert sent["redirect_uri"] == f"{pool_jwt.issuer(pool)}/oauth2/idpresponse"
    assert sent["response_type"] == "code"
    assert sent["scope"] == "openid email profile"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert len(sent["state"]) >= 32 and len(sent["nonce"]) >= 32


def test_round_trip_signs_in_a_federated_user(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    answer = to_app(back(client, pool, code="upstream-code", state=sent["state"]))
    assert answer["state"] == "st@te/ü 1"
    form = standin.token_requests[-1]
    assert form["code"] == ["upstream-code"] and form["client_secret"] == [STANDIN_SECRET]
    assert form["redirect_uri"] == [sent["redirect_uri"]]
    assert form["code_verifier"][0]  # PKCE towards the provider

    tokens = tokens_for(client, pool, fed_client, answer["code"])
    claims = pool_jwt.verify(pool, tokens["id_token"], token_use="id")
    assert claims["cognito:username"] == "StandIn_standin-user-1"
    assert claims["email"] == "sam@example.com" and claims["email_verified"] is True
    identities = claims["identities"]
    identities = json.loads(identities) if isinstance(identities, str) else identities
    assert identities[0]["providerName"] == "StandIn"
    assert identities[0]["userId"] == "standin-user-1"
    assert f"{pool.id}_StandIn" in claims["cognito:groups"]
    user = User.objects.get(pool=pool, username="StandIn_standin-user-1")
    assert user.status == UserStatus.EXTERNAL_PROVIDER


def test_provider_that_takes_only_basic_auth_gets_it(client, pool, fed_client, standin):
    standin.auth_methods = ["client_secret_basic", "private_key_jwt"]
    sent = go(client, pool, fed_client, standin)
    to_app(back(client, pool, code="c", state=sent["state"]))
    form = standin.token_requests[-1]
    assert "client_secret" not in form
    expected = base64.b64encode(f"{STANDIN_CLIENT_ID}:{STANDIN_SECRET}".encode()).decode()
    assert form["_authorization"] == [f"Basic {expected}"]


def test_hosted_session_of_a_federated_user_is_honoured(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    to_app(back(client, pool, code="c", state=sent["state"]))
    # The next authorize without identity_provider: straight back with a code, no upstream.
    again = client.get(authorize_url(pool, fed_client))
    assert "code" in to_app(again)
    assert len(standin.token_requests) == 1


def test_attributes_are_mapped_again_on_every_sign_in(client, pool, fed_client, standin):
    standin.claims = {"email": "sam@example.com", "email_verified": True, "name": "Sam"}
    to_app(back(client, pool, code="c", state=go(client, pool, fed_client, standin)["state"]))
    standin.claims = {"email": "sam@example.com", "email_verified": True, "name": "Samuel"}
    client.cookies.clear()
    to_app(back(client, pool, code="c", state=go(client, pool, fed_client, standin)["state"]))
    user = User.objects.get(pool=pool, username="StandIn_standin-user-1")
    assert user.attribute_map()["name"] == "Samuel"


def test_email_verified_only_when_the_provider_asserts_it(client, pool, fed_client, standin):
    standin.claims = {"email": "sam@example.com", "email_verified": False}
    answer = to_app(
        back(client, pool, code="c", state=go(client, pool, fed_client, standin)["state"])
    )
    claims = pool_jwt.verify(
        pool, tokens_for(client, pool, fed_client, answer["code"])["id_token"], token_use="id"
    )
    assert claims["email_verified"] is False


# --------------------------------------------------------------------------------- negatives


def test_missing_state_gets_the_error_page(client, pool, fed_client, standin):
    go(client, pool, fed_client, standin)
    response = back(client, pool, code="c")
    assert response.status_code == 400 and b"invalid_state" in response.content
    assert standin.token_requests == []


def test_forged_state_gets_the_error_page(client, pool, fed_client, standin):
    go(client, pool, fed_client, standin)
    response = back(client, pool, code="c", state="x" * 43)
    assert response.status_code == 400 and b"invalid_state" in response.content
    assert standin.token_requests == []


def test_replayed_state_gets_the_error_page(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    to_app(back(client, pool, code="c", state=sent["state"]))
    replay = back(client, pool, code="c", state=sent["state"])
    assert replay.status_code == 400 and b"invalid_state" in replay.content
    assert len(standin.token_requests) == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_callbacks_with_one_state_sign_in_once(client, pool, fed_client, standin):
    """The same callback sent N times at once from the browser (its session cookie in each):
    one exchanges the code and signs in; the others get the error page."""
    sent = go(client, pool, fed_client, standin)
    browsers = []
    for _ in range(THREADS):
        browser = Client()
        browser.cookies = copy.deepcopy(client.cookies)
        browsers.append(browser)
    results = parallel.run_together(
        [lambda b=b: back(b, pool, code="c", state=sent["state"]) for b in browsers]
    )
    codes = [r for r in results if r.status_code == 302 and "code=" in r["Location"]]
    refused = [r for r in results if r.status_code == 400]
    assert len(codes) == 1 and len(refused) == THREADS - 1, results
    assert len(standin.token_requests) == 1


def test_state_from_another_browser_is_refused(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    other = Client()
    response = back(other, pool, code="c", state=sent["state"])
    assert response.status_code == 400
    assert standin.token_requests == []


def test_expired_round_trip_is_refused(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    clock.freeze(clock.now() + dt.timedelta(seconds=round_trips.LIFETIME + 1))
    response = back(client, pool, code="c", state=sent["state"])
    assert response.status_code == 400


def _refused(response, fragment: str = "") -> dict[str, str]:
    answer = to_app(response)
    assert "code" not in answer and answer["error"], answer
    assert fragment in answer.get("error_description", ""), answer
    return answer


def test_replayed_nonce_is_refused(client, pool, fed_client, standin):
    first = go(client, pool, fed_client, standin)
    to_app(back(client, pool, code="c", state=first["state"]))
    earlier_nonce = standin.nonce
    client.cookies.clear()
    second = go(client, pool, fed_client, standin)
    standin.overrides = {"nonce": earlier_nonce}  # the ID token of the earlier round
    answer = _refused(back(client, pool, code="c", state=second["state"]), "nonce")
    assert answer["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"aud": "someone-else"}, "aud"),
        ({"exp": 1_000_000_000, "iat": 999_999_000}, "exp"),
        ({"iss": "https://evil.example"}, "iss"),
        ({"nonce": None}, "nonce"),
    ],
    ids=["wrong-audience", "expired", "wrong-issuer", "no-nonce"],
)
def test_bad_id_token_is_refused(client, pool, fed_client, standin, overrides, fragment):
    sent = go(client, pool, fed_client, standin)
    standin.overrides = overrides
    _refused(back(client, pool, code="c", state=sent["state"]), fragment)
    assert not User.objects.filter(pool=pool, username__startswith="StandIn_").exists()


def test_id_token_signed_by_another_key_is_refused(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    standin.sign_with = standin.other_key
    _refused(back(client, pool, code="c", state=sent["state"]), "signature")
    assert not User.objects.filter(pool=pool, username__startswith="StandIn_").exists()
    event = AuthEvent.objects.filter(pool=pool, success=False).latest("pk")
    assert event.reason.startswith("StandIn: Invalid ID token")


def test_authorization_response_from_another_issuer_is_refused(client, pool, fed_client, standin):
    """RFC 9207: an answer whose `iss` is not this provider's is a mix-up, not a sign-in."""
    sent = go(client, pool, fed_client, standin)
    response = back(client, pool, code="c", state=sent["state"], iss="https://evil.example")
    _refused(response, "issuer")
    assert standin.token_requests == []


def test_authorization_response_with_its_own_issuer_is_taken(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    assert "code" in to_app(back(client, pool, code="c", state=sent["state"], iss=standin.issuer))


def test_upstream_error_goes_back_to_the_app(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    response = back(
        client, pool, error="access_denied", error_description="User said no", state=sent["state"]
    )
    answer = _refused(response, "User said no")
    assert answer["error"] == "access_denied"
    assert answer["state"] == "st@te/ü 1"
    assert standin.token_requests == []


def test_code_refused_by_the_provider_goes_back_to_the_app(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    standin.error = "invalid_grant"
    _refused(back(client, pool, code="c", state=sent["state"]), "invalid_grant")


def test_unreachable_provider_goes_back_to_the_app(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    standin.close()
    cache.clear()  # the discovery document must be fetched again, from nobody
    _refused(back(client, pool, code="c", state=sent["state"]))


def test_disabled_provider_is_refused(client, pool, fed_client, standin, provider):
    IdentityProvider.objects.filter(pk=provider.pk).update(enabled=False)
    response = client.get(authorize_url(pool, fed_client, identity_provider="StandIn"))
    _refused(response, "disabled")


def test_provider_disabled_during_the_round_trip_is_refused(
    client, pool, fed_client, standin, provider
):
    sent = go(client, pool, fed_client, standin)
    IdentityProvider.objects.filter(pk=provider.pk).update(enabled=False)
    _refused(back(client, pool, code="c", state=sent["state"]), "disabled")
    assert standin.token_requests == []


def test_provider_the_client_does_not_list_is_refused(client, pool, provider):
    app = factories.make_client(pool, supported_identity_providers=["COGNITO"])
    answer = _refused(client.get(authorize_url(pool, app, identity_provider="StandIn")))
    assert answer["error"] == "unauthorized_client"


@pytest.mark.parametrize("name", ["Nobody", "x" * 5000, "Stand\x00In", "StandIn\u202e"])
def test_unknown_provider_is_refused(client, pool, fed_client, name):
    _refused(client.get(authorize_url(pool, fed_client, identity_provider=name)))


@pytest.mark.parametrize("identifier", ["a@b\x00.org", "x" * 5000 + "@example.org"])
def test_odd_idp_identifier_stays_on_the_sign_in_page(client, pool, fed_client, identifier):
    response = client.get(authorize_url(pool, fed_client, idp_identifier=identifier))
    assert response.status_code == 302 and f"/{pool.id}/login?" in response["Location"]


def test_unreachable_provider_at_the_start_goes_back_to_the_app(client, pool, fed_client, standin):
    standin.close()  # discovery cannot be read
    _refused(client.get(authorize_url(pool, fed_client, identity_provider="StandIn")))


def test_discovery_behind_a_redirect_is_not_followed(client, pool, standin, provider):
    """Sign-in reads a provider through the console check's fetch: no redirects."""
    idp_service.update_identity_provider(
        provider=provider, details={**provider.details, "oidc_issuer": f"{standin.issuer}/moved"}
    )
    app = factories.make_client(pool, supported_identity_providers=["StandIn"])
    _refused(client.get(authorize_url(pool, app, identity_provider="StandIn")))


@pytest.mark.parametrize(
    "params",
    [
        {"code": "c\x00", "state": "s\x00"},
        {"state": "\u202e" * 600},
        {"error": "x" * 5000, "state": "y"},
        {"code": ["a", "b"], "state": ["s", "t"]},
    ],
    ids=["nul", "long-state", "long-error", "repeated"],
)
def test_odd_callbacks_get_the_error_page_never_a_500(client, pool, fed_client, standin, params):
    go(client, pool, fed_client, standin)
    assert back(client, pool, **params).status_code == 400
    response = client.post(f"/{pool.id}/oauth2/idpresponse", params)
    assert response.status_code in (200, 400)  # the relay page, or the error page
    assert standin.token_requests == []


def test_disabled_federated_user_goes_back_to_the_app(client, pool, fed_client, standin):
    to_app(back(client, pool, code="c", state=go(client, pool, fed_client, standin)["state"]))
    User.objects.filter(pool=pool, username="StandIn_standin-user-1").update(enabled=False)
    client.cookies.clear()
    sent = go(client, pool, fed_client, standin)
    _refused(back(client, pool, code="c", state=sent["state"]), "disabled")


def test_callback_for_an_unknown_pool_is_not_found(client, pool, fed_client, standin):
    sent = go(client, pool, fed_client, standin)
    response = client.get(
        "/local_Nope1234/oauth2/idpresponse", {"code": "c", "state": sent["state"]}
    )
    assert response.status_code == 404
    assert standin.token_requests == []


def test_relayed_post_without_a_session_is_refused_not_relayed_again(pool, fed_client, standin):
    browser = Client()
    sent = go(browser, pool, fed_client, standin)
    response = Client().post(
        f"/{pool.id}/oauth2/idpresponse",
        {"code": "c", "state": sent["state"], "_cognate_relayed": "1"},
    )
    assert response.status_code == 400 and b"invalid_state" in response.content
    assert standin.token_requests == []


def test_email_collision_never_signs_in_as_the_native_user(client, pool, fed_client, standin):
    """An upstream account asserting a native user's (unverified) email gets its own user:
    never a session or tokens of the native user, never a silent link."""
    native = factories.make_user(pool, "carol", email="carol@example.com", email_verified=False)
    standin.claims = {"email": "carol@example.com", "email_verified": True}
    sent = go(client, pool, fed_client, standin)
    answer = to_app(back(client, pool, code="c", state=sent["state"]))
    tokens = tokens_for(client, pool, fed_client, answer["code"])
    claims = pool_jwt.verify(pool, tokens["id_token"], token_use="id")
    assert claims["sub"] != str(native.sub)
    assert claims["cognito:username"] == "StandIn_standin-user-1"
    assert not FederatedIdentity.objects.filter(user=native).exists()
    # The native user still signs in with their own password, as themselves only.
    native.refresh_from_db()
    assert native.status == UserStatus.CONFIRMED and native.email_verified is False


# ------------------------------------------------------------------ buttons and routing


def test_sign_in_and_sign_up_pages_show_a_button_per_provider(client, pool, fed_client):
    pool.allow_self_sign_up = True
    pool.save()
    for page in ("login", "signup"):
        html = client.get(
            f"/{pool.id}/{page}?{urlsplit(authorize_url(pool, fed_client)).query}"
        ).content.decode()
        assert "Sign in with StandIn" in html
        assert "identity_provider=StandIn" in html


def test_pages_hide_providers_the_client_does_not_list(client, pool, provider, app_client):
    html = client.get(f"/{pool.id}/login?{urlsplit(authorize_url(pool, app_client)).query}")
    assert "StandIn" not in html.content.decode()


def test_idp_identifier_routes_by_email_domain(client, pool, fed_client, standin, provider):
    idp_service.update_identity_provider(provider=provider, idp_identifiers=["example.org"])
    response = client.get(authorize_url(pool, fed_client, idp_identifier="ann@Example.org"))
    standin.authorized(response["Location"])
    html = client.get(
        f"/{pool.id}/login?{urlsplit(authorize_url(pool, fed_client)).query}"
    ).content.decode()
    assert 'name="idp_identifier"' in html


def test_unknown_idp_identifier_stays_on_the_sign_in_page(client, pool, fed_client, provider):
    response = client.get(authorize_url(pool, fed_client, idp_identifier="ann@elsewhere.org"))
    assert response.status_code == 302 and f"/{pool.id}/login?" in response["Location"]


# ------------------------------------------------------- oidc-provider (npm), over the wire


@pytest.fixture(scope="session")
def node_modules() -> None:
    if NODE is None:
        pytest.skip("node is not installed")
    install_node_modules()


@pytest.fixture
def live(live_server, settings) -> str:
    settings.PUBLIC_URL = live_server.url
    return live_server.url


def follow(browser: requests.Session, response: requests.Response, *, until: str):
    """Follow redirects by hand until one points at `until` (the app's callback)."""
    for _ in range(10):
        if response.status_code not in (302, 303):
            return response
        location = requests.compat.urljoin(response.url, response.headers["Location"])
        if location.startswith(until):
            return response
        response = browser.get(location, allow_redirects=False)
    raise AssertionError("too many redirects")


def callback_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text[:800]
    assert response.headers["Location"].startswith(CALLBACK), response.headers["Location"]
    return params_of(response.headers["Location"])


def live_tokens(live: str, pool, app, code: str) -> dict:
    response = requests.post(
        f"{live}/{pool.id}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app.client_id,
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": VERIFIER,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


NODE_SECRET = "upstream-secret-0123456789abcdef"


@contextmanager
def node_idp(live: str, pool, *, accounts: dict, scopes: str, mapping: dict | None = None):
    """oidc-provider on loopback with our pool as its client, and the pool's provider
    `NodeIdP` pointing at it."""
    upstream = OidcProviderUpstream(
        clients=[
            {
                "client_id": "cognate",
                "client_secret": NODE_SECRET,
                "redirect_uris": [f"{live}/{pool.id}/oauth2/idpresponse"],
                "token_endpoint_auth_method": "client_secret_post",
            }
        ],
        accounts=accounts,
    )
    try:
        idp_service.create_identity_provider(
            pool=pool,
            provider_name="NodeIdP",
            provider_type="OIDC",
            details={
                "client_id": "cognate",
                "client_secret": NODE_SECRET,
                "attributes_request_method": "GET",
                "oidc_issuer": upstream.issuer,
                "authorize_scopes": scopes,
            },
            attribute_mapping=mapping,
        )
        yield upstream
    finally:
        upstream.close()


@pytest.mark.node
@pytest.mark.django_db(transaction=True)
def test_round_trip_through_oidc_provider(node_modules, live):
    pool = factories.make_pool(name="fed-oidc")
    accounts = {"ada": {"email": "ada@example.com", "email_verified": True, "name": "Ada L."}}
    with node_idp(
        live, pool, accounts=accounts, scopes="openid email profile", mapping=MAPPING
    ) as upstream:
        app = factories.make_client(pool, supported_identity_providers=["COGNITO", "NodeIdP"])
        browser = requests.Session()
        start = browser.get(
            live + authorize_url(pool, app, identity_provider="NodeIdP"), allow_redirects=False
        )
        assert start.headers["Location"].startswith(upstream.issuer)
        login_page = browser.get(start.headers["Location"])  # oidc-provider's own login page
        assert login_page.status_code == 200 and 'name="login"' in login_page.text
        done = follow(browser, upstream.sign_in(browser, login_page, "ada"), until=CALLBACK)
        answer = callback_params(done)
        tokens = live_tokens(live, pool, app, answer["code"])
        claims = pool_jwt.verify(pool, tokens["id_token"], token_use="id")
        assert claims["cognito:username"] == "NodeIdP_ada"
        assert claims["email"] == "ada@example.com" and claims["name"] == "Ada L."
        identities = claims["identities"]
        identities = json.loads(identities) if isinstance(identities, str) else identities
        assert [i["providerName"] for i in identities] == ["NodeIdP"]
        assert identities[0]["providerType"] == "OIDC"


@pytest.mark.node
@pytest.mark.django_db(transaction=True)
def test_oidc_provider_access_denied_goes_back_to_the_app(node_modules, live):
    pool = factories.make_pool(name="fed-deny")
    with node_idp(live, pool, accounts={}, scopes="openid email"):
        app = factories.make_client(pool, supported_identity_providers=["NodeIdP"])
        browser = requests.Session()
        start = browser.get(
            live + authorize_url(pool, app, identity_provider="NodeIdP"), allow_redirects=False
        )
        login_page = browser.get(start.headers["Location"])
        abort = requests.compat.urljoin(
            login_page.url, login_page.url.rstrip("/").split("?")[0] + "/abort"
        )
        done = follow(browser, browser.get(abort, allow_redirects=False), until=CALLBACK)
        answer = callback_params(done)
        assert answer["error"] == "access_denied" and "code" not in answer


# ------------------------------------------------- a second Cognate pool as the upstream


@pytest.mark.django_db(transaction=True)
def test_round_trip_through_another_cognate_pool(live):
    upstream_pool = factories.make_pool(name="upstream")
    pool = factories.make_pool(name="downstream")
    upstream_app = factories.make_client(
        upstream_pool,
        secret="",
        callback_urls=[f"{live}/{pool.id}/oauth2/idpresponse"],
        allowed_oauth_scopes=["openid", "email", "profile"],
    )
    factories.make_user(upstream_pool, "grace", email="grace@example.com")
    idp_service.create_identity_provider(
        pool=pool,
        provider_name="Upstream",
        provider_type="OIDC",
        details={
            "client_id": upstream_app.client_id,
            "client_secret": upstream_app.plain_secret,
            "attributes_request_method": "GET",
            "oidc_issuer": f"{live}/{upstream_pool.id}",
            "authorize_scopes": "openid email profile",
        },
        attribute_mapping={"email": "email", "email_verified": "email_verified"},
    )
    app = factories.make_client(pool, supported_identity_providers=["COGNITO", "Upstream"])
    browser = requests.Session()
    start = browser.get(
        live + authorize_url(pool, app, identity_provider="Upstream"), allow_redirects=False
    )
    upstream_authorize = start.headers["Location"]
    assert upstream_authorize.startswith(f"{live}/{upstream_pool.id}/oauth2/authorize?")
    login = browser.get(upstream_authorize, allow_redirects=False)
    login_url = requests.compat.urljoin(live, login.headers["Location"])
    page = browser.get(login_url)
    csrf = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    signed_in = browser.post(
        login_url,
        data={"csrfmiddlewaretoken": csrf, "username": "grace", "password": factories.PASSWORD},
        headers={"Referer": login_url},
        allow_redirects=False,
    )
    answer = callback_params(follow(browser, signed_in, until=CALLBACK))
    tokens = live_tokens(live, pool, app, answer["code"])
    claims = pool_jwt.verify(pool, tokens["id_token"], token_use="id")
    grace = User.objects.get(pool=upstream_pool, username="grace")
    assert claims["cognito:username"] == f"Upstream_{grace.sub}"
    assert claims["email"] == "grace@example.com"
    identities = claims["identities"]
    identities = json.loads(identities) if isinstance(identities, str) else identities
    assert identities[0]["providerName"] == "Upstream"
