"""The user migration trigger at the service level: users who exist only in a legacy store (a
SQLite database with bcrypt hashes, tests.legacy_store) behind a real webhook receiver on
loopback sign in, are created with Cognito's attributes and sign in next time without the
trigger; forgot password migrates them RESET_REQUIRED; every failure leaves no user."""

from __future__ import annotations

import pytest
from django.core import mail

from pool import clock, srp
from pool.errors import (
    AliasExistsException,
    InvalidLambdaResponseException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    UnexpectedLambdaException,
    UserNotFoundException,
)
from pool.models import TriggerInvocation, User, UserPool, UserStatus
from pool.services import authenticate, passwords, srp_auth
from pool.services import triggers as trigger_config
from pool.services.results import Authenticated, Challenge, RequestContext
from tests import factories
from tests import triggers_support as hooks
from tests.legacy_store import LegacyStore
from tests.pool.helpers import emailed_code, srp_claim, srp_client

CTX = RequestContext(ip="127.0.0.1", user_agent="pytest", source="api")
LEGACY_PASSWORD = "old-weak"  # the legacy store's own rules: shorter than the pool's policy
INCORRECT = "Incorrect username or password."


@pytest.fixture
def receiver():
    found, server = hooks.serve()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def legacy(tmp_path):
    store = LegacyStore(tmp_path / "legacy.sqlite3")
    store.add("olduser", LEGACY_PASSWORD, email="old@example.com", full_name="Old User")
    return store


@pytest.fixture
def migrating(pool, receiver, legacy):
    """The pool's UserMigration trigger is the legacy store's webhook."""
    trigger_config.set_trigger(
        pool=pool, kind="UserMigration", webhook=receiver.url, secret=hooks.SECRET
    )
    receiver.answer = legacy.migration_handler()
    return receiver


def sign_in(pool, client, username="olduser", password=LEGACY_PASSWORD, **options):
    return authenticate.password(
        pool=pool,
        client=client,
        username=username,
        password=password,
        context=options.pop("context", CTX),
        flow=options.pop("flow", "USER_PASSWORD_AUTH"),
    )


# ------------------------------------------------------------------------------- sign-in


def test_a_legacy_user_signs_in_and_is_created_with_cognitos_attributes(
    pool, app_client, migrating
):
    context = RequestContext(ip="127.0.0.1", source="api", validation_data={"device": "kiosk"})
    result = sign_in(pool, app_client, context=context)
    assert isinstance(result, Authenticated)
    user = User.objects.get(pool=pool, username="olduser")
    assert result.user.pk == user.pk
    assert user.status == UserStatus.CONFIRMED
    assert user.email == "old@example.com" and user.email_verified
    assert user.attribute_map()["name"] == "Old User"
    assert user.attribute_map()["sub"] == str(user.sub)
    # The typed password is kept: hashed, with its SRP verifier.
    assert passwords.verify(user, LEGACY_PASSWORD)
    assert user.srp_salt and user.srp_verifier
    [received] = migrating.received
    assert received.signed_correctly()
    event = received.event
    assert event["triggerSource"] == "UserMigration_Authentication"
    assert event["userName"] == "olduser"
    assert event["callerContext"]["clientId"] == app_client.client_id
    assert event["request"] == {
        "password": LEGACY_PASSWORD,
        "validationData": {"device": "kiosk"},
    }
    assert event["response"] == {
        "userAttributes": None,
        "finalUserStatus": None,
        "messageAction": None,
        "desiredDeliveryMediums": None,
        "forceAliasCreation": None,
        "enableSMSMFA": None,
    }
    # SUPPRESS, and Cognate sends no welcome message to a migrated user anyway.
    assert mail.outbox == []


def test_the_next_sign_in_does_not_call_the_trigger(pool, app_client, migrating):
    sign_in(pool, app_client)
    assert isinstance(sign_in(pool, app_client), Authenticated)
    assert len(migrating.received) == 1
    # A wrong password is now the pool's own refusal, not the legacy store's.
    with pytest.raises(NotAuthorizedException, match=INCORRECT):
        sign_in(pool, app_client, password="not-it")
    assert len(migrating.received) == 1


def test_a_migrated_user_then_signs_in_with_srp(pool, app_client, migrating):
    sign_in(pool, app_client)
    aws = srp_client(pool, app_client, "olduser", LEGACY_PASSWORD)
    challenge = srp_auth.start(
        pool=pool,
        username="olduser",
        srp_a=aws.get_auth_params()["SRP_A"],
        client=app_client,
        context=CTX,
    )
    timestamp = aws.get_cognito_formatted_timestamp(clock.now())
    responses = srp_claim(aws, challenge.parameters, timestamp)
    result = authenticate.respond_to_challenge(
        pool=pool,
        challenge_name="PASSWORD_VERIFIER",
        session="",
        responses=responses,
        client=app_client,
        context=CTX,
    )
    assert isinstance(result, Authenticated)
    assert len(migrating.received) == 1


