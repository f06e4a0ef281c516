"""Password sign-in: lookup, status rules, challenges, MFA decision and challenge sessions."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from django_otp.oath import TOTP

from pool import clock, crypto
from pool.errors import (
    CodeMismatchException,
    InvalidParameterException,
    InvalidPasswordException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserNotConfirmedException,
    UserNotFoundException,
)
from pool.models import (
    AuthEvent,
    ChallengeSession,
    OutboxMessage,
    TotpDevice,
    User,
    UserPool,
    UserStatus,
)
from pool.services import authenticate, passwords
from pool.services.results import Authenticated, Challenge
from tests import factories
from tests.pool.helpers import wrong_code

PASSWORD = factories.PASSWORD


def sign_in(pool, username="alice", password=PASSWORD, client=None):
    return authenticate.password(pool=pool, username=username, password=password, client=client)


def respond(pool, challenge, responses, client=None):
    return authenticate.respond_to_challenge(
        pool=pool,
        challenge_name=challenge.name,
        session=challenge.session,
        responses=responses,
        client=client,
    )


def configure(pool, **fields):
    UserPool.objects.filter(pk=pool.pk).update(**fields)
    pool.refresh_from_db()
    return pool


def enrol_totp(user) -> str:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TotpDevice.objects.create(user=user, secret=crypto.encrypt(secret), confirmed=True)
    User.objects.filter(pk=user.pk).update(software_token_mfa_enabled=True)
    user.refresh_from_db()
    return secret


def totp_code(secret: str, offset_steps: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret))
    totp.time = clock.timestamp() + offset_steps * 30
    return f"{totp.token():06d}"


def last_sms_code(to: str) -> str:
    message = OutboxMessage.objects.filter(channel="sms", to=to).latest("created_at")
    return re.search(r"\d{6}", message.body).group()


# ------------------------------------------------------------------------------- passwords


def test_correct_password_authenticates(pool, user, app_client):
    clock.freeze()
    result = sign_in(pool, client=app_client)
    assert isinstance(result, Authenticated)
    assert result.user == user and result.client == app_client
    assert result.auth_time == clock.now() and result.methods == ("pwd",)


def test_sign_in_updates_last_sign_in_and_records_event(pool, user):
    clock.freeze()
    sign_in(pool)
    user.refresh_from_db()
    assert user.last_sign_in_at == clock.now()
    event = AuthEvent.objects.get(user=user)
    assert event.event_type == AuthEvent.Type.SIGN_IN and event.success


def test_username_is_case_insensitive_by_default(pool, user):
    assert isinstance(sign_in(pool, "ALICE"), Authenticated)


def test_verified_email_alias_signs_in(pool):
    configure(pool, alias_attributes=["email"])
    factories.make_user(pool, "dave")
    assert sign_in(pool, "dave@example.com").user.username == "dave"


def test_wrong_password_is_refused_and_recorded(pool, user):
    with pytest.raises(NotAuthorizedException, match=r"^Incorrect username or password\.$"):
        sign_in(pool, password="wrong")
    event = AuthEvent.objects.get(user=user)
    assert not event.success and event.reason == "wrong password"


def test_unknown_user_gets_the_same_error(pool):
    with pytest.raises(NotAuthorizedException, match=r"^Incorrect username or password\.$"):
        sign_in(pool, "nobody")
    assert AuthEvent.objects.get(username="nobody").reason == "unknown user"


def test_unknown_user_is_named_when_pool_allows_existence_errors(pool):
    configure(pool, prevent_user_existence_errors=False)
    with pytest.raises(UserNotFoundException):
        sign_in(pool, "nobody")


def test_disabled_user_is_refused_after_password_check(pool, user):
    User.objects.filter(pk=user.pk).update(enabled=False)
    with pytest.raises(NotAuthorizedException, match=r"^Incorrect username"):
        sign_in(pool, password="wrong")
    with pytest.raises(NotAuthorizedException, match=r"^User is disabled\.$"):
        sign_in(pool)


def test_unconfirmed_user_is_told_after_password_check(pool):
    factories.make_user(pool, "una", status=UserStatus.UNCONFIRMED)
    with pytest.raises(NotAuthorizedException):
        sign_in(pool, "una", "wrong")
    with pytest.raises(UserNotConfirmedException):
        sign_in(pool, "una")


def test_reset_required_user_must_reset(pool):
    factories.make_user(pool, "rita", status=UserStatus.RESET_REQUIRED)
    with pytest.raises(PasswordResetRequiredException):
        sign_in(pool, "rita")


def test_imported_user_without_password_is_told_to_reset_when_allowed(pool):
    configure(pool, prevent_user_existence_errors=False)
    factories.make_user(pool, "imp", status=UserStatus.RESET_REQUIRED, password=None)
    with pytest.raises(PasswordResetRequiredException):
        sign_in(pool, "imp", "anything")


def test_imported_user_without_password_is_not_revealed_by_default(pool):
    factories.make_user(pool, "imp", status=UserStatus.RESET_REQUIRED, password=None)
    with pytest.raises(NotAuthorizedException):
        sign_in(pool, "imp", "anything")


def test_client_of_another_pool_is_refused(pool, user):
    from pool.errors import ResourceNotFoundException

    with pytest.raises(ResourceNotFoundException):
        sign_in(pool, client=factories.make_client(factories.make_pool()))


# ---------------------------------------------------------------------------- new password


@pytest.fixture
def temp_user(pool):
    return factories.make_user(pool, "tom", status=UserStatus.FORCE_CHANGE_PASSWORD)


def test_temporary_password_gets_new_password_challenge(pool, temp_user):
    challenge = sign_in(pool, "tom")
    assert isinstance(challenge, Challenge) and challenge.name == "NEW_PASSWORD_REQUIRED"
    assert json.loads(challenge.parameters["userAttributes"])["email"] == "tom@example.com"
    assert json.loads(challenge.parameters["requiredAttributes"]) == []
    assert len(challenge.session) >= 20


def test_required_attributes_missing_are_listed(pool):
    configure(pool, required_attributes=["email", "name"])
    factories.make_user(pool, "tom", status=UserStatus.FORCE_CHANGE_PASSWORD)
    challenge = sign_in(pool, "tom")
    assert json.loads(challenge.parameters["requiredAttributes"]) == ["userAttributes.name"]


def test_expired_temporary_password_is_refused(pool, temp_user):
    clock.freeze(clock.now() + dt.timedelta(days=pool.temporary_password_validity_days, seconds=1))
    with pytest.raises(NotAuthorizedException, match="Temporary password has expired"):
        sign_in(pool, "tom")


def test_new_password_confirms_the_user(pool, temp_user):
    result = respond(pool, sign_in(pool, "tom"), {"NEW_PASSWORD": "Brand-New-Pass-7"})
    assert isinstance(result, Authenticated)
    temp_user.refresh_from_db()
    assert temp_user.status == UserStatus.CONFIRMED
    assert temp_user.temporary_password_expires_at is None
    assert passwords.verify(temp_user, "Brand-New-Pass-7")
    assert not passwords.verify(temp_user, PASSWORD)


def test_new_password_sets_required_attributes(pool):
    configure(pool, required_attributes=["email", "name"])
    user = factories.make_user(pool, "tom", status=UserStatus.FORCE_CHANGE_PASSWORD)
    responses = {"NEW_PASSWORD": "Brand-New-Pass-7", "userAttributes.name": "Tom"}
    assert isinstance(respond(pool, sign_in(pool, "tom"), responses), Authenticated)
    user.refresh_from_db()
    assert user.name == "Tom"


def test_new_password_without_required_attribute_is_refused(pool):
    from pool.errors import InvalidParameterException

    configure(pool, required_attributes=["email", "name"])
    factories.make_user(pool, "tom", status=UserStatus.FORCE_CHANGE_PASSWORD)
    with pytest.raises(InvalidParameterException):
        respond(pool, sign_in(pool, "tom"), {"NEW_PASSWORD": "Brand-New-Pass-7"})


def test_weak_new_password_is_refused_and_session_survives(pool, temp_user):
    challenge = sign_in(pool, "tom")
    with pytest.raises(InvalidPasswordException):
        respond(pool, challenge, {"NEW_PASSWORD": "short"})
    assert isinstance(respond(pool, challenge, {"NEW_PASSWORD": "Brand-New-Pass-7"}), Authenticated)


def test_new_password_then_mfa(pool):
    configure(pool, mfa_configuration="ON")
    factories.make_user(pool, "tom", status=UserStatus.FORCE_CHANGE_PASSWORD)
    result = respond(pool, sign_in(pool, "tom"), {"NEW_PASSWORD": "Brand-New-Pass-7"})
    assert isinstance(result, Challenge) and result.name == "MFA_SETUP"


# ------------------------------------------------------------------------- challenge session


def test_challenge_session_is_single_use(pool, temp_user):
    challenge = sign_in(pool, "tom")
    respond(pool, challenge, {"NEW_PASSWORD": "Brand-New-Pass-7"})
    with pytest.raises(NotAuthorizedException, match=r"^Invalid session for the user\.$"):
        respond(pool, challenge, {"NEW_PASSWORD": "Other-New-Pass-8"})


def test_challenge_session_is_stored_as_digest(pool, temp_user):
    challenge = sign_in(pool, "tom")
    assert not ChallengeSession.objects.filter(digest=challenge.session).exists()
    assert ChallengeSession.objects.filter(digest=crypto.digest(challenge.session)).exists()


def test_challenge_session_expires(pool, temp_user, app_client):
    clock.freeze()
    challenge = sign_in(pool, "tom", client=app_client)
    clock.advance(seconds=app_client.auth_session_validity)
    with pytest.raises(NotAuthorizedException, match="session is expired"):
        respond(pool, challenge, {"NEW_PASSWORD": "Brand-New-Pass-7"}, client=app_client)


def test_challenge_session_is_bound_to_its_client(pool, temp_user, app_client):
    challenge = sign_in(pool, "tom", client=app_client)
    other = factories.make_client(pool)
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, challenge, {"NEW_PASSWORD": "Brand-New-Pass-7"}, client=other)


def test_challenge_session_is_bound_to_its_challenge(pool, temp_user):
    challenge = sign_in(pool, "tom")
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        authenticate.respond_to_challenge(
            pool=pool,
            challenge_name="SOFTWARE_TOKEN_MFA",
            session=challenge.session,
            responses={"SOFTWARE_TOKEN_MFA_CODE": "123456"},
        )


def test_challenge_username_must_match_the_session(pool, temp_user, user):
    challenge = sign_in(pool, "tom")
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, challenge, {"USERNAME": "alice", "NEW_PASSWORD": "Brand-New-Pass-7"})


# ------------------------------------------------------------------------------ MFA decision


def test_mfa_off_ignores_enrolled_totp(pool, user):
    configure(pool, mfa_configuration="OFF")
    enrol_totp(user)
    assert isinstance(sign_in(pool), Authenticated)


def test_optional_mfa_without_methods_authenticates(pool, user):
    assert isinstance(sign_in(pool), Authenticated)


def test_optional_mfa_with_totp_challenges(pool, user):
    enrol_totp(user)
    challenge = sign_in(pool)
    assert challenge.name == "SOFTWARE_TOKEN_MFA"
    assert challenge.parameters == {"USER_ID_FOR_SRP": "alice"}


def test_required_mfa_without_methods_asks_for_setup(pool, user):
    configure(pool, mfa_configuration="ON")
    challenge = sign_in(pool)
    assert challenge.name == "MFA_SETUP"
    assert json.loads(challenge.parameters["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]


def test_totp_answer_authenticates(pool, user):
    secret = enrol_totp(user)
    result = respond(pool, sign_in(pool), {"SOFTWARE_TOKEN_MFA_CODE": totp_code(secret)})
    assert isinstance(result, Authenticated) and result.methods == ("pwd", "otp")


def test_totp_answer_in_adjacent_step_is_accepted(pool, user):
    secret = enrol_totp(user)
    result = respond(pool, sign_in(pool), {"SOFTWARE_TOKEN_MFA_CODE": totp_code(secret, -1)})
    assert isinstance(result, Authenticated)


def test_totp_code_cannot_be_replayed_in_another_sign_in(pool, user):
    clock.freeze()
    secret = enrol_totp(user)
    code = totp_code(secret)
    respond(pool, sign_in(pool), {"SOFTWARE_TOKEN_MFA_CODE": code})
    with pytest.raises(CodeMismatchException):
        respond(pool, sign_in(pool), {"SOFTWARE_TOKEN_MFA_CODE": code})


def test_wrong_code_keeps_session_for_a_retry(pool, user):
    secret = enrol_totp(user)
    challenge = sign_in(pool)
    with pytest.raises(CodeMismatchException):
        respond(pool, challenge, {"SOFTWARE_TOKEN_MFA_CODE": "000000"})
    code = totp_code(secret)
    assert isinstance(respond(pool, challenge, {"SOFTWARE_TOKEN_MFA_CODE": code}), Authenticated)


def test_three_wrong_codes_void_the_session(pool, user):
    secret = enrol_totp(user)
    challenge = sign_in(pool)
    wrong = "999999" if totp_code(secret) != "999999" else "999998"
    for _ in range(2):
        with pytest.raises(CodeMismatchException):
            respond(pool, challenge, {"SOFTWARE_TOKEN_MFA_CODE": wrong})
    with pytest.raises(NotAuthorizedException, match=r"^Invalid session for the user\.$"):
        respond(pool, challenge, {"SOFTWARE_TOKEN_MFA_CODE": wrong})
    with pytest.raises(NotAuthorizedException, match="Invalid session"):
        respond(pool, challenge, {"SOFTWARE_TOKEN_MFA_CODE": totp_code(secret)})


def test_wrong_codes_across_sessions_lock_mfa(pool, user):
    secret = enrol_totp(user)
    for _ in range(5):
        with pytest.raises(CodeMismatchException):
            respond(pool, sign_in(pool), {"SOFTWARE_TOKEN_MFA_CODE": "abcdef"})
    with pytest.raises(NotAuthorizedException, match="Too many invalid codes"):
        respond(pool, sign_in(pool), {"SOFTWARE_TOKEN_MFA_CODE": totp_code(secret)})


@pytest.fixture
def sms_pool(pool):
    return configure(pool, mfa_methods=["SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP"])


def test_sms_mfa_sends_code_and_accepts_it(sms_pool):
    factories.make_user(sms_pool, "sam", phone_number="+15550009878", sms_mfa_enabled=True)
    challenge = sign_in(sms_pool, "sam")
    assert challenge.name == "SMS_MFA"
    assert challenge.parameters["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    assert challenge.parameters["CODE_DELIVERY_DESTINATION"] == "+*******9878"
    result = respond(sms_pool, challenge, {"SMS_MFA_CODE": last_sms_code("+15550009878")})
    assert isinstance(result, Authenticated) and result.methods == ("pwd", "sms")


def test_email_otp_is_delivered_by_smtp(sms_pool, smtp_sink):
    factories.make_user(sms_pool, "eve", email_mfa_enabled=True)
    challenge = sign_in(sms_pool, "eve")
    assert challenge.name == "EMAIL_OTP"
    assert challenge.parameters["CODE_DELIVERY_DESTINATION"] == "e***@e***"
    body = smtp_sink.body(smtp_sink.wait_for("eve@example.com"))
    code = re.search(r"\d{6}", body).group()
    result = respond(sms_pool, challenge, {"EMAIL_OTP_CODE": code})
    assert isinstance(result, Authenticated) and result.methods == ("pwd", "email")


def test_several_methods_without_preference_ask_to_select(sms_pool):
    user = factories.make_user(sms_pool, "sam", phone_number="+15550009878", sms_mfa_enabled=True)
    enrol_totp(user)
    challenge = sign_in(sms_pool, "sam")
    assert challenge.name == "SELECT_MFA_TYPE"
    assert set(json.loads(challenge.parameters["MFAS_CAN_CHOOSE"])) == {
        "SMS_MFA",
        "SOFTWARE_TOKEN_MFA",
    }
    chosen = respond(sms_pool, challenge, {"ANSWER": "SMS_MFA"})
    assert chosen.name == "SMS_MFA" and chosen.session != challenge.session


def test_preferred_method_is_used(sms_pool):
    user = factories.make_user(
        sms_pool,
        "sam",
        phone_number="+15550009878",
        sms_mfa_enabled=True,
        preferred_mfa="SOFTWARE_TOKEN_MFA",
    )
    enrol_totp(user)
    assert sign_in(sms_pool, "sam").name == "SOFTWARE_TOKEN_MFA"


def test_method_not_allowed_by_pool_is_skipped(pool):
    factories.make_user(pool, "sam", phone_number="+15550009878", sms_mfa_enabled=True)
    assert isinstance(sign_in(pool, "sam"), Authenticated)


def test_wrong_sms_code_is_a_mismatch(sms_pool):
    factories.make_user(sms_pool, "sam", phone_number="+15550009878", sms_mfa_enabled=True)
    challenge = sign_in(sms_pool, "sam")
    wrong = wrong_code(last_sms_code("+15550009878"))
    with pytest.raises(CodeMismatchException):
        respond(sms_pool, challenge, {"SMS_MFA_CODE": wrong})


def test_failed_mfa_is_recorded(pool, user):
    enrol_totp(user)
    with pytest.raises(CodeMismatchException):
        respond(pool, sign_in(pool), {"SOFTWARE_TOKEN_MFA_CODE": "abcdef"})
    assert AuthEvent.objects.filter(user=user, success=False, reason__contains="code").exists()


# ---------------------------------------------------------------- CUSTOM_AUTH and USER_AUTH


def test_custom_auth_is_refused_while_the_pool_has_no_triggers(pool, user):
    client = factories.make_client(pool, explicit_auth_flows=["ALLOW_CUSTOM_AUTH"])
    with pytest.raises(InvalidParameterException, match="Custom auth lambda trigger"):
        authenticate.custom_auth(pool=pool, client=client, username="alice")
    assert not ChallengeSession.objects.exists()


def test_custom_auth_needs_the_flow_enabled(pool, user, app_client):
    with pytest.raises(InvalidParameterException, match="CUSTOM_AUTH flow not enabled"):
        authenticate.custom_auth(pool=pool, client=app_client, username="alice")


def choice(pool, client, **over):
    arguments = {
        "pool": pool,
        "client": client,
        "username": "alice",
        "preferred_challenge": "PASSWORD",
        "given_password": PASSWORD,
    } | over
    return authenticate.choice_based(**arguments)


def test_user_auth_with_the_password_factor_is_a_password_sign_in(pool, user):
    client = factories.make_client(pool, explicit_auth_flows=["ALLOW_USER_AUTH"])
    assert isinstance(choice(pool, client), Authenticated)
    with pytest.raises(NotAuthorizedException, match="Incorrect username or password."):
        choice(pool, client, given_password="Wrong-Horse-9")


@pytest.mark.parametrize(
    "over",
    [{"preferred_challenge": None}, {"preferred_challenge": "EMAIL_OTP"}, {"given_password": None}],
)
def test_user_auth_in_any_other_form_is_refused(pool, user, over):
    client = factories.make_client(pool, explicit_auth_flows=["ALLOW_USER_AUTH"])
    with pytest.raises(InvalidParameterException, match="PREFERRED_CHALLENGE PASSWORD"):
        choice(pool, client, **over)
    assert not User.objects.get(pk=user.pk).last_sign_in_at


def test_user_auth_needs_the_flow_enabled(pool, user, app_client):
    with pytest.raises(InvalidParameterException, match="USER_AUTH flow not enabled"):
        choice(pool, app_client)
