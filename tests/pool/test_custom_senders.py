"""CustomEmailSender / CustomSMSSender: the delivery service hands the message to the trigger
instead of sending it; the event carries the code encrypted under the trigger's own key (a
real webhook receiver on loopback decrypts it as a handler would)."""

from __future__ import annotations

import base64
import html

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core import mail
from django.db import connection

from pool import sender_codes
from pool.errors import (
    InvalidParameterException,
    UnexpectedLambdaException,
    UserLambdaValidationException,
)
from pool.models import OutboxMessage, Trigger, TriggerInvocation, User, VerificationCode
from pool.services import admin, attributes, delivery, passwords
from pool.services import triggers as trigger_config
from pool.services.results import RequestContext
from pool.services.sign_up import confirm_sign_up, sign_up
from tests import factories
from tests import triggers_support as hooks

CTX = RequestContext(ip="127.0.0.1", user_agent="pytest", source="api")


@pytest.fixture
def receiver():
    found, server = hooks.serve()
    yield found
    server.shutdown()
    server.server_close()


def sender(pool, kind: str, receiver, **options) -> str:
    """Configure the sender; return its code key (shown once)."""
    setting = trigger_config.set_trigger(
        pool=pool, kind=kind, webhook=receiver.url, secret=hooks.SECRET, **options
    )
    return setting.new_code_key or options["code_key"]


def code_of(event, key: str) -> str:
    """What a handler does with request.code."""
    return sender_codes.decrypt(
        key,
        event["request"]["code"],
        pool_id=event["userPoolId"],
        trigger_source=event["triggerSource"],
    )


def new_sign_up(pool, client, **options):
    return sign_up(
        pool=pool,
        username="newbie",
        password=factories.PASSWORD,
        attributes={"email": "new@example.com"},
        client=client,
        context=CTX,
        **options,
    )


def test_sign_up_code_goes_to_the_email_sender_encrypted_and_nothing_is_mailed(
    pool, app_client, receiver
):
    key = sender(pool, "CustomEmailSender", receiver)
    receiver.answer = lambda event: (200, None)  # Cognito ignores a sender's answer
    result = new_sign_up(pool, app_client, client_metadata={"campaign": "spring"})
    assert mail.outbox == []
    assert result.delivery.medium == "EMAIL"
    [received] = receiver.received
    assert received.signed_correctly()
    event = received.event
    assert event["version"] == "1"
    assert event["triggerSource"] == "CustomEmailSender_SignUp"
    assert event["userName"] == "newbie"
    assert event["callerContext"]["clientId"] == app_client.client_id
    request = event["request"]
    assert request["type"] == "customEmailSenderRequestV1"
    assert request["clientMetadata"] == {"campaign": "spring"}
    assert request["userAttributes"]["email"] == "new@example.com"
    code = code_of(event, key)
    assert code not in received.body.decode()
    confirm_sign_up(pool=pool, username="newbie", code=code, client=app_client, context=CTX)
    assert User.objects.get(username="newbie").email_verified


def test_the_code_only_opens_for_its_own_event(pool, app_client, receiver):
    key = sender(pool, "CustomEmailSender", receiver)
    new_sign_up(pool, app_client)
    event = receiver.last()
    with pytest.raises(InvalidTag):  # another flow's associated data: the tag does not match
        sender_codes.decrypt(
            key, event["request"]["code"], pool_id=pool.id, trigger_source="CustomEmailSender_X"
        )
    with pytest.raises(InvalidTag):
        sender_codes.decrypt(
            sender_codes.new_key(),
            event["request"]["code"],
            pool_id=pool.id,
            trigger_source=event["triggerSource"],
        )


def test_a_refusing_sender_fails_the_sign_up_and_writes_nothing(pool, app_client, receiver):
    sender(pool, "CustomEmailSender", receiver)
    receiver.answer = hooks.refusing("mail provider down")
    with pytest.raises(UserLambdaValidationException) as refused:
        new_sign_up(pool, app_client)
    assert refused.value.message == "CustomEmailSender failed with error mail provider down."
    assert not User.objects.exists()
    assert not VerificationCode.objects.exists()
    assert mail.outbox == []
    [logged] = TriggerInvocation.objects.all()
    assert (logged.trigger_source, logged.status) == ("CustomEmailSender_SignUp", "denied")


def test_forgot_password_by_sms_goes_to_the_sms_sender(pool, app_client, receiver):
    factories.make_user(pool, "bob", email="", phone_number="+15550100", phone_number_verified=True)
    key = sender(pool, "CustomSMSSender", receiver)
    delivery = passwords.forgot_password(pool=pool, username="bob", client=app_client, context=CTX)
    assert delivery.medium == "SMS"
    assert not OutboxMessage.objects.filter(channel=OutboxMessage.Channel.SMS).exists()
    event = receiver.last()
    assert event["triggerSource"] == "CustomSMSSender_ForgotPassword"
    assert event["request"]["type"] == "customSMSSenderRequestV1"
    assert event["request"]["userAttributes"]["phone_number"] == "+15550100"
    code = code_of(event, key)
    passwords.confirm_forgot_password(
        pool=pool,
        username="bob",
        code=code,
        password="N3w-Passw0rd!x",
        client=app_client,
        context=CTX,
    )


def test_an_email_only_sender_leaves_sms_to_the_pool(pool, app_client, receiver):
    factories.make_user(pool, "bob", email="", phone_number="+15550100", phone_number_verified=True)
    sender(pool, "CustomEmailSender", receiver)
    passwords.forgot_password(pool=pool, username="bob", client=app_client, context=CTX)
    assert receiver.received == []
    assert OutboxMessage.objects.filter(channel=OutboxMessage.Channel.SMS).exists()