def test_srp_sign_in_never_calls_the_trigger(pool, app_client, migrating):
    """Cognito does not migrate on USER_SRP_AUTH: the server never sees the password."""
    challenge = srp_auth.start(
        pool=pool,
        username="olduser",
        srp_a=format(srp.G, "x"),
        client=app_client,
        context=CTX,
    )
    assert challenge.name == "PASSWORD_VERIFIER"  # a stand-in: the name is unknown
    assert migrating.received == []
    assert not User.objects.exists()


def test_admin_password_flow_migrates_with_the_admin_client_id(pool, migrating):
    admin_client = factories.make_client(
        pool, explicit_auth_flows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )
    result = sign_in(pool, admin_client, flow="ADMIN_USER_PASSWORD_AUTH")
    assert isinstance(result, Authenticated)
    assert migrating.last()["callerContext"]["clientId"] == admin_client.client_id


def test_a_wrong_legacy_password_is_incorrect_and_creates_nothing(pool, app_client, migrating):
    with pytest.raises(NotAuthorizedException, match=INCORRECT):
        sign_in(pool, app_client, password="wrong-password")
    assert not User.objects.exists()
    assert TriggerInvocation.objects.get().status == "denied"


def test_unknown_in_the_legacy_store_too_is_any_unknown_name(pool, app_client, migrating):
    with pytest.raises(NotAuthorizedException, match=INCORRECT):
        sign_in(pool, app_client, username="nobody")
    assert len(migrating.received) == 1 and not User.objects.exists()
    # A pool that shows user existence says so, as for any unknown name.
    UserPool.objects.filter(pk=pool.pk).update(prevent_user_existence_errors=False)
    pool.refresh_from_db()
    with pytest.raises(UserNotFoundException, match="User does not exist."):
        sign_in(pool, app_client, username="nobody")
    assert not User.objects.exists()


def answers_bytes(event):
    return 200, b"<html>not json</html>"


def answers_without_response(event):
    return 200, {"nothing": "here"}


@pytest.mark.parametrize(
    ("answer", "delay", "error"),
    [
        (hooks.refusing("Legacy store unavailable"), 0, NotAuthorizedException),
        (hooks.refusing("boom", status=500), 0, NotAuthorizedException),
        (lambda event: (502, b"bad gateway"), 0, UnexpectedLambdaException),
        (hooks.echo, 1.0, UnexpectedLambdaException),
        (answers_bytes, 0, InvalidLambdaResponseException),
        (answers_without_response, 0, InvalidLambdaResponseException),
        (hooks.responding(userAttributes="email=x"), 0, InvalidLambdaResponseException),
        (hooks.responding(userAttributes={"email": 5}), 0, InvalidLambdaResponseException),
        (
            hooks.responding(userAttributes={"email": "o@example.com", "custom:nope": "1"}),
            0,
            InvalidLambdaResponseException,
        ),
        (
            hooks.responding(userAttributes={"email": "o@example.com"}, finalUserStatus="X"),
            0,
            InvalidLambdaResponseException,
        ),
        (
            hooks.responding(userAttributes={"email": "o@example.com"}, forceAliasCreation="y"),
            0,
            InvalidLambdaResponseException,
        ),
        (
            hooks.responding(userAttributes={"email": "o@example.com"}, enableSMSMFA=True),
            0,
            InvalidLambdaResponseException,
        ),
        (
            hooks.responding(
                userAttributes={"email": "o@example.com"}, desiredDeliveryMediums=["FAX"]
            ),
            0,
            InvalidLambdaResponseException,
        ),
    ],
)
def test_a_trigger_that_denies_times_out_or_answers_garbage_leaves_no_user(
    pool, app_client, migrating, settings, answer, delay, error
):
    if delay:
        settings.TRIGGER_TIMEOUT = delay / 2
    migrating.answer = answer
    migrating.delay = delay
    with pytest.raises(error):
        sign_in(pool, app_client)
    assert not User.objects.exists()
    assert mail.outbox == []


def test_the_trigger_cannot_choose_the_sub(pool, app_client, migrating):
    """Cognito's sub is not writable, by a migration trigger either: the answer is refused."""
    migrating.answer = hooks.responding(
        userAttributes={"email": "o@example.com", "sub": "6f1d2c1e-0000-4000-8000-000000000001"}
    )
    with pytest.raises(InvalidLambdaResponseException, match="sub"):
        sign_in(pool, app_client)
    assert not User.objects.exists()


def test_reset_required_keeps_no_password_and_asks_for_a_reset(pool, app_client, migrating, legacy):
    migrating.answer = legacy.migration_handler(finalUserStatus="RESET_REQUIRED")
    with pytest.raises(PasswordResetRequiredException):
        sign_in(pool, app_client)
    user = User.objects.get(username="olduser")
    assert user.status == UserStatus.RESET_REQUIRED
    assert not user.password and not user.srp_verifier


