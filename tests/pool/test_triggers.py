"""Triggers at the service level, against a real webhook receiver on loopback (http.server in a
thread) and in-process Python handlers: each triggerSource's event field by field, the HMAC
headers, each response effect, and Cognito's three errors."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from django.core import mail
from django.db import connection

from pool import clock
from pool.errors import (
    InvalidLambdaResponseException,
    UnexpectedLambdaException,
    UserLambdaValidationException,
)
from pool.models import (
    Group,
    Trigger,
    TriggerInvocation,
    User,
    UserStatus,
    VerificationCode,
)
from pool.services import admin, authenticate, passwords, tokens
from pool.services import triggers as trigger_config
from pool.services.results import Authenticated, RequestContext
from pool.services.sign_up import confirm_sign_up, sign_up
from tests import factories
from tests import triggers_support as hooks
from tests.conftest import free_port
from tests.pool.helpers import emailed_code

CTX = RequestContext(ip="127.0.0.1", user_agent="pytest", source="api")
PASSWORD = factories.PASSWORD


@pytest.fixture
def receiver():
    found, server = hooks.serve()
    yield found
    server.shutdown()
    server.server_close()


def hook(pool, kind: str, receiver, **options) -> None:
    trigger_config.set_trigger(
        pool=pool, kind=kind, webhook=receiver.url, secret=hooks.SECRET, **options
    )


def python(pool, kind: str, handler: str, **options) -> None:
    trigger_config.set_trigger(
        pool=pool, kind=kind, python=f"tests.triggers_support.{handler}", **options
    )


def new_sign_up(pool, client, email="new@example.com", **options):
    return sign_up(
        pool=pool,
        username="newbie",
        password=PASSWORD,
        attributes={"email": email},
        client=client,
        context=CTX,
        **options,
    )


def envelope_of(event, pool, *, source: str, user_name: str, client_id: str) -> None:
    """Cognito's envelope, every field."""
    assert event["version"] == "1"
    assert event["region"] == pool.region
    assert event["userPoolId"] == pool.id
    assert event["userName"] == user_name
    assert event["callerContext"] == {
        "awsSdkVersion": "aws-sdk-unknown-unknown",
        "clientId": client_id,
    }
    assert event["triggerSource"] == source
    assert set(event) == {
        "version",
        "region",
        "userPoolId",
        "userName",
        "callerContext",
        "triggerSource",
        "request",
        "response",
    }


def sign_in(pool, client, username="alice", context=CTX):
    return authenticate.password(
        pool=pool, client=client, username=username, password=PASSWORD, context=context
    )


# ------------------------------------------------------------------------------ pre sign-up


def test_pre_sign_up_event_is_cognitos_and_signed(pool, app_client, receiver):
    hook(pool, "PreSignUp", receiver)
    new_sign_up(
        pool,
        app_client,
        client_metadata={"invite": "abc"},
        validation_data={"captcha": "ok"},
    )
    [received] = receiver.received
    event = received.event
    envelope_of(
        event, pool, source="PreSignUp_SignUp", user_name="newbie", client_id=app_client.client_id
    )
    assert event["request"] == {
        "userAttributes": {"email": "new@example.com"},
        "validationData": {"captcha": "ok"},
        "clientMetadata": {"invite": "abc"},
    }
    assert event["response"] == {
        "autoConfirmUser": False,
        "autoVerifyEmail": False,
        "autoVerifyPhone": False,
    }
    assert received.signed_correctly()
    assert not received.signed_correctly("another-secret-0123456789")


def test_pre_sign_up_auto_confirms_and_verifies_without_sending_a_code(pool, app_client, receiver):
    hook(pool, "PreSignUp", receiver)
    receiver.answer = hooks.responding(autoConfirmUser=True, autoVerifyEmail=True)
    result = new_sign_up(pool, app_client)
    user = User.objects.get(pk=result.user.pk)
    assert result.confirmed and result.delivery is None
    assert user.status == UserStatus.CONFIRMED and user.email_verified
    assert mail.outbox == []
    assert isinstance(sign_in(pool, app_client, "newbie"), Authenticated)


