"""The hosted account page (/{pool}/account): a signed-in user changes their password, email or
phone number (verified before it replaces the old one), profile attributes within their app
client's write_attributes, authenticator app, sessions and remembered devices, and deletes
their account where the pool allows it."""

from __future__ import annotations

import base64
import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django_otp.oath import TOTP

from pool import clock, crypto
from pool.models import Device, RefreshFamily, TotpDevice, User, UserPool
from pool.services import authenticate, tokens
from pool.services.results import RequestContext
from tests import factories
from tests.hostedui.conftest import authorize_url, code_for, exchange_code, redirect_params
from tests.pool.helpers import code_in

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Brand-New-Pass-7"
CTX = RequestContext(ip="", user_agent="test", source="test")


@pytest.fixture
def pool(db):
    """Users may sign in with their email address (so an address's change is visible there)."""
    return factories.make_pool(alias_attributes=["email"])


@pytest.fixture
def users(pool):
    return factories.make_users_in_every_status(pool)


@pytest.fixture
def alice(users):
    return users["alice"]


def url(pool, app_client, name: str = "account") -> str:
    return f"/{pool.id}/{name}?{urlsplit(authorize_url(pool, app_client)).query}"


def signed_in(browser, pool, app_client, username="alice", password=factories.PASSWORD):
    """Sign in on the hosted page and return the browser, holding the hosted session."""
    response = browser.get(url(pool, app_client, "login"))
    assert response.status_code == 200
    done = browser.post(
        url(pool, app_client, "login"), {"username": username, "password": password}
    )
    assert done.status_code == 302 and "code=" in done["Location"], done
    return browser


@pytest.fixture
def browser(client, pool, app_client, alice):
    return signed_in(client, pool, app_client)


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)


def refresh_with(browser, pool, app_client, refresh: str):
    data = {"grant_type": "refresh_token", "client_id": app_client.client_id}
    return browser.post(f"/{pool.id}/oauth2/token", {**data, "refresh_token": refresh})


def totp_now(secret: str) -> str:
    totp = TOTP(base64.b32decode(secret), step=30, digits=6)
    totp.time = clock.timestamp()
    return f"{totp.token():06d}"


# ----------------------------------------------------------------------------- access


def test_the_account_page_shows_the_signed_in_user(browser, pool, app_client):
    response = browser.get(url(pool, app_client))

    assert response.status_code == 200
    assert "alice@example.com" in response.content.decode()


def test_signed_out_access_goes_to_the_sign_in_page_and_comes_back(client, pool, app_client, alice):
    response = client.get(url(pool, app_client))

    assert response.status_code == 302
    assert f"/{pool.id}/login?" in response["Location"]
    back = client.post(response["Location"], {"username": "alice", "password": factories.PASSWORD})
    assert back.status_code == 302
    assert urlsplit(back["Location"]).path == f"/{pool.id}/account"
    assert "code=" not in back["Location"]
    assert client.get(back["Location"]).status_code == 200


def test_a_later_sign_in_for_another_request_still_goes_to_the_app(client, pool, app_client, alice):
    client.get(url(pool, app_client))  # the account page asked for a sign-in, then abandoned

    other = authorize_url(pool, app_client, state="another")
    login = client.get(other)["Location"]
    done = client.post(login, {"username": "alice", "password": factories.PASSWORD})

    assert redirect_params(done)["code"]


def test_another_pools_session_does_not_open_this_pools_account(client, pool, app_client, alice):
    other_pool = factories.make_pool()
    other_client = factories.make_client(other_pool)
    factories.make_user(other_pool, "alice")
    signed_in(client, other_pool, other_client)

    response = client.get(url(pool, app_client))

    assert response.status_code == 302 and "/login?" in response["Location"]


def test_a_session_that_no_longer_stands_is_signed_out(browser, pool, app_client, alice):
    tokens.revoke_user_sessions(user=alice, reason="test")

    response = browser.get(url(pool, app_client))

    assert response.status_code == 302 and "/login?" in response["Location"]