def test_the_sign_in_goes_on_to_mfa(pool, app_client, migrating, legacy):
    UserPool.objects.filter(pk=pool.pk).update(
        mfa_configuration=UserPool.Mfa.OPTIONAL, mfa_methods=["SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    )
    pool.refresh_from_db()  # .update() keeps config_version: a save would replace it
    pool.refresh_from_db()
    legacy.add(
        "phoney", LEGACY_PASSWORD, email="p@example.com", full_name="P", phone="+15555550100"
    )
    migrating.answer = legacy.migration_handler(enableSMSMFA=True)
    result = sign_in(pool, app_client, username="phoney")
    assert isinstance(result, Challenge) and result.name == "SMS_MFA"
    assert User.objects.get(username="phoney").mfa_enabled_methods == ["SMS_MFA"]


def test_a_taken_alias_refuses_unless_force_alias_creation(pool, app_client, migrating, legacy):
    UserPool.objects.filter(pk=pool.pk).update(alias_attributes=["email"])
    pool.refresh_from_db()
    holder = factories.make_user(pool, "holder", email="old@example.com", email_verified=True)
    with pytest.raises(AliasExistsException):
        sign_in(pool, app_client)
    assert not User.objects.filter(username="olduser").exists()
    migrating.answer = legacy.migration_handler(forceAliasCreation=True)
    assert isinstance(sign_in(pool, app_client), Authenticated)
    holder.refresh_from_db()
    assert not holder.email_verified
    assert User.objects.get(username="olduser").email_verified


def test_an_email_username_pool_gets_a_uuid_username(db, migrating, legacy):
    pool = factories.make_pool(username_attributes=["email"])
    client = factories.make_client(pool)
    trigger_config.set_trigger(
        pool=pool, kind="UserMigration", webhook=migrating.url, secret=hooks.SECRET
    )
    result = sign_in(pool, client, username="old@example.com")
    assert isinstance(result, Authenticated)
    user = User.objects.get(pool=pool)
    assert user.username == str(user.sub) and user.email == "old@example.com"
    assert migrating.last()["userName"] == "old@example.com"


# ------------------------------------------------------------------------ forgot password


def forgot(pool, client, username="olduser"):
    return passwords.forgot_password(pool=pool, username=username, client=client, context=CTX)


def test_forgot_password_migrates_reset_required_and_sends_the_code(pool, app_client, migrating):
    delivery = forgot(pool, app_client)
    assert delivery.attribute == "email"
    user = User.objects.get(username="olduser")
    assert user.status == UserStatus.RESET_REQUIRED and not user.password
    event = migrating.last()
    assert event["triggerSource"] == "UserMigration_ForgotPassword"
    assert "password" not in event["request"]
    code = emailed_code("old@example.com")
    passwords.confirm_forgot_password(
        pool=pool,
        username="olduser",
        code=code,
        password=factories.PASSWORD,
        context=CTX,
        client=app_client,
    )
    result = sign_in(pool, app_client, password=factories.PASSWORD)
    assert isinstance(result, Authenticated)
    assert len(migrating.received) == 1


def test_forgot_password_for_a_name_unknown_everywhere_is_simulated(pool, app_client, migrating):
    delivery = forgot(pool, app_client, username="nobody")
    assert delivery.medium == "EMAIL"  # the pool's plausible answer for any unknown name
    assert not User.objects.exists() and mail.outbox == []
    assert len(migrating.received) == 1


def test_forgot_password_with_a_failing_trigger_creates_nothing(pool, app_client, migrating):
    migrating.answer = answers_bytes
    with pytest.raises(InvalidLambdaResponseException):
        forgot(pool, app_client)
    assert not User.objects.exists() and mail.outbox == []


def test_user_migration_is_configurable(pool):
    setting = trigger_config.set_trigger(
        pool=pool, kind="UserMigration", python="tests.triggers_support.context_recorder"
    )
    assert setting.kind == "UserMigration"


def test_a_user_created_while_the_trigger_ran_signs_in_with_the_pools_password(pool, app_client):
    trigger_config.set_trigger(
        pool=pool,
        kind="UserMigration",
        python="tests.triggers_support.migration_racing_a_sign_up",
    )
    # The legacy store accepted this password, but the pool's own user has another one.
    with pytest.raises(NotAuthorizedException, match=INCORRECT):
        sign_in(pool, app_client, username="racer", password=LEGACY_PASSWORD)
    assert User.objects.get(username="racer").email == "winner@example.com"
    User.objects.filter(username="racer").delete()
    # With the pool user's password, the sign-in is theirs.
    result = sign_in(pool, app_client, username="racer", password=factories.PASSWORD)
    assert isinstance(result, Authenticated)
    assert User.objects.get(username="racer").email == "winner@example.com"