def test_pre_sign_up_auto_verify_phone_needs_a_phone(pool, app_client, receiver):
    hook(pool, "PreSignUp", receiver)
    receiver.answer = hooks.responding(autoVerifyPhone=True)
    result = new_sign_up(pool, app_client)
    user = User.objects.get(pk=result.user.pk)
    assert not user.phone_number_verified and user.status == UserStatus.UNCONFIRMED
    assert len(mail.outbox) == 1  # not confirmed: the code goes out as usual


def test_pre_sign_up_denial_writes_nothing_and_sends_nothing(pool, app_client, receiver):
    hook(pool, "PreSignUp", receiver)
    receiver.answer = hooks.refusing("Registration from this domain is not allowed.")
    with pytest.raises(UserLambdaValidationException) as refused:
        new_sign_up(pool, app_client, email="x@blocked.example")
    assert refused.value.message == (
        "PreSignUp failed with error Registration from this domain is not allowed.."
    )
    assert not User.objects.exists()
    assert not VerificationCode.objects.exists()
    assert mail.outbox == []
    [logged] = TriggerInvocation.objects.all()
    assert (logged.kind, logged.trigger_source, logged.status) == (
        "PreSignUp",
        "PreSignUp_SignUp",
        "denied",
    )


def test_admin_create_user_fires_its_own_source_and_ignores_auto_confirm(pool, receiver):
    hook(pool, "PreSignUp", receiver)
    receiver.answer = hooks.responding(autoConfirmUser=True, autoVerifyEmail=True)
    user, _ = admin.admin_create_user(
        pool=pool,
        username="invited",
        attributes={"email": "invited@example.com"},
        client_metadata={"by": "ops"},
    )
    event = receiver.last("PreSignUp")
    envelope_of(
        event,
        pool,
        source="PreSignUp_AdminCreateUser",
        user_name="invited",
        client_id="CLIENT_ID_NOT_APPLICABLE",
    )
    assert event["request"]["clientMetadata"] == {"by": "ops"}
    user.refresh_from_db()
    assert user.status == UserStatus.FORCE_CHANGE_PASSWORD and not user.email_verified


def test_aws_documented_python_handler_runs_unchanged(pool, app_client):
    """AWS's pre sign-up example, dropped in as is: auto-confirms when the email's domain is
    the user's custom:domain."""
    from pool.models import CustomAttribute

    CustomAttribute.objects.create(pool=pool, name="domain")
    python(pool, "PreSignUp", "aws_pre_sign_up_handler")
    same = sign_up(
        pool=pool,
        username="ann",
        password=PASSWORD,
        attributes={"email": "ann@acme.example", "custom:domain": "acme.example"},
        client=app_client,
        context=CTX,
    )
    other = sign_up(
        pool=pool,
        username="bob",
        password=PASSWORD,
        attributes={"email": "bob@else.example", "custom:domain": "acme.example"},
        client=app_client,
        context=CTX,
    )
    assert same.confirmed and not other.confirmed


def test_python_handler_gets_a_lambda_context(pool, app_client):
    hooks.SEEN_CONTEXTS.clear()
    python(pool, "PreSignUp", "context_recorder")
    new_sign_up(pool, app_client)
    [seen] = hooks.SEEN_CONTEXTS
    assert seen["function_name"] == "tests.triggers_support.context_recorder"
    assert len(seen["aws_request_id"]) == 36
    assert 0 < seen["remaining"] <= 5000
    assert seen["memory_limit_in_mb"] == 128


# ------------------------------------------------------------------------- post confirmation


def test_post_confirmation_runs_after_the_commit_and_its_failure_is_reported(
    pool, app_client, receiver
):
    new_sign_up(pool, app_client)
    hook(pool, "PostConfirmation", receiver)
    receiver.answer = lambda event: (500, b"boom")
    with pytest.raises(UnexpectedLambdaException) as failed:
        confirm_sign_up(
            pool=pool,
            username="newbie",
            code=emailed_code("new@example.com"),
            context=CTX,
            client=app_client,
            client_metadata={"k": "v"},
        )
    assert failed.value.message == (
        "PostConfirmation invocation failed due to error HTTP status 500."
    )
    user = User.objects.get(username="newbie")
    assert user.status == UserStatus.CONFIRMED  # the confirmation stands, as in Cognito
    event = receiver.last()
    envelope_of(
        event,
        pool,
        source="PostConfirmation_ConfirmSignUp",
        user_name="newbie",
        client_id=app_client.client_id,
    )
    attributes = event["request"]["userAttributes"]
    assert attributes["sub"] == str(user.sub)
    assert attributes["cognito:user_status"] == "CONFIRMED"
    assert attributes["email"] == "new@example.com"
    assert attributes["email_verified"] == "true"
    assert event["request"]["clientMetadata"] == {"k": "v"}
    assert all(isinstance(value, str) for value in attributes.values())


