"""Per-client-IP rate limits: counted in the shared cache, per scope, per address, in fixed
windows; answered by each door in its own format (OAuth JSON 429, a page message with 429)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.utils.html import escape

from config.security import client_ip
from console.views.auth import TOO_MANY
from pool import clock
from pool.errors import TooManyRequestsException
from pool.models import User
from pool.services import ratelimit
from pool.services.results import RequestContext
from tests import factories
from tests.console.conftest import OPERATOR_PASSWORD, make_operator
from tests.security.conftest import authorize_url, token_request

pytestmark = pytest.mark.django_db

RATE_EXCEEDED = "Too many requests. Wait a moment and retry."


@pytest.fixture
def limit_two(settings):
    settings.RATE_LIMIT_PER_MINUTE = 2
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 2
    clock.freeze()


def page(client, pool, app_client, name: str) -> str:
    login = client.get(authorize_url(pool, app_client))["Location"]
    return login.replace("/login?", f"/{name}?")


def third_post(client, url: str, data: dict, last: dict | None = None):
    """Two posts spend a budget of two; the answer to the third (`last`, else `data` again)."""
    for _ in range(2):
        client.post(url, data)
    return client.post(url, data if last is None else last)


# ----------------------------------------------------------------------------- the counter


def test_hit_refuses_past_the_limit(db):
    clock.freeze()
    ratelimit.hit("probe", "198.51.100.7", limit=3)
    ratelimit.hit("probe", "198.51.100.7", limit=3)
    ratelimit.hit("probe", "198.51.100.7", limit=3)
    with pytest.raises(TooManyRequestsException):
        ratelimit.hit("probe", "198.51.100.7", limit=3)


def test_other_addresses_and_scopes_are_counted_apart(db):
    clock.freeze()
    ratelimit.hit("probe", "198.51.100.7", limit=1)
    ratelimit.hit("probe", "198.51.100.8", limit=1)
    ratelimit.hit("other", "198.51.100.7", limit=1)
    with pytest.raises(TooManyRequestsException):
        ratelimit.hit("probe", "198.51.100.7", limit=1)


def test_next_window_starts_afresh(db):
    clock.freeze()
    ratelimit.hit("probe", "198.51.100.7", limit=1)
    clock.advance(seconds=ratelimit.WINDOW_SECONDS)
    assert ratelimit.hit("probe", "198.51.100.7", limit=1) == 1


def test_requests_without_an_address_are_not_limited(limit_two):
    for _ in range(5):
        ratelimit.check(ratelimit.SIGN_IN, RequestContext(ip=None, source="cli"))
        ratelimit.check(ratelimit.SIGN_IN, None)


def test_zero_turns_a_limit_off(settings, db):
    settings.RATE_LIMIT_PER_MINUTE = 0
    for _ in range(5):
        ratelimit.check(ratelimit.SIGN_UP, RequestContext(ip="198.51.100.7"))


def test_token_scope_has_its_own_limit(settings):
    settings.RATE_LIMIT_PER_MINUTE = 5
    settings.RATE_LIMIT_TOKEN_PER_MINUTE = 50
    assert ratelimit.limit_for(ratelimit.SIGN_IN) == 5
    assert ratelimit.limit_for(ratelimit.TOKEN) == 50


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (shared cache)")
def test_counts_are_shared_between_processes(db):
    """Another process (same settings, Redis cache) spends the budget; this one is refused.
    Both count at one frozen moment: with real clocks, a minute's window could turn while the
    other process starts (it did, once in CI), and this one would count in a fresh window."""
    moment = clock.freeze()
    script = (
        "import datetime, django; django.setup();"
        "from pool import clock; from pool.services import ratelimit;"
        f"clock.freeze(datetime.datetime.fromisoformat({moment.isoformat()!r}));"
        "[ratelimit.hit('shared', '203.0.113.9', limit=3) for _ in range(3)]"
    )
    # The Redis database this test process uses (under xdist, the worker's own one).
    redis_url = django_settings.CACHES["default"]["LOCATION"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": redis_url}
    subprocess.run(
        [sys.executable, "-c", script], check=True, env=env, cwd=django_settings.BASE_DIR
    )
    with pytest.raises(TooManyRequestsException):
        ratelimit.hit("shared", "203.0.113.9", limit=3)


# ------------------------------------------------------------------------------- client IP


@pytest.mark.parametrize(
    ("hops", "remote_addr", "forwarded_for", "expected"),
    [
        pytest.param(0, "192.0.2.1", "198.51.100.1", "192.0.2.1", id="remote-addr-without-proxies"),
        pytest.param(
            1,
            "10.0.0.2",
            "6.6.6.6, 198.51.100.1",
            "198.51.100.1",
            id="forwarded-for-read-from-right",
        ),
        pytest.param(
            2,
            "10.0.0.2",
            "6.6.6.6, 198.51.100.1, 10.0.0.1",
            "198.51.100.1",
            id="two-proxies-skip-the-nearest",
        ),
    ],
)
def test_client_ip_trusts_only_the_configured_proxy_hops(
    settings, hops, remote_addr, forwarded_for, expected
):
    settings.TRUSTED_PROXY_HOPS = hops
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_ip(request) == expected


def test_client_ip_ignores_garbage_and_short_headers(settings):
    settings.TRUSTED_PROXY_HOPS = 2
    factory = RequestFactory()
    short = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="x' OR 1, 10.0.0.1")
    assert client_ip(short) == "10.0.0.2"
    assert client_ip(garbage) == "10.0.0.2"


def test_spoofed_forwarded_for_does_not_dodge_the_limit(limit_two, client, pool, app_client):
    """Without trusted proxies, a fresh X-Forwarded-For per request changes nothing."""
    login = page(client, pool, app_client, "login")
    statuses = [
        client.post(
            login, {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(3)
    ]
    assert statuses[-1] == 429


# ------------------------------------------------------------------------------ every door


def test_hosted_sign_in_is_limited_with_a_page_message(limit_two, client, pool, app_client):
    login = page(client, pool, app_client, "login")
    response = third_post(client, login, {"username": "nobody", "password": "wrong-password"})
    assert response.status_code == 429
    assert RATE_EXCEEDED in response.content.decode()


def test_limit_on_one_address_leaves_others_alone(limit_two, pool, app_client, user):
    attacker, other = Client(REMOTE_ADDR="203.0.113.66"), Client(REMOTE_ADDR="198.51.100.20")
    login = page(attacker, pool, app_client, "login")
    for _ in range(3):
        attacker.post(login, {"username": "alice", "password": "wrong-password"})
    response = other.post(login, {"username": "alice", "password": factories.PASSWORD})
    assert response.status_code == 302 and "code=" in response["Location"]


def test_hosted_sign_up_is_limited(limit_two, client, pool, app_client):
    signup = page(client, pool, app_client, "signup")
    for n in range(2):
        client.post(signup, {"username": f"new{n}", "password": "x", "email": "bad"})
    response = client.post(
        signup, {"username": "new9", "password": factories.PASSWORD, "email": "n9@example.com"}
    )
    assert response.status_code == 429
    assert RATE_EXCEEDED in response.content.decode()
    assert not User.objects.filter(username="new9").exists()


def test_hosted_confirm_sign_up_is_limited(limit_two, client, pool, app_client):
    factories.make_user(pool, "newbie", status="UNCONFIRMED")
    confirm = page(client, pool, app_client, "confirm")
    response = third_post(client, confirm, {"username": "newbie", "code": "000000"})
    assert response.status_code == 429
    assert RATE_EXCEEDED in response.content.decode()


def test_hosted_forgot_password_is_limited(limit_two, client, pool, app_client, user):
    forgot = page(client, pool, app_client, "forgotPassword")
    response = third_post(client, forgot, {"username": "someone"}, last={"username": "alice"})
    assert response.status_code == 429
    assert RATE_EXCEEDED in response.content.decode()


def test_hosted_confirm_forgot_password_is_limited(limit_two, client, pool, app_client, user):
    reset = page(client, pool, app_client, "confirmForgotPassword")
    data = {
        "username": "alice",
        "code": "000000",
        "password": "New-Password-77",
        "password2": "New-Password-77",
    }
    response = third_post(client, reset, data)
    assert response.status_code == 429
    assert RATE_EXCEEDED in response.content.decode()


def test_token_endpoint_is_limited_with_oauth_json(limit_two, client, pool, app_client):
    data = {"grant_type": "authorization_code", "client_id": app_client.client_id, "code": "x"}
    for _ in range(2):
        token_request(client, pool, data)
    response = token_request(client, pool, data)
    assert response.status_code == 429
    assert response.json()["error"] in ("slow_down", "temporarily_unavailable")
    assert response["Cache-Control"] == "no-store"
    assert response["Retry-After"].isdigit()


def test_console_sign_in_is_limited(limit_two, client):
    make_operator("ops", can_change=True)
    for _ in range(2):
        client.post("/console/login", {"username": "ops", "password": "wrong"})
    response = client.post("/console/login", {"username": "ops", "password": OPERATOR_PASSWORD})
    assert response.status_code == 429
    assert escape(TOO_MANY) in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_challenge_answers_are_limited(limit_two, pool, user):
    from pool.services import authenticate
    from tests.security.conftest import enrol_totp

    enrol_totp(user)
    ip = RequestContext(ip="203.0.113.5")
    outcomes = []
    for _ in range(3):
        challenge = authenticate.password(pool=pool, username="alice", password=factories.PASSWORD)
        try:
            authenticate.respond_to_challenge(
                pool=pool,
                challenge_name=challenge.name,
                session=challenge.session,
                responses={"SOFTWARE_TOKEN_MFA_CODE": "000000"},
                context=ip,
            )
        except Exception as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes[-1] == "TooManyRequestsException"


def test_authenticator_verification_is_limited(limit_two, user):
    from pool.services import mfa

    mfa.associate_software_token(user=user)
    ip = RequestContext(ip="203.0.113.5")
    outcomes = []
    for _ in range(3):
        try:
            mfa.verify_software_token(user=user, code="000000", context=ip)
        except Exception as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes[-1] == "TooManyRequestsException"
