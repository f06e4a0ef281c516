"""Secrets at rest and in logs. Client secrets, signing keys, TOTP seeds and SRP verifiers are
encrypted; codes, refresh tokens, authorization codes and challenge sessions are kept only as
keyed digests; passwords as argon2id. After full flows through the real doors, no plaintext
secret is found in any table, nor in anything logged (SQL and its parameters included)."""

from __future__ import annotations

import logging

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from pool import clock, crypto
from pool.models import SigningKey, User
from pool.services import keys, mfa, passwords
from tests import factories
from tests.security.conftest import (
    CALLBACK,
    authorize_url,
    last_code,
    redirect_params,
    sign_in,
    token_request,
    totp_code,
)

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Sekret-Reset-Pass-31"
SIGNUP_PASSWORD = "Sekret-Signup-Pass-17"


def every_stored_value() -> str:
    """Every column of every row of every model except the dev outbox (which holds messages
    as they would have been sent) and Django's sessions (server-side, see SECURITY.md)."""
    skip = {"pool.outboxmessage", "sessions.session"}
    parts = []
    for model in apps.get_models():
        if model._meta.label_lower in skip:
            continue
        for row in model.objects.all().values():
            parts.extend(str(value) for value in row.values())
    return "\n".join(parts)


@pytest.fixture
def flows(pool, settings, caplog):
    """Run the secret-bearing flows through the real doors, logging everything at DEBUG with
    SQL logged with its parameters; return the plaintext secrets they handled."""
    connection.force_debug_cursor = True  # log every query with its parameters
    settings.RATE_LIMIT_PER_MINUTE = 0
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django sets its own loggers to INFO
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    secrets: dict[str, str] = {}
    confidential = factories.make_client(pool, secret="")
    secrets["client_secret"] = confidential.plain_secret
    browser = Client()

    # sign-up and confirmation through the hosted pages
    login = browser.get(authorize_url(pool, confidential))["Location"]
    browser.post(
        login.replace("/login?", "/signup?"),
        {"username": "carol", "password": SIGNUP_PASSWORD, "email": "carol@example.com"},
    )
    secrets["signup_code"] = last_code("carol@example.com")
    browser.post(
        login.replace("/login?", "/confirm?"),
        {"username": "carol", "code": secrets["signup_code"]},
    )
    secrets["signup_password"] = SIGNUP_PASSWORD

    # a wrong password, then the right one, then code -> tokens -> refresh
    browser.post(login, {"username": "carol", "password": "Wrong-" + SIGNUP_PASSWORD})
    code = redirect_params(
        sign_in(browser, authorize_url(pool, confidential), "carol", SIGNUP_PASSWORD)
    )["code"]
    secrets["authorization_code"] = code
    body = token_request(
        browser,
        pool,
        {
            "grant_type": "authorization_code",
            "client_id": confidential.client_id,
            "client_secret": confidential.plain_secret,
            "code": code,
            "redirect_uri": CALLBACK,
        },
    ).json()
    secrets["refresh_token"] = body["refresh_token"]
    rotated = token_request(
        browser,
        pool,
        {
            "grant_type": "refresh_token",
            "client_id": confidential.client_id,
            "client_secret": confidential.plain_secret,
            "refresh_token": body["refresh_token"],
        },
    ).json()
    secrets["rotated_refresh_token"] = rotated["refresh_token"]

    # forgot password with its code
    browser.post(login.replace("/login?", "/forgotPassword?"), {"username": "carol"})
    secrets["reset_code"] = last_code("carol@example.com")
    browser.post(
        login.replace("/login?", "/confirmForgotPassword?"),
        {
            "username": "carol",
            "code": secrets["reset_code"],
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    secrets["new_password"] = NEW_PASSWORD

    # an authenticator, enrolled and verified
    carol = User.objects.get(username="carol")
    clock.freeze()
    seed, _ = mfa.associate_software_token(user=carol)
    mfa.verify_software_token(user=carol, code=totp_code(seed))
    secrets["totp_seed"] = seed
    connection.force_debug_cursor = False
    assert passwords.verify(User.objects.get(username="carol"), NEW_PASSWORD)
    return secrets


def test_no_plaintext_secret_is_stored(flows):
    stored = every_stored_value()
    for name, value in flows.items():
        if name.endswith("_code") and len(value) == 6:
            continue  # six digits also occur by chance in timestamps; checked below
        assert value not in stored, name


def test_codes_are_not_stored_in_their_tables(flows):
    from pool.models import VerificationCode

    rows = " ".join(str(r) for r in VerificationCode.objects.all().values())
    assert flows["reset_code"] not in rows and flows["signup_code"] not in rows


def test_nothing_secret_is_logged(flows, caplog):
    logged = "\n".join(
        f"{record.getMessage()} {getattr(record, 'params', '')} {getattr(record, 'sql', '')}"
        for record in caplog.get_records("setup")
    )
    assert "SELECT" in logged  # SQL was logged, so the check below covers query parameters
    for name, value in flows.items():
        if name.endswith("_code") and len(value) == 6:
            assert f"'{value}'" not in logged and f'"{value}"' not in logged, name
            continue
        assert value not in logged, name


def test_passwords_are_argon2id_with_the_srp_verifier_encrypted(flows):
    carol = User.objects.get(username="carol")
    assert carol.password.startswith("argon2$argon2id$")
    assert carol.srp_verifier.startswith("gAAAA")
    assert crypto.decrypt(carol.srp_verifier)  # decrypts with the configured key


def test_signing_keys_are_encrypted(pool):
    keys.active_key(pool)
    row = SigningKey.objects.get(pool=pool)
    assert "PRIVATE KEY" not in row.private_key
    assert b"PRIVATE KEY" in crypto.decrypt_bytes(row.private_key)
    assert "d" not in row.public_jwk and "p" not in row.public_jwk


def test_client_secret_is_encrypted(pool):
    client = factories.make_client(pool, secret="")
    assert client.plain_secret not in client.secret
    assert crypto.decrypt(client.secret) == client.plain_secret


def test_argon2_defaults_meet_owasp():
    from django.conf import settings

    # Tests lower the cost for speed (conftest); the configured defaults live in settings.py.
    source = (settings.BASE_DIR / "config" / "settings.py").read_text()
    assert '"ARGON2_MEMORY_KIB", "19456"' in source
    assert '"ARGON2_TIME_COST", "2"' in source
    assert settings.PASSWORD_HASHERS[0] == "pool.hashers.CognateArgon2Hasher"


def test_stored_secrets_need_the_key(pool, settings):
    client = factories.make_client(pool, secret="")
    settings.ENCRYPTION_KEYS = ["another-key-entirely"]
    crypto.reset_caches()
    with pytest.raises(ValueError):
        crypto.decrypt(client.secret)