def test_the_invitation_gives_the_temporary_password_html_escaped(pool, receiver):
    key = sender(pool, "CustomEmailSender", receiver)
    admin.admin_create_user(
        pool=pool,
        username="invited",
        attributes={"email": "invited@example.com"},
        temporary_password="Tmp<Pass&1word",
    )
    event = receiver.last()
    assert event["triggerSource"] == "CustomEmailSender_AdminCreateUser"
    assert event["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"
    assert code_of(event, key) == html.escape("Tmp<Pass&1word")
    assert mail.outbox == []


def test_a_changed_email_is_named_in_the_event(pool, app_client, receiver):
    user = factories.make_user(pool, "carol")
    sender(pool, "CustomEmailSender", receiver)
    attributes.update_attributes(
        user=user, attributes={"email": "carol.new@example.com"}, client=app_client, context=CTX
    )
    event = receiver.last()
    assert event["triggerSource"] == "CustomEmailSender_UpdateUserAttribute"
    assert event["request"]["userAttributes"]["email"] == "carol.new@example.com"


def test_the_key_is_shown_once_kept_for_the_same_target_and_encrypted_at_rest(pool, receiver):
    first = trigger_config.set_trigger(pool=pool, kind="CustomEmailSender", webhook=receiver.url)
    assert len(first.new_code_key) == 44
    again = trigger_config.set_trigger(pool=pool, kind="CustomEmailSender", webhook=receiver.url)
    assert again.new_code_key == ""
    assert Trigger.objects.get(kind="CustomEmailSender").code_key == first.new_code_key
    with connection.cursor() as cursor:
        cursor.execute("SELECT code_key FROM pool_trigger")
        [(stored,)] = cursor.fetchall()
    assert first.new_code_key not in stored


def test_an_operator_key_is_used_and_bad_keys_are_refused(pool, receiver):
    key = sender_codes.new_key()
    setting = trigger_config.set_trigger(
        pool=pool, kind="CustomSMSSender", webhook=receiver.url, code_key=key
    )
    assert setting.new_code_key == ""
    assert Trigger.objects.get(kind="CustomSMSSender").code_key == key
    for bad in ("", "not base64!", "c2hvcnQ="):
        with pytest.raises(InvalidParameterException, match="AES-256"):
            trigger_config.set_trigger(
                pool=pool, kind="CustomSMSSender", webhook=receiver.url, code_key=bad
            )
    with pytest.raises(InvalidParameterException, match="code key"):
        trigger_config.set_trigger(pool=pool, kind="PreSignUp", webhook=receiver.url, code_key=key)


def test_lambda_config_refuses_senders_and_leaves_them_alone(pool, receiver):
    sender(pool, "CustomEmailSender", receiver)
    with pytest.raises(InvalidParameterException, match="settrigger"):
        trigger_config.parse_lambda_config({"CustomEmailSender": {"LambdaArn": receiver.url}})
    trigger_config.replace_all(pool=pool, config={"PreSignUp": receiver.url})
    assert set(Trigger.objects.values_list("kind", flat=True)) == {
        "CustomEmailSender",
        "PreSignUp",
    }
    assert "CustomEmailSender" not in trigger_config.lambda_config(pool)


def test_the_log_holds_no_code(pool, app_client, receiver):
    key = sender(pool, "CustomEmailSender", receiver)
    new_sign_up(pool, app_client)
    code = code_of(receiver.last(), key)
    [logged] = TriggerInvocation.objects.values()
    assert code not in str(logged) and key not in str(logged)


def test_a_handler_decrypts_the_code_as_the_readme_says(pool, app_client, receiver):
    """The README's recipe, with nothing of Cognate's: AES-256-GCM, 12-byte nonce first,
    "<userPoolId>:<triggerSource>" as associated data."""
    key = sender(pool, "CustomEmailSender", receiver)
    new_sign_up(pool, app_client)
    event = receiver.last()
    blob = base64.b64decode(event["request"]["code"])
    aad = f"{event['userPoolId']}:{event['triggerSource']}".encode()
    code = AESGCM(base64.b64decode(key)).decrypt(blob[:12], blob[12:], aad).decode()
    assert code == code_of(event, key) and code.isdigit()


def test_a_failing_sender_leaves_no_reset_code(pool, app_client, user, receiver):
    sender(pool, "CustomEmailSender", receiver)
    receiver.answer = lambda event: (502, b"bad gateway")
    with pytest.raises(UnexpectedLambdaException, match="CustomEmailSender invocation failed"):
        passwords.forgot_password(pool=pool, username="alice", client=app_client, context=CTX)
    assert not VerificationCode.objects.exists()
    assert mail.outbox == []


def test_a_failing_sender_leaves_the_attribute_unchanged(pool, app_client, receiver):
    user = factories.make_user(pool, "carol")
    sender(pool, "CustomEmailSender", receiver)
    receiver.answer = hooks.refusing("no")
    with pytest.raises(UserLambdaValidationException):
        attributes.update_attributes(
            user=user, attributes={"email": "carol.new@example.com"}, client=app_client, context=CTX
        )
    user.refresh_from_db()
    assert user.email == "carol@example.com"
    assert not VerificationCode.objects.exists()


def test_a_sign_in_code_goes_to_the_sender(pool, user, receiver):
    key = sender(pool, "CustomEmailSender", receiver)
    delivery.send_mfa_code(user, "EMAIL_OTP", "24681357")
    event = receiver.last()
    assert event["triggerSource"] == "CustomEmailSender_Authentication"
    assert code_of(event, key) == "24681357"
    assert mail.outbox == []