def test_a_disabled_user_cannot_act(browser, pool, app_client, alice):
    User.objects.filter(pk=alice.pk).update(enabled=False)

    response = browser.post(url(pool, app_client), {"given_name": "Mallory"})

    assert response.status_code == 302 and "/login?" in response["Location"]
    assert fresh(alice).given_name == ""


def test_every_post_needs_the_csrf_token(pool, app_client, alice):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url(pool, app_client, "login"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    browser.post(
        url(pool, app_client, "login"),
        {"username": "alice", "password": factories.PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert browser.get(url(pool, app_client)).status_code == 200

    for name, data in [
        ("account", {"given_name": "Mallory"}),
        ("account/password", {"previous": factories.PASSWORD, "password": NEW_PASSWORD}),
        ("account/email", {"email": "mallory@example.com", "change": "1"}),
        ("account/sessions", {"everywhere": "on"}),
        ("account/delete", {"password": factories.PASSWORD}),
    ]:
        response = browser.post(url(pool, app_client, name), data)
        assert response.status_code == 403, name

    user = fresh(alice)
    assert user.given_name == "" and user.email == "alice@example.com"
    assert User.objects.filter(pk=alice.pk).exists()


def test_an_unknown_pool_is_the_error_page(client, app_client):
    response = client.get("/local_Nope1234/account?client_id=x")

    assert response.status_code == 400


# ---------------------------------------------------------------------------- profile


def test_the_profile_saves_attributes_the_client_may_write(browser, pool, app_client, alice):
    response = browser.post(
        url(pool, app_client), {"given_name": "Alice", "family_name": "Liddell"}
    )

    assert response.status_code == 302
    user = fresh(alice)
    assert (user.given_name, user.family_name) == ("Alice", "Liddell")


def test_the_profile_offers_only_the_clients_write_attributes(client, pool, alice):
    limited = factories.make_client(pool, write_attributes=["given_name"])
    signed_in(client, pool, limited)

    page = client.get(url(pool, limited)).content.decode()
    assert 'name="given_name"' in page and 'name="family_name"' not in page

    client.post(url(pool, limited), {"given_name": "Al", "family_name": "Mallory"})

    user = fresh(alice)
    assert user.given_name == "Al" and user.family_name == ""


def test_the_client_is_the_one_the_user_signed_in_through(client, pool, alice):
    """Opening the account page of a broader client does not widen what the user may write."""
    limited = factories.make_client(pool, write_attributes=["given_name"])
    broad = factories.make_client(pool)
    signed_in(client, pool, limited)

    page = client.get(url(pool, broad)).content.decode()

    assert 'name="given_name"' in page and 'name="family_name"' not in page


def test_a_bad_profile_value_is_shown_next_to_the_field(browser, pool, app_client, alice):
    response = browser.post(url(pool, app_client), {"website": "x" * 3000})

    assert response.status_code == 400
    assert not fresh(alice).attribute_map().get("website")


# ------------------------------------------------------------------------------ password


def test_change_password_needs_the_current_one(browser, pool, app_client, alice):
    response = browser.post(
        url(pool, app_client, "account/password"),
        {"previous": "wrong-Password-1", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 400
    result = authenticate.password(
        pool=pool, username="alice", password=factories.PASSWORD, client=app_client, context=CTX
    )
    assert result.user.pk == alice.pk


def test_change_password_applies_the_pool_policy(browser, pool, app_client, alice):
    response = browser.post(
        url(pool, app_client, "account/password"),
        {"previous": factories.PASSWORD, "password": "short", "password2": "short"},
    )

    assert response.status_code == 400
    assert 'id="id_password-error"' in response.content.decode()


def test_change_password_ends_other_sessions_and_keeps_this_one(
    browser, client, pool, app_client, alice
):
    other = Client()
    code = code_for(other, pool, app_client)
    refresh = exchange_code(other, pool, app_client, code).json()["refresh_token"]

    response = browser.post(
        url(pool, app_client, "account/password"),
        {"previous": factories.PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert browser.get(url(pool, app_client)).status_code == 200
    assert other.get(url(pool, app_client)).status_code == 302
    assert not RefreshFamily.objects.filter(user=alice, revoked_at__isnull=True).exists()
    refused = other.post(
        f"/{pool.id}/oauth2/token",
        {
            "grant_type": "refresh_token",
            "client_id": app_client.client_id,
            "refresh_token": refresh,
        },
    )
    assert refused.status_code == 400
    authenticate.password(
        pool=pool, username="alice", password=NEW_PASSWORD, client=app_client, context=CTX
    )


# ------------------------------------------------------------------------ email and phone


def change_email(browser, pool, app_client, new="alice.new@example.com"):
    return browser.post(url(pool, app_client, "account/email"), {"email": new, "change": "1"})


def test_a_new_email_waits_for_its_code_and_the_old_one_keeps_working(
    browser, pool, app_client, alice, smtp_sink
):
    response = change_email(browser, pool, app_client)

    assert response.status_code == 302
    user = fresh(alice)
    assert (user.email, user.email_verified) == ("alice@example.com", True)
    # The old address still signs in; the new one does not yet.
    authenticate.password(
        pool=pool,
        username="alice@example.com",
        password=factories.PASSWORD,
        client=app_client,
        context=CTX,
    )
    assert "alice.new@example.com" in browser.get(response["Location"]).content.decode()

    message = smtp_sink.wait_for("alice.new@example.com")
    code = code_in(smtp_sink.body(message))
    done = browser.post(url(pool, app_client, "account/email"), {"code": code, "verify": "1"})

    assert done.status_code == 302
    user = fresh(alice)
    assert (user.email, user.email_verified) == ("alice.new@example.com", True)
    authenticate.password(
        pool=pool,
        username="alice.new@example.com",
        password=factories.PASSWORD,
        client=app_client,
        context=CTX,
    )


def test_a_wrong_code_is_refused_and_changes_nothing(browser, pool, app_client, alice, smtp_sink):
    change_email(browser, pool, app_client)
    smtp_sink.wait_for("alice.new@example.com")

    response = browser.post(
        url(pool, app_client, "account/email"), {"code": "000000", "verify": "1"}
    )

    assert response.status_code == 400
    assert 'id="id_code-error"' in response.content.decode()
    user = fresh(alice)
    assert (user.email, user.email_verified) == ("alice@example.com", True)


def test_the_code_can_be_sent_again_to_the_new_address(browser, pool, app_client, smtp_sink):
    change_email(browser, pool, app_client)
    first = code_in(smtp_sink.body(smtp_sink.wait_for("alice.new@example.com")))

    browser.post(url(pool, app_client, "account/email"), {"resend": "1"})
    second = smtp_sink.wait_for("alice.new@example.com")

    assert code_in(smtp_sink.body(second)) != first or len(smtp_sink._handler.messages) >= 2


def test_an_email_another_user_signs_in_with_is_refused(client):
    pool = factories.make_pool(username_attributes=["email"])
    app = factories.make_client(pool)
    alice = factories.make_user(pool, "a1", email="alice@example.com")
    factories.make_user(pool, "b1", email="bob@example.com")
    signed_in(client, pool, app, username="alice@example.com")

    response = client.post(
        url(pool, app, "account/email"), {"email": "bob@example.com", "change": "1"}
    )

    assert response.status_code == 400
    assert fresh(alice).email == "alice@example.com"


def test_an_email_the_client_may_not_write_is_refused(client, pool, alice):
    limited = factories.make_client(pool, write_attributes=["given_name"])
    signed_in(client, pool, limited)

    response = change_email(client, pool, limited)

    assert response.status_code == 400
    assert fresh(alice).email == "alice@example.com"


def test_a_bad_phone_number_is_shown_next_to_the_field(browser, pool, app_client, alice):
    response = browser.post(
        url(pool, app_client, "account/phone"), {"phone_number": "not a number", "change": "1"}
    )

    assert response.status_code == 400
    assert fresh(alice).phone_number == "+15550000001"


# --------------------------------------------------------------------- authenticator app


@pytest.fixture
def optional_mfa(pool):
    pool.mfa_configuration = UserPool.Mfa.OPTIONAL
    pool.mfa_methods = ["SOFTWARE_TOKEN_MFA"]
    pool.save()
    return pool


def add_authenticator(browser, pool, app_client) -> str:
    page = browser.get(url(pool, app_client, "account/mfa"))
    assert page.status_code == 200
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page.content.decode())[1].replace(" ", "")
    done = browser.post(
        url(pool, app_client, "account/mfa"), {"code": totp_now(secret), "friendly_name": "phone"}
    )
    assert done.status_code == 302, done.content[:400]
    return secret


def test_an_authenticator_app_is_added_and_then_asked_at_sign_in(
    browser, optional_mfa, app_client, alice
):
    add_authenticator(browser, optional_mfa, app_client)

    user = fresh(alice)
    assert user.software_token_mfa_enabled and user.preferred_mfa == "SOFTWARE_TOKEN_MFA"
    result = authenticate.password(
        pool=optional_mfa,
        username="alice",
        password=factories.PASSWORD,
        client=app_client,
        context=CTX,
    )
    assert result.name == "SOFTWARE_TOKEN_MFA"


def test_a_wrong_first_code_enables_nothing(browser, optional_mfa, app_client, alice):
    browser.get(url(optional_mfa, app_client, "account/mfa"))

    response = browser.post(url(optional_mfa, app_client, "account/mfa"), {"code": "000000"})

    assert response.status_code == 400
    assert not fresh(alice).software_token_mfa_enabled


def test_removing_the_authenticator_needs_a_code_or_the_password(
    browser, optional_mfa, app_client, alice
):
    add_authenticator(browser, optional_mfa, app_client)
    mfa_url = url(optional_mfa, app_client, "account/mfa")

    for data in ({}, {"code": "000000"}, {"password": "Wrong-Password-1"}):
        assert browser.post(mfa_url, data).status_code == 400, data
        assert fresh(alice).software_token_mfa_enabled

    assert browser.post(mfa_url, {"password": factories.PASSWORD}).status_code == 302
    user = fresh(alice)
    assert not user.software_token_mfa_enabled and user.preferred_mfa == ""
    assert not TotpDevice.objects.filter(user=alice).exists()


def test_removing_with_a_current_code(browser, optional_mfa, app_client, alice):
    secret = add_authenticator(browser, optional_mfa, app_client)
    clock.advance(seconds=31)

    response = browser.post(
        url(optional_mfa, app_client, "account/mfa"), {"code": totp_now(secret)}
    )

    assert response.status_code == 302
    assert not fresh(alice).software_token_mfa_enabled


@pytest.mark.parametrize("configuration", [UserPool.Mfa.ON, UserPool.Mfa.OFF])
def test_no_authenticator_management_unless_mfa_is_optional(
    browser, pool, app_client, alice, configuration
):
    pool.mfa_configuration = configuration
    pool.save()

    response = browser.get(url(pool, app_client, "account/mfa"))

    assert response.status_code == 302
    assert not TotpDevice.objects.filter(user=alice).exists()


# ------------------------------------------------------------------- sessions and devices


def test_the_sessions_are_listed_and_one_is_signed_out(browser, pool, app_client, alice):
    other = Client()
    refresh = exchange_code(other, pool, app_client, code_for(other, pool, app_client)).json()[
        "refresh_token"
    ]
    family = RefreshFamily.objects.get(user=alice, revoked_at__isnull=True)

    page = browser.get(url(pool, app_client)).content.decode()
    assert str(family.id) in page

    response = browser.post(url(pool, app_client, "account/sessions"), {"session": str(family.id)})

    assert response.status_code == 302
    assert RefreshFamily.objects.get(pk=family.pk).revoked_at is not None
    refused = other.post(
        f"/{pool.id}/oauth2/token",
        {
            "grant_type": "refresh_token",
            "client_id": app_client.client_id,
            "refresh_token": refresh,
        },
    )
    assert refused.status_code == 400
    assert browser.get(url(pool, app_client)).status_code == 200


def test_another_users_session_cannot_be_signed_out(browser, pool, app_client, users):
    bob = factories.make_user(pool, "bobby")
    family = RefreshFamily.objects.create(
        pool=pool,
        user=bob,
        client=app_client,
        auth_time=clock.now(),
        expires_at=clock.now() + dt.timedelta(days=1),
    )

    for value in (str(family.id), "not-a-uuid", ""):
        response = browser.post(url(pool, app_client, "account/sessions"), {"session": value})
        assert response.status_code == 302

    assert RefreshFamily.objects.get(pk=family.pk).revoked_at is None


def test_sign_out_everywhere_ends_this_session_too(browser, pool, app_client, alice):
    other = Client()
    exchange_code(other, pool, app_client, code_for(other, pool, app_client))

    response = browser.post(url(pool, app_client, "account/sessions"), {"everywhere": "on"})

    assert response.status_code == 200
    assert not RefreshFamily.objects.filter(user=alice, revoked_at__isnull=True).exists()
    assert browser.get(url(pool, app_client)).status_code == 302


def test_a_remembered_device_is_forgotten(browser, pool, app_client, alice):
    pool.track_devices = True
    pool.save()
    device = Device.objects.create(
        key=f"local_{crypto.token()[:20]}",
        pool=pool,
        user=alice,
        group_key="g",
        confirmed=True,
        remembered=True,
        name="Alice's laptop",
    )
    other = Device.objects.create(
        key=f"local_{crypto.token()[:20]}",
        pool=pool,
        user=factories.make_user(pool, "zed"),
        group_key="g",
        confirmed=True,
        remembered=True,
    )
    assert "Alice&#x27;s laptop" in browser.get(url(pool, app_client)).content.decode()

    browser.post(url(pool, app_client, "account/devices"), {"device_key": other.key})
    browser.post(url(pool, app_client, "account/devices"), {"device_key": device.key})

    assert not Device.objects.filter(pk=device.pk).exists()
    assert Device.objects.filter(pk=other.pk).exists()


# --------------------------------------------------------------------------- deleting


def test_deleting_the_account_needs_the_password(browser, pool, app_client, alice):
    delete_url = url(pool, app_client, "account/delete")

    assert browser.post(delete_url, {"password": "Wrong-Password-1"}).status_code == 400
    assert User.objects.filter(pk=alice.pk).exists()

    response = browser.post(delete_url, {"password": factories.PASSWORD})

    assert response.status_code == 200
    assert not User.objects.filter(pk=alice.pk).exists()
    assert browser.get(url(pool, app_client)).status_code == 302


def test_a_pool_can_refuse_self_deletion(browser, pool, app_client, alice):
    pool.allow_self_deletion = False
    pool.save()

    response = browser.post(
        url(pool, app_client, "account/delete"), {"password": factories.PASSWORD}
    )

    assert response.status_code == 302
    assert User.objects.filter(pk=alice.pk).exists()
    assert "account/delete" not in browser.get(url(pool, app_client)).content.decode()


# ------------------------------------------------------------------------------- races


@pytest.mark.django_db(transaction=True)
def test_parallel_password_guesses_to_delete_the_account_stop_at_the_cap():
    """The password that confirms a deletion shares change_password's cap (5 an hour), counted
    atomically: a burst of guesses gets no more than 5 checked, and then even the right
    password is refused in this window."""
    from pool import errors
    from pool.services import admin
    from tests.parallel import burst

    pool = factories.make_pool()
    alice = factories.make_user(pool, "alice")

    def guess():
        admin.delete_own_account(user=fresh(alice), password="Wrong-Guess-1", context=CTX)

    outcomes = burst(guess, 8)

    wrong = [o for o in outcomes if isinstance(o, errors.NotAuthorizedException)]
    capped = [o for o in outcomes if isinstance(o, errors.LimitExceededException)]
    assert len(wrong) == 5 and len(capped) == 3, outcomes
    with pytest.raises(errors.LimitExceededException):
        admin.delete_own_account(user=fresh(alice), password=factories.PASSWORD, context=CTX)
    assert User.objects.filter(pk=alice.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_one_authenticator_code_removes_the_app_once():
    """Two parallel removals with the same code: the code is spent by one of them only."""
    from pool import errors
    from pool.services import mfa
    from tests.parallel import run_together

    pool = factories.make_pool(mfa_configuration=UserPool.Mfa.OPTIONAL)
    alice = factories.make_user(pool, "alice")
    secret = mfa.start_own_software_token(user=alice)
    mfa.enable_own_software_token(user=alice, code=totp_now(secret), context=CTX)
    clock.advance(seconds=31)
    code = totp_now(secret)

    outcomes = run_together(
        [
            lambda: mfa.remove_own_software_token(user=fresh(alice), code=code, context=CTX)
            for _ in range(2)
        ]
    )

    assert outcomes.count(None) == 1, outcomes
    assert all(isinstance(o, errors.CognitoError) for o in outcomes if o is not None), outcomes
    assert not fresh(alice).software_token_mfa_enabled


def test_changing_the_address_again_and_again_stops_at_the_cap(browser, pool, app_client, alice):
    """Each change mails a code to an address the user chose: 5 an hour, then refused."""
    for n in range(5):
        assert change_email(browser, pool, app_client, f"new{n}@example.com").status_code == 302

    response = change_email(browser, pool, app_client, "new5@example.com")

    assert response.status_code == 400
    assert "new5@example.com" not in browser.get(url(pool, app_client)).content.decode()
    assert fresh(alice).email == "alice@example.com"


# --------------------------------------------------------------------------- languages


def test_the_account_page_speaks_the_users_locale(browser, pool, app_client, alice):
    User.objects.filter(pk=alice.pk).update(attributes={"locale": "de-DE"})

    page = browser.get(url(pool, app_client)).content.decode()

    assert "Ihr Konto" in page and "Passwort ändern" in page


def test_the_lang_parameter_wins(browser, pool, app_client, alice):
    page = browser.get(url(pool, app_client) + "&lang=ja").content.decode()

    assert "アカウント" in page and "Your account" not in page


@pytest.mark.parametrize(
    "name",
    [
        "account",
        "account/password",
        "account/email",
        "account/phone",
        "account/mfa",
        "account/sessions",
        "account/devices",
        "account/delete",
    ],
)
def test_odd_input_is_never_a_server_error(browser, optional_mfa, app_client, alice, name):
    odd = {
        "given_name": "\x00",
        "email": "x" * 5000,
        "phone_number": "+1\x00",
        "code": "１２３４５６",
        "verify": "1",
        "password": "\x00",
        "previous": "",
        "session": "\x00" * 100,
        "device_key": "k" * 500,
        "everywhere": "maybe",
    }

    response = browser.post(url(optional_mfa, app_client, name), odd)

    assert response.status_code < 500
    user = fresh(alice)
    assert (user.email, user.given_name) == ("alice@example.com", "")
    assert User.objects.filter(pk=alice.pk).exists()
