"""Sessions: cookies HttpOnly and SameSite (Secure and __Host- behind https, see
test_headers.py), a new session id at every sign-in (hosted UI and console), and hosted
sessions and refresh tokens ended by password change, password reset, disable, delete,
global sign-out and sign-out."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client

from pool.errors import NotAuthorizedException
from pool.services import admin, passwords, tokens
from pool.services.results import RequestContext
from tests import factories
from tests.console.conftest import OPERATOR_PASSWORD, current_code, make_operator
from tests.security.conftest import (
    VERIFIER,
    authorize_url,
    last_code,
    redirect_params,
    sign_in,
    token_request,
)

pytestmark = pytest.mark.django_db
CONTEXT = RequestContext(source="api")
SessionStore = import_module(django_settings.SESSION_ENGINE).SessionStore


@pytest.fixture
def browser(pool, app_client, user) -> Client:
    """A browser signed in to the hosted UI."""
    browser = Client()
    assert "code" in redirect_params(sign_in(browser, authorize_url(pool, app_client)))
    return browser


@pytest.fixture
def refresh_token(pool, app_client, user) -> str:
    browser = Client()
    code = redirect_params(sign_in(browser, authorize_url(pool, app_client)))["code"]
    body = token_request(
        browser,
        pool,
        {
            "grant_type": "authorization_code",
            "client_id": app_client.client_id,
            "code": code,
            "redirect_uri": "http://localhost:3000/callback",
            "code_verifier": VERIFIER,
        },
    ).json()
    return body["refresh_token"]


def session_alive(browser, pool, app_client) -> bool:
    response = browser.get(authorize_url(pool, app_client))
    return "code=" in response["Location"]


def refresh_works(app_client, refresh_token) -> bool:
    try:
        tokens.refresh(client=app_client, refresh_token=refresh_token)
    except NotAuthorizedException:
        return False
    return True


# ------------------------------------------------------------------------------------ cookies


def test_hosted_session_cookie_is_httponly_and_samesite(pool, app_client, user, settings):
    browser = Client()
    sign_in(browser, authorize_url(pool, app_client))
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] in ("Lax", "Strict")


def test_secure_cookie_settings_mark_the_cookie_secure(pool, app_client, user, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.SESSION_COOKIE_NAME = "__Host-cognate"
    browser = Client()
    sign_in(browser, authorize_url(pool, app_client))
    cookie = browser.cookies["__Host-cognate"]
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"
    assert not cookie["domain"]


def test_csrf_cookie_is_httponly_and_samesite(client, settings):
    client.get("/console/login")
    cookie = client.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] in ("Lax", "Strict")


def test_session_id_is_at_least_128_bits(browser, settings):
    # Django session keys: 32 characters of [a-z0-9], about 165 bits.
    assert len(browser.cookies[settings.SESSION_COOKIE_NAME].value) >= 32


# ---------------------------------------------------------------------------------- at rest


def stored_keys() -> set[str]:
    return set(Session.objects.values_list("session_key", flat=True))


def console_signed_in() -> Client:
    """An operator signed in to the console through the real password and TOTP pages."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    operator = make_operator("ops", can_change=True)
    device = TOTPDevice.objects.create(user=operator, name="ops", confirmed=True)
    browser = Client()
    browser.post("/console/login", {"username": "ops", "password": OPERATOR_PASSWORD})
    browser.post("/console/otp", {"token": current_code(device)})
    assert browser.get("/console/").status_code == 200
    return browser


def with_cookie(value: str, settings) -> Client:
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = value
    return browser


def test_no_session_row_holds_the_hosted_cookie(browser, settings):
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert stored_keys() and cookie not in stored_keys()


def test_no_session_row_holds_the_console_cookie(db, settings):
    cookie = console_signed_in().cookies[settings.SESSION_COOKIE_NAME].value
    assert stored_keys() and cookie not in stored_keys()


def test_a_row_key_copied_into_a_cookie_does_not_sign_in_to_the_hosted_ui(
    browser, pool, app_client, settings
):
    for key in stored_keys():
        assert not session_alive(with_cookie(key, settings), pool, app_client)
    assert session_alive(browser, pool, app_client)


def test_a_row_key_copied_into_a_cookie_does_not_sign_in_to_the_console(db, settings):
    operator_browser = console_signed_in()
    for key in stored_keys():
        assert with_cookie(key, settings).get("/console/").status_code == 302
    assert operator_browser.get("/console/").status_code == 200


def test_sign_out_deletes_the_stored_row(browser, pool, app_client, settings):
    signed_in = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore().exists(signed_in)
    browser.get(f"/{pool.id}/logout?client_id={app_client.client_id}")
    assert not SessionStore().exists(signed_in)
    assert not Session.objects.exists()


# ------------------------------------------------------------------------- fixation / rotation


def test_hosted_sign_in_rotates_a_planted_session_id(pool, app_client, user, settings):
    browser = Client()
    planted = browser.session
    planted["probe"] = "attacker"
    planted.save()
    sign_in(browser, authorize_url(pool, app_client))
    assert browser.cookies[settings.SESSION_COOKIE_NAME].value != planted.session_key
    assert not SessionStore().exists(planted.session_key)