def test_post_confirmation_after_a_password_reset(pool, app_client, user, receiver):
    passwords.forgot_password(pool=pool, username="alice", client=app_client, context=CTX)
    hook(pool, "PostConfirmation", receiver)
    passwords.confirm_forgot_password(
        pool=pool,
        username="alice",
        code=emailed_code(user.email),
        password="Another-Horse-10",
        context=CTX,
        client=app_client,
    )
    assert receiver.last()["triggerSource"] == "PostConfirmation_ConfirmForgotPassword"


def test_admin_confirm_sign_up_fires_post_confirmation(pool, receiver):
    pending = factories.make_user(pool, "pending", status=UserStatus.UNCONFIRMED)
    hook(pool, "PostConfirmation", receiver)
    admin.admin_confirm_sign_up(user=pending)
    event = receiver.last()
    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"
    assert event["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"


# ------------------------------------------------------------------------ authentication


def test_pre_authentication_refusal_fails_the_sign_in(pool, app_client, user, receiver):
    hook(pool, "PreAuthentication", receiver)
    receiver.answer = hooks.refusing("Sign-in is closed for maintenance")
    context = RequestContext(ip="127.0.0.1", validation_data={"device": "kiosk"})
    with pytest.raises(UserLambdaValidationException) as refused:
        sign_in(pool, app_client, context=context)
    assert refused.value.message == (
        "PreAuthentication failed with error Sign-in is closed for maintenance."
    )
    user.refresh_from_db()
    assert user.last_sign_in_at is None
    event = receiver.last()
    envelope_of(
        event,
        pool,
        source="PreAuthentication_Authentication",
        user_name="alice",
        client_id=app_client.client_id,
    )
    assert event["request"]["validationData"] == {"device": "kiosk"}
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"


def test_pre_authentication_fires_for_srp_too(pool, app_client, user):
    from tests.pool.test_srp_auth import sign_in as srp_sign_in

    python(pool, "PreAuthentication", "deny_maintenance")
    with pytest.raises(UserLambdaValidationException, match="maintenance"):
        srp_sign_in(pool, app_client)


def test_post_authentication_event_and_refusal(pool, app_client, user, receiver):
    hook(pool, "PostAuthentication", receiver)
    context = RequestContext(ip="127.0.0.1", client_metadata={"app": "web"})
    assert isinstance(sign_in(pool, app_client, context=context), Authenticated)
    event = receiver.last()
    envelope_of(
        event,
        pool,
        source="PostAuthentication_Authentication",
        user_name="alice",
        client_id=app_client.client_id,
    )
    assert event["request"]["newDeviceUsed"] is False
    assert event["request"]["clientMetadata"] == {"app": "web"}
    receiver.answer = hooks.refusing("no")
    with pytest.raises(UserLambdaValidationException, match="PostAuthentication failed"):
        sign_in(pool, app_client)


# ---------------------------------------------------------------------------- custom message


def test_custom_message_replaces_subject_and_body_and_keeps_the_code_out_of_the_event(
    pool, app_client, receiver
):
    hook(pool, "CustomMessage", receiver)
    receiver.answer = hooks.responding(
        emailSubject="Welcome aboard", emailMessage="Hi! Your code: {####}"
    )
    new_sign_up(pool, app_client, client_metadata={"lang": "en"})
    [message] = mail.outbox
    assert message.subject == "Welcome aboard"
    code = emailed_code("new@example.com")
    assert message.body == f"Hi! Your code: {code}"
    received = receiver.received[-1]
    assert code not in received.body.decode()
    event = received.event
    envelope_of(
        event,
        pool,
        source="CustomMessage_SignUp",
        user_name="newbie",
        client_id=app_client.client_id,
    )
    assert event["request"]["codeParameter"] == "{####}"
    assert event["request"]["linkParameter"] == "{##Click Here##}"
    assert event["request"]["usernameParameter"] is None
    assert event["request"]["clientMetadata"] == {"lang": "en"}
    assert event["request"]["userAttributes"]["cognito:user_status"] == "UNCONFIRMED"
    assert event["response"] == {"smsMessage": None, "emailMessage": None, "emailSubject": None}


def test_custom_message_without_the_code_placeholder_is_refused(pool, app_client, receiver):
    hook(pool, "CustomMessage", receiver)
    receiver.answer = hooks.responding(emailMessage="Welcome, no code here")
    with pytest.raises(InvalidLambdaResponseException):
        new_sign_up(pool, app_client)
    assert not User.objects.exists()
    assert mail.outbox == []


def test_custom_message_for_an_invitation_needs_the_username(pool, receiver):
    hook(pool, "CustomMessage", receiver)
    receiver.answer = hooks.responding(emailMessage="Password {####}")
    with pytest.raises(InvalidLambdaResponseException, match="username"):
        admin.admin_create_user(
            pool=pool, username="invited", attributes={"email": "i@example.com"}
        )
    assert not User.objects.exists()
    receiver.answer = hooks.responding(emailMessage="Hello {username}, password {####}")
    admin.admin_create_user(pool=pool, username="invited", attributes={"email": "i@example.com"})
    assert mail.outbox[-1].body.startswith("Hello invited, password ")
    event = receiver.last()
    assert event["triggerSource"] == "CustomMessage_AdminCreateUser"
    assert event["request"]["usernameParameter"] == "{username}"


def test_custom_message_for_forgot_password(pool, app_client, user, receiver):
    hook(pool, "CustomMessage", receiver)
    passwords.forgot_password(pool=pool, username="alice", client=app_client, context=CTX)
    assert receiver.last()["triggerSource"] == "CustomMessage_ForgotPassword"


# ----------------------------------------------------------------------- pre token generation


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def api_tokens(pool, client):
    return tokens.for_api_sign_in(sign_in(pool, client))


def test_pre_token_v1_changes_the_id_token(pool, app_client, user, receiver):
    Group.objects.create(pool=pool, name="staff", precedence=1).users.add(user)
    hook(pool, "PreTokenGeneration", receiver)
    receiver.answer = hooks.responding(
        claimsOverrideDetails={
            "claimsToAddOrOverride": {"tenant": "acme", "sub": "someone-else", "email": "x@y"},
            "claimsToSuppress": ["email", "iss"],
            "groupOverrideDetails": {"groupsToOverride": ["admins"], "iamRolesToOverride": []},
        }
    )
    issued = api_tokens(pool, app_client)
    id_claims, access_claims = claims(issued.id_token), claims(issued.access_token)
    assert id_claims["tenant"] == "acme"
    assert id_claims["sub"] == str(user.sub)  # protected: ignored
    assert "email" not in id_claims  # suppression wins over the override
    assert id_claims["iss"]  # protected
    assert id_claims["cognito:groups"] == ["admins"]
    assert access_claims["cognito:groups"] == ["admins"]
    assert "tenant" not in access_claims  # V1 changes the ID token only
    event = receiver.last()
    envelope_of(
        event,
        pool,
        source="TokenGeneration_Authentication",
        user_name="alice",
        client_id=app_client.client_id,
    )
    assert event["request"]["groupConfiguration"] == {
        "groupsToOverride": ["staff"],
        "iamRolesToOverride": [],
        "preferredRole": None,
    }
    assert event["response"] == {"claimsOverrideDetails": None}
    assert "scopes" not in event["request"]


def test_pre_token_v1_refuses_values_that_are_not_strings(pool, app_client, user, receiver):
    hook(pool, "PreTokenGeneration", receiver)
    receiver.answer = hooks.responding(
        claimsOverrideDetails={"claimsToAddOrOverride": {"level": 3}}
    )
    with pytest.raises(InvalidLambdaResponseException):
        api_tokens(pool, app_client)


def test_pre_token_v2_changes_both_tokens_and_scopes(pool, app_client, user, receiver):
    hook(pool, "PreTokenGeneration", receiver, version="V2_0")
    receiver.answer = hooks.responding(
        claimsAndScopeOverrideDetails={
            "idTokenGeneration": {"claimsToAddOrOverride": {"roles": ["a", "b"]}},
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"tenant": {"id": 7}, "client_id": "forged"},
                "scopesToAdd": ["orders/read"],
                "scopesToSuppress": ["aws.cognito.signin.user.admin"],
            },
            "groupOverrideDetails": None,
        }
    )
    issued = api_tokens(pool, app_client)
    id_claims, access_claims = claims(issued.id_token), claims(issued.access_token)
    assert id_claims["roles"] == ["a", "b"]
    assert access_claims["tenant"] == {"id": 7}
    assert access_claims["client_id"] == app_client.client_id
    assert access_claims["scope"] == "orders/read"
    event = receiver.last()
    assert event["version"] == "2"
    assert event["request"]["scopes"] == ["aws.cognito.signin.user.admin"]
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}


