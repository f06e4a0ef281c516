"""Property-based fuzzing of every door that exists today: the OAuth endpoints (authorize,
token, userInfo, revoke, logout, discovery, JWKS), the hosted forms (sign-in, sign-up, confirm,
forgot password, confirm forgot password) and the console sign-in.

Inputs: random and malformed parameters (wrong shapes, huge values, invalid percent-encoded
UTF-8, NUL bytes, duplicated names, odd headers and pool ids). Properties: never a 500; always
the door's own format (OAuth JSON with `error`, our HTML pages); a redirect only ever goes to
our own pages or a registered URL; and no state change when the input is refused (rows counted
before and after, audit events and sessions aside).

The Cognito JSON API door has its own fuzzing, in tests/api/test_fuzz.py.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from hostedui.oauth.authorize import PARAMETERS
from pool.models import (
    AppClient,
    AuthorizationCode,
    ChallengeSession,
    RefreshFamily,
    RefreshToken,
    TotpDevice,
    User,
    UserPool,
    VerificationCode,
)
from pool.services import keys
from tests import factories
from tests.security.conftest import CALLBACK, authorize_url

pytestmark = pytest.mark.django_db

FUZZ = fuzz_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COUNTED = (
    UserPool,
    AppClient,
    User,
    VerificationCode,
    RefreshFamily,
    RefreshToken,
    AuthorizationCode,
    ChallengeSession,
    TotpDevice,
)

# --------------------------------------------------------------------------------- strategies

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
raw_bytes = st.binary(max_size=24).map(lambda b: "".join(f"%{byte:02X}" for byte in b))
oddities = st.sampled_from(
    [
        "",
        "%",
        "%zz",
        "%00",
        "%C0%AF",
        "%ED%A0%80",
        "%FF%FE",
        "\x00",
        "a\x00b",
        "x" * 70_000,
        "9" * 400,
        "-1",
        "1e309",
        "[]",
        "{}",
        "null",
        "true",
        "S256",
        "plain",
        "code",
        "token",
        "openid",
        "none",
        "login",
        "authorization_code",
        "refresh_token",
        "client_credentials",
        CALLBACK,
        "http://localhost:3000@evil.example/callback",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    ]
)


def encoded(value: str) -> str:
    """A value for a query string or form body: percent-encoded text, or raw %XX bytes."""
    return value if value.startswith("%") else quote(value, safe="")


values = st.one_of(text.map(encoded), raw_bytes, oddities.map(encoded), oddities)


def pairs(names: list[str]) -> st.SearchStrategy[str]:
    """A query string / form body: names the door knows (often repeated) and random ones."""
    name = st.one_of(st.sampled_from(names), text.map(encoded), raw_bytes)
    return st.lists(st.tuples(name, values), max_size=12).map(
        lambda items: "&".join(f"{k}={v}" for k, v in items)
    )


authorization_headers = st.one_of(
    st.none(),
    st.sampled_from(["Basic", "Basic !!!", "Basic Og==", "Bearer", "Bearer  ", "Digest x"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(
        lambda t: f"Basic {t}"
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).map(
        lambda t: f"Bearer {t}"
    ),
)
content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=nonsense",
        "application/json",
        "multipart/form-data; boundary=x",
        "text/plain",
    ]
)

# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture
def world(pool, app_client, user, settings):
    """A pool with a public and a confidential client, a user and a signing key, and no per-IP
    limits (the fuzzer sends hundreds of requests from one address)."""
    settings.RATE_LIMIT_PER_MINUTE = 0
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 0
    keys.active_key(pool)
    confidential = factories.make_client(
        pool, secret="", allowed_oauth_flows=["code", "client_credentials"]
    )
    return {"pool": pool, "public": app_client, "confidential": confidential}


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def send(method: str, path: str, query: str = "", body: str = "", **extra):
    client = Client(raise_request_exception=False)
    target = f"{path}?{query}" if query else path
    if method == "GET":
        return client.get(target, **extra)
    # generic() sends the bytes as they are, whatever charset the content type claims.
    content_type = extra.pop("content_type", "application/x-www-form-urlencoded")
    return client.generic("POST", target, body.encode(), content_type=content_type, **extra)


def headers(authorization: str | None) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}


def assert_oauth_json(response) -> None:
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    if response.status_code >= 400:
        assert "error" in response.json()


def assert_page(response) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 302:
        assert response["Content-Type"].startswith("text/html")


def assert_safe_redirect(response, pool) -> None:
    if response.status_code == 302:
        location = response["Location"]
        allowed = (f"/{pool.id}/", CALLBACK, "http://localhost:3000/", "/console/")
        assert location.startswith(allowed), location


def assert_get_page_changes_nothing(pool, path: str, query: str) -> None:
    """A GET of one of our pages: never a 500, our HTML or a safe redirect, no rows written."""
    before = counts()
    response = send("GET", path, query)
    assert_page(response)
    assert_safe_redirect(response, pool)
    assert counts() == before


# ------------------------------------------------------------------------------- OAuth doors


@FUZZ
@example(query="client_id=%00&response_type=code")
@example(query="client_id=a%00b&redirect_uri=x")
@given(query=pairs(list(PARAMETERS)))
def test_fuzz_authorize(world, query):
    pool = world["pool"]
    assert_get_page_changes_nothing(pool, f"/{pool.id}/oauth2/authorize", query)


@FUZZ
@given(
    body=pairs(
        [
            "grant_type",
            "client_id",
            "client_secret",
            "code",
            "redirect_uri",
            "code_verifier",
            "refresh_token",
            "scope",
        ]
    ),
    authorization=authorization_headers,
    content_type=content_types,
    which=st.sampled_from(["public", "confidential", None]),
)
@example(
    body="client_id=%00&grant_type=refresh_token&refresh_token=%00",
    authorization=None,
    content_type="application/x-www-form-urlencoded",
    which=None,
)
@example(
    body="grant_type=client_credentials",
    authorization="Basic AGE6Yg==",  # "\x00a:b"
    content_type="application/x-www-form-urlencoded",
    which=None,
)
def test_fuzz_token(world, body, authorization, content_type, which):
    pool = world["pool"]
    if which:
        body = f"client_id={world[which].client_id}&{body}"
    before = counts()
    response = send(
        "POST",
        f"/{pool.id}/oauth2/token",
        body=body,
        content_type=content_type,
        **headers(authorization),
    )
    assert_oauth_json(response)
    assert response["Cache-Control"] == "no-store"
    if response.status_code != 200:
        assert counts() == before


@FUZZ
@given(
    body=pairs(["token", "token_type_hint", "client_id", "client_secret"]),
    authorization=authorization_headers,
    content_type=content_types,
)
def test_fuzz_revoke(world, body, authorization, content_type):
    pool = world["pool"]
    before = counts()
    response = send(
        "POST",
        f"/{pool.id}/oauth2/revoke",
        body=f"client_id={world['public'].client_id}&{body}",
        content_type=content_type,
        **headers(authorization),
    )
    assert_oauth_json(response)
    assert counts() == before


@FUZZ
@given(
    query=pairs(["access_token"]),
    authorization=authorization_headers,
    method=st.sampled_from(["GET", "POST"]),
)
def test_fuzz_user_info(world, query, authorization, method):
    pool = world["pool"]
    response = send(
        method, f"/{pool.id}/oauth2/userInfo", query, body=query, **headers(authorization)
    )
    assert_oauth_json(response)
    assert response.status_code in (400, 401)
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


@FUZZ
@example(query="client_id=%00")
@given(query=pairs(["client_id", "logout_uri", "redirect_uri", "response_type", "state"]))
def test_fuzz_logout(world, query):
    pool = world["pool"]
    assert_get_page_changes_nothing(pool, f"/{pool.id}/logout", query)


@FUZZ
@example(pool_id="%00", document=".well-known/openid-configuration", query="")
@example(pool_id="a\x00b", document="oauth2/token", query="")
@given(
    pool_id=st.one_of(text, raw_bytes, oddities),
    document=st.sampled_from(
        [
            ".well-known/openid-configuration",
            ".well-known/jwks.json",
            "oauth2/token",
            "oauth2/userInfo",
            "oauth2/revoke",
        ]
    ),
    query=pairs(["x"]),
)
def test_fuzz_pool_ids_and_documents(world, pool_id, document, query):
    segment = pool_id if pool_id.startswith("%") else quote(pool_id, safe="")
    before = counts()
    method = "POST" if document in ("oauth2/token", "oauth2/revoke") else "GET"
    response = send(method, f"/{segment}/{document}", query, body=query)
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 404 or response["Content-Type"].startswith("application/json"):
        assert_oauth_json(response)
    assert counts() == before


@FUZZ
@given(query=pairs(["x", "y"]))
def test_fuzz_discovery_and_jwks_of_a_real_pool(world, query):
    pool = world["pool"]
    for document in (".well-known/openid-configuration", ".well-known/jwks.json"):
        response = send("GET", f"/{pool.id}/{document}", query)
        assert response.status_code == 200
        assert response.json()


# ------------------------------------------------------------------------------ hosted forms

FORMS = {
    "login": ["username", "password"],
    "signup": ["username", "password", "email", "phone_number", "name"],
    "confirm": ["username", "code", "resend"],
    "forgotPassword": ["username"],
    "confirmForgotPassword": ["username", "code", "password", "password2"],
}


@FUZZ
@given(
    page=st.sampled_from(sorted(FORMS)),
    body=st.data(),
    content_type=content_types,
    valid_request=st.booleans(),
)
def test_fuzz_hosted_forms(world, page, body, content_type, valid_request):
    pool = world["pool"]
    form = body.draw(pairs(FORMS[page]))
    query = authorize_url(pool, world["public"]).split("?", 1)[1] if valid_request else ""
    before = counts()
    response = send("POST", f"/{pool.id}/{page}", query, body=form, content_type=content_type)
    assert_page(response)
    assert_safe_redirect(response, pool)
    after = counts()
    if response.status_code != 302:
        assert after == before
    elif page == "signup":
        assert after["User"] - before["User"] in (0, 1)


@FUZZ
@given(
    page=st.sampled_from(sorted(FORMS)),
    query=pairs(list(PARAMETERS)),
)
def test_fuzz_hosted_pages_query(world, page, query):
    pool = world["pool"]
    assert_get_page_changes_nothing(pool, f"/{pool.id}/{page}", query)


@FUZZ
@given(body=pairs(["username", "password", "next", "token"]), content_type=content_types)
def test_fuzz_console_sign_in(world, body, content_type):
    for path in ("/console/login", "/console/otp"):
        response = send("POST", path, body=body, content_type=content_type)
        assert response.status_code < 500, response.content[:300]
        assert response.status_code in (200, 302, 400, 403, 429)
        if response.status_code == 302:
            assert response["Location"].startswith("/console/")


def test_a_name_with_a_nul_byte_finds_nobody(pool):
    from pool.selectors.users import find_for_sign_in

    factories.make_user(pool, "alice")
    assert find_for_sign_in(pool, "alice\x00") is None