def test_console_sign_in_rotates_the_session_id_at_each_step(client, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    operator = make_operator("ops", can_change=True)
    device = TOTPDevice.objects.create(user=operator, name="ops", confirmed=True)
    client.get("/console/login")
    planted = client.session
    planted["probe"] = "attacker"
    planted.save()
    client.post("/console/login", {"username": "ops", "password": OPERATOR_PASSWORD})
    after_password = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/console/otp", {"token": current_code(device)})
    after_otp = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert len({planted.session_key, after_password, after_otp}) == 3


# --------------------------------------------------------------------------------- revocation


def test_password_change_ends_sessions_and_refresh_tokens(
    browser, refresh_token, pool, app_client, user
):
    passwords.change_password(
        user=user, previous=factories.PASSWORD, proposed="Brand-New-Pass-1", context=CONTEXT
    )
    assert not session_alive(browser, pool, app_client)
    assert not refresh_works(app_client, refresh_token)


def test_password_reset_ends_sessions_and_refresh_tokens(
    browser, refresh_token, pool, app_client, user
):
    passwords.forgot_password(pool=pool, username="alice", context=CONTEXT)
    passwords.confirm_forgot_password(
        pool=pool,
        username="alice",
        code=last_code(user.email),
        password="Brand-New-Pass-1",
        context=CONTEXT,
    )
    assert not session_alive(browser, pool, app_client)
    assert not refresh_works(app_client, refresh_token)


def test_disable_ends_sessions_and_refresh_tokens(browser, refresh_token, pool, app_client, user):
    admin.set_enabled(user=user, enabled=False, context=CONTEXT)
    assert not session_alive(browser, pool, app_client)
    assert not refresh_works(app_client, refresh_token)


def test_re_enabling_does_not_revive_old_sessions(browser, refresh_token, pool, app_client, user):
    admin.set_enabled(user=user, enabled=False, context=CONTEXT)
    admin.set_enabled(user=user, enabled=True, context=CONTEXT)
    assert not session_alive(browser, pool, app_client)
    assert not refresh_works(app_client, refresh_token)


def test_delete_ends_sessions_and_refresh_tokens(browser, refresh_token, pool, app_client, user):
    admin.delete_user(user=user, context=CONTEXT)
    assert not session_alive(browser, pool, app_client)
    assert not refresh_works(app_client, refresh_token)


def test_global_sign_out_ends_sessions_and_refresh_tokens(
    browser, refresh_token, pool, app_client, user
):
    admin.global_sign_out(user=user, context=CONTEXT)
    assert not session_alive(browser, pool, app_client)
    assert not refresh_works(app_client, refresh_token)


def test_hosted_logout_ends_the_browser_session(browser, pool, app_client):
    browser.get(f"/{pool.id}/logout?client_id={app_client.client_id}")
    assert not session_alive(browser, pool, app_client)


def test_session_of_one_user_survives_anothers_sign_out(browser, pool, app_client):
    bob = factories.make_user(pool, "bob")
    admin.global_sign_out(user=bob, context=CONTEXT)
    assert session_alive(browser, pool, app_client)


@pytest.mark.django_db(transaction=True)
def test_async_session_methods_keep_only_the_hash_too():
    from asgiref.sync import async_to_sync

    async def round_trip() -> dict:
        session = SessionStore()
        await session.aset("probe", "value")
        await session.asave()
        key = session.session_key
        rows = [k async for k in Session.objects.values_list("session_key", flat=True)]
        again = SessionStore(key)
        seen = {"key": key, "rows": rows, "loaded": dict(await again.aitems())}
        seen["found"] = await again.aexists(key)
        await again.adelete()
        seen["found_after_delete"] = await SessionStore().aexists(key)
        return seen

    seen = async_to_sync(round_trip)()
    assert len(seen["rows"]) == 1 and seen["key"] not in seen["rows"]
    assert seen["found"] and seen["loaded"] == {"probe": "value"}
    assert not seen["found_after_delete"]


# ----------------------------------------------------------------------- challenges at rest


def test_no_session_row_holds_a_challenge_handle_in_clear(pool, app_client, user, settings):
    """Half-way through a sign-in (password done, MFA next) the browser's session data holds the
    challenge handle encrypted: whoever reads the session table cannot answer the challenge
    with it, while the browser still can."""
    from pool import crypto
    from pool.models import ChallengeSession
    from tests.security.conftest import enrol_totp, totp_code

    enrol_totp(user)
    browser = Client()
    response = sign_in(browser, authorize_url(pool, app_client))
    assert "/mfa" in response["Location"]
    stored = [SessionStore().decode(row.session_data) for row in Session.objects.all()]
    handles = [data["hostedui:challenge"]["session"] for data in stored if data]
    assert len(handles) == 1
    assert not ChallengeSession.objects.filter(digest=crypto.digest(handles[0])).exists()
    assert ChallengeSession.objects.filter(digest=crypto.digest(crypto.decrypt(handles[0])))
    answered = browser.post(response["Location"], {"code": totp_code()})
    assert "code" in redirect_params(answered)


def test_a_new_session_never_takes_a_key_already_in_use(db, monkeypatch):
    """New sessions are inserted without looking their key up first: a key that is taken
    fails the insert and another is drawn; the holder's session is untouched."""
    holder = SessionStore()
    holder["owner"] = "holder"
    holder.save()
    drawn = iter([holder.session_key, "n" * 32])
    newcomer = SessionStore()
    monkeypatch.setattr(newcomer, "_get_new_session_key", lambda: next(drawn))
    newcomer["owner"] = "newcomer"
    newcomer.save()
    assert newcomer.session_key == "n" * 32
    assert SessionStore(holder.session_key)["owner"] == "holder"
    assert SessionStore("n" * 32)["owner"] == "newcomer"


def test_new_session_keys_are_long_random_and_in_djangos_alphabet(db):
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS

    keys = {SessionStore()._get_new_session_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(len(key) == 32 and set(key) <= set(VALID_KEY_CHARS) for key in keys)