def test_pre_token_cannot_add_the_self_service_scope(pool, app_client, user, receiver):
    hook(pool, "PreTokenGeneration", receiver, version="V2_0")
    receiver.answer = hooks.responding(
        claimsAndScopeOverrideDetails={
            "accessTokenGeneration": {
                "scopesToAdd": ["aws.cognito.signin.user.admin", "orders/read"],
            }
        }
    )
    issued = tokens.issue(user=user, client=app_client, scopes=["openid"], auth_time=clock.now())
    assert claims(issued.access_token)["scope"] == "openid orders/read"
    assert receiver.last()["triggerSource"] == "TokenGeneration_HostedAuth"


def test_pre_token_fires_on_refresh(pool, app_client, user, receiver):
    issued = api_tokens(pool, app_client)
    hook(pool, "PreTokenGeneration", receiver)
    tokens.refresh(client=app_client, refresh_token=issued.refresh_token)
    assert receiver.last()["triggerSource"] == "TokenGeneration_RefreshTokens"


def test_pre_token_source_after_a_new_password_challenge(pool, app_client, receiver):
    factories.make_user(pool, "fresh", status=UserStatus.FORCE_CHANGE_PASSWORD)
    hook(pool, "PreTokenGeneration", receiver)
    challenge = sign_in(pool, app_client, "fresh")
    done = authenticate.respond_to_challenge(
        pool=pool,
        client=app_client,
        challenge_name="NEW_PASSWORD_REQUIRED",
        session=challenge.session,
        responses={"USERNAME": "fresh", "NEW_PASSWORD": "Another-Horse-10"},
        context=CTX,
    )
    tokens.for_api_sign_in(done)
    assert receiver.last()["triggerSource"] == "TokenGeneration_NewPasswordChallenge"


# --------------------------------------------------------------------------------- failures


def test_a_webhook_that_overruns_the_timeout(pool, app_client, receiver, settings):
    settings.TRIGGER_TIMEOUT = 0.2
    receiver.delay = 1.0
    hook(pool, "PreSignUp", receiver)
    with pytest.raises(UnexpectedLambdaException) as failed:
        new_sign_up(pool, app_client)
    assert failed.value.message == (
        "PreSignUp invocation failed due to error Socket timeout while invoking."
    )
    assert not User.objects.exists()
    assert TriggerInvocation.objects.get().status == "failed"


def test_an_unreachable_webhook(pool, app_client):
    trigger_config.set_trigger(
        pool=pool, kind="PreSignUp", webhook=f"http://127.0.0.1:{free_port()}/hook"
    )
    with pytest.raises(UnexpectedLambdaException, match="PreSignUp invocation failed"):
        new_sign_up(pool, app_client)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "answer",
    [
        lambda event: (200, b"not json"),
        lambda event: (200, {"no": "response"}),
        lambda event: (200, ["a", "list"]),
        lambda event: (500, {"message": "crashed"}),
    ],
)
def test_garbage_and_errors_are_cognitos_exceptions(pool, app_client, receiver, answer):
    hook(pool, "PreSignUp", receiver)
    receiver.answer = answer
    expected = (UnexpectedLambdaException, InvalidLambdaResponseException)
    with pytest.raises(expected) as failed:
        new_sign_up(pool, app_client)
    status, _ = answer({})
    if status == 200:
        assert isinstance(failed.value, InvalidLambdaResponseException)
        assert failed.value.message == "Unrecognizable lambda output"
    else:
        assert isinstance(failed.value, UnexpectedLambdaException)
    assert not User.objects.exists()


def test_a_python_handler_that_returns_nothing(pool, app_client):
    python(pool, "PreSignUp", "returns_nothing")
    with pytest.raises(InvalidLambdaResponseException):
        new_sign_up(pool, app_client)


def test_the_log_holds_no_code_or_secret(pool, app_client, receiver):
    hook(pool, "CustomMessage", receiver)
    new_sign_up(pool, app_client)
    code = emailed_code("new@example.com")
    [logged] = TriggerInvocation.objects.values()
    assert code not in str(logged) and hooks.SECRET not in str(logged)
    assert logged["status"] == "ok" and logged["trigger_source"] == "CustomMessage_SignUp"


# ---------------------------------------------------------------------------- configuration


def test_the_webhook_secret_is_encrypted_at_rest(pool, receiver):
    hook(pool, "PreSignUp", receiver)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM pool_trigger")
        [(stored,)] = cursor.fetchall()
    assert hooks.SECRET not in stored
    assert Trigger.objects.get().secret == hooks.SECRET


@pytest.mark.parametrize(
    "url",
    ["http://example.com/hook", "ftp://127.0.0.1/x", "not a url", "http:///nohost"],
)
def test_a_webhook_must_be_https_or_loopback(pool, url):
    from pool.errors import InvalidParameterException

    with pytest.raises(InvalidParameterException):
        trigger_config.set_trigger(pool=pool, kind="PreSignUp", webhook=url)
    assert not Trigger.objects.exists()


def test_refusals_of_the_configuration(pool):
    from pool.errors import InvalidParameterException

    for bad in (
        {"kind": "InboundFederation", "webhook": "https://h.example/x"},
        {"kind": "Nope", "webhook": "https://h.example/x"},
        {"kind": "PreSignUp", "python": "tests.triggers_support.missing"},
        {"kind": "PreSignUp", "python": "tests.triggers_support.not_callable"},
        {"kind": "PreSignUp", "webhook": "https://h.example/x", "version": "V2_0"},
        {"kind": "PreSignUp", "webhook": "https://h.example/x", "secret": "short"},
        {"kind": "PreSignUp"},
    ):
        with pytest.raises(InvalidParameterException):
            trigger_config.set_trigger(pool=pool, **bad)
    assert not Trigger.objects.exists()


def test_a_new_webhook_gets_a_secret_kept_for_the_same_url(pool):
    made = trigger_config.set_trigger(pool=pool, kind="PreSignUp", webhook="https://h.example/x")
    assert len(made.new_secret) >= 32
    again = trigger_config.set_trigger(pool=pool, kind="PreSignUp", webhook="https://h.example/x")
    assert again.new_secret == "" and Trigger.objects.get().secret == made.new_secret


def test_custom_message_for_resend_update_and_verify(pool, app_client, user, receiver):
    from pool.services import attributes
    from pool.services.sign_up import resend_confirmation_code

    hook(pool, "CustomMessage", receiver)
    new_sign_up(pool, app_client)
    resend_confirmation_code(pool=pool, username="newbie", client=app_client, context=CTX)
    attributes.update_attributes(
        user=user,
        attributes={"email": "alice2@example.com"},
        client=app_client,
        context=CTX,
        client_metadata={"why": "moved"},
    )
    attributes.send_attribute_verification_code(
        user=user, attribute="email", context=CTX, client=app_client
    )
    sources = [event["triggerSource"] for event in receiver.events()]
    assert sources == [
        "CustomMessage_SignUp",
        "CustomMessage_ResendCode",
        "CustomMessage_UpdateUserAttribute",
        "CustomMessage_VerifyUserAttribute",
    ]
    update = receiver.events()[2]
    assert update["request"]["clientMetadata"] == {"why": "moved"}
    assert update["callerContext"]["clientId"] == app_client.client_id


def test_an_answer_too_large_is_refused(pool, app_client, receiver):
    hook(pool, "PreSignUp", receiver)
    # A valid answer, padded past the limit: without the limit it would be accepted.
    receiver.answer = lambda event: (200, json.dumps(event).encode() + b" " * (2 * 1024 * 1024))
    with pytest.raises(InvalidLambdaResponseException):
        new_sign_up(pool, app_client)
    assert not User.objects.exists()
