"""boto3 against a live Cognate: signing in through the JSON API (InitiateAuth,
RespondToAuthChallenge, AdminInitiateAuth, AdminRespondToAuthChallenge, AssociateSoftwareToken,
VerifySoftwareToken), positive and negative."""

from __future__ import annotations

import base64
import json

import jwt as pyjwt
import pytest
from django.core import mail
from django_otp.oath import TOTP

from api.principals import secret_hash
from pool import clock
from pool.models import OutboxMessage, TotpDevice, User, UserPool, UserStatus
from tests import factories
from tests.api.shape_check import assert_fits
from tests.pool.helpers import code_in, wrong_code

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

PASSWORD = factories.PASSWORD
API_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture
def pool(db):
    return factories.make_pool(name="signin", mfa_configuration=UserPool.Mfa.OFF)


@pytest.fixture
def app(pool):
    return factories.make_client(pool, explicit_auth_flows=API_FLOWS)


@pytest.fixture
def confidential(pool):
    return factories.make_client(pool, secret="", explicit_auth_flows=API_FLOWS)


@pytest.fixture
def alice(pool):
    return factories.make_user(pool, "alice")


def password_auth(cognito, app, username="alice", password=PASSWORD, **parameters):
    return cognito.initiate_auth(
        ClientId=app.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password, **parameters},
    )


def respond(cognito, app, challenge, **responses):
    return cognito.respond_to_auth_challenge(
        ClientId=app.client_id,
        ChallengeName=challenge["ChallengeName"],
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": challenge["ChallengeParameters"]["USER_ID_FOR_SRP"]}
        | responses,
    )


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def message(error) -> str:
    return error.value.response["Error"]["Message"]


def totp_code(secret: str) -> str:
    """The authenticator app's current code for `secret`, at Cognate's clock."""
    totp = TOTP(base64.b32decode(secret), step=30, digits=6)
    totp.time = clock.timestamp()
    return f"{totp.token():06d}"


# ------------------------------------------------------------------------- password sign-in


def test_password_sign_in_answers_api_tokens(cognito, recorder, pool, app, alice):
    answer = password_auth(cognito, app)
    assert answer["ChallengeParameters"] == {}
    result = answer["AuthenticationResult"]
    assert result["TokenType"] == "Bearer" and result["ExpiresIn"] == app.access_token_validity
    access = claims(result["AccessToken"])
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["username"] == "alice" and access["client_id"] == app.client_id
    identity = claims(result["IdToken"])
    assert identity["cognito:username"] == "alice" and identity["email"] == alice.email
    assert identity["aud"] == app.client_id
    assert result["RefreshToken"]
    assert_fits(recorder)


def test_wrong_password_is_not_authorized(cognito, app, alice):
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        password_auth(cognito, app, password="Wrong-Horse-9")
    assert message(refused) == "Incorrect username or password."


@pytest.mark.parametrize("prevent", [True, False])
def test_unknown_user_follows_prevent_user_existence_errors(cognito, pool, app, prevent):
    UserPool.objects.filter(pk=pool.pk).update(prevent_user_existence_errors=prevent)
    expected = (
        cognito.exceptions.NotAuthorizedException
        if prevent
        else cognito.exceptions.UserNotFoundException
    )
    with pytest.raises(expected):
        password_auth(cognito, app, username="nobody")


def test_disabled_user_is_refused(cognito, pool, app):
    factories.make_user(pool, "carol", enabled=False)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        password_auth(cognito, app, username="carol")
    assert message(refused) == "User is disabled."


def test_unconfirmed_user_is_refused(cognito, pool, app):
    factories.make_user(pool, "dave", status=UserStatus.UNCONFIRMED)
    with pytest.raises(cognito.exceptions.UserNotConfirmedException):
        password_auth(cognito, app, username="dave")


def test_flow_not_enabled_for_the_client(cognito, pool, alice):
    srp_only = factories.make_client(pool, explicit_auth_flows=["ALLOW_USER_SRP_AUTH"])
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        password_auth(cognito, srp_only)
    assert message(refused) == "USER_PASSWORD_AUTH flow not enabled for this client"


def test_admin_flow_is_not_an_initiate_auth_method(cognito, app, alice):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        cognito.initiate_auth(
            ClientId=app.client_id,
            AuthFlow="ADMIN_NO_SRP_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )
    assert message(refused) == "Initiate Auth method not supported."


def test_missing_password_is_an_invalid_parameter(cognito, app, alice):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        cognito.initiate_auth(
            ClientId=app.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice"},
        )
    assert message(refused) == "Missing required parameter PASSWORD"


def test_unknown_client_is_resource_not_found(cognito, alice):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.initiate_auth(
            ClientId="nosuchclient0000000000000",
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        )


# ----------------------------------------------------------------------------- SECRET_HASH


def test_client_with_a_secret_needs_secret_hash(cognito, confidential, alice):
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        password_auth(cognito, confidential)
    assert message(refused) == (
        f"Client {confidential.client_id} is configured with secret but SECRET_HASH was not "
        "received"
    )


def test_wrong_secret_hash_is_refused(cognito, confidential, alice):
    wrong = secret_hash("not-the-secret", "alice", confidential.client_id)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        password_auth(cognito, confidential, SECRET_HASH=wrong)
    assert message(refused) == f"Unable to verify secret hash for client {confidential.client_id}"
    assert not User.objects.get(username="alice").last_sign_in_at


def test_right_secret_hash_signs_in_and_answers_challenges(cognito, recorder, pool, confidential):
    factories.make_user(pool, "bob", status=UserStatus.FORCE_CHANGE_PASSWORD)
    proof = secret_hash(confidential.plain_secret, "bob", confidential.client_id)
    challenge = password_auth(cognito, confidential, username="bob", SECRET_HASH=proof)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        respond(cognito, confidential, challenge, NEW_PASSWORD="Brand-New-Horse-7")
    answered = respond(
        cognito, confidential, challenge, NEW_PASSWORD="Brand-New-Horse-7", SECRET_HASH=proof
    )
    assert answered["AuthenticationResult"]["AccessToken"]
    assert_fits(recorder)


# ------------------------------------------------------------------ CUSTOM_AUTH and USER_AUTH


def test_custom_auth_without_triggers_is_refused(cognito, pool, alice):
    custom = factories.make_client(pool, explicit_auth_flows=["ALLOW_CUSTOM_AUTH"])
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        cognito.initiate_auth(
            ClientId=custom.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
        )
    assert message(refused) == "Custom auth lambda trigger is not configured for the user pool."


def test_custom_auth_not_enabled_for_the_client(cognito, app, alice):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        cognito.initiate_auth(
            ClientId=app.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "alice"}
        )
    assert message(refused) == "CUSTOM_AUTH flow not enabled for this client"


def test_user_auth_with_the_password_factor_signs_in(cognito, recorder, pool, alice):
    choice = factories.make_client(pool, explicit_auth_flows=["ALLOW_USER_AUTH"])
    answer = cognito.initiate_auth(
        ClientId=choice.client_id,
        AuthFlow="USER_AUTH",
        AuthParameters={
            "USERNAME": "alice",
            "PREFERRED_CHALLENGE": "PASSWORD",
            "PASSWORD": PASSWORD,
        },
    )
    assert claims(answer["AuthenticationResult"]["AccessToken"])["username"] == "alice"
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.initiate_auth(
            ClientId=choice.client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice"}
        )
    assert_fits(recorder)


def test_user_auth_not_enabled_for_the_client(cognito, app, alice):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        cognito.initiate_auth(
            ClientId=app.client_id,
            AuthFlow="USER_AUTH",
            AuthParameters={
                "USERNAME": "alice",
                "PREFERRED_CHALLENGE": "PASSWORD",
                "PASSWORD": PASSWORD,
            },
        )
    assert message(refused) == "USER_AUTH flow not enabled for this client"


# ------------------------------------------------------------------------------ challenges


def test_new_password_required_then_tokens(cognito, recorder, pool, app):
    factories.make_user(pool, "bob", status=UserStatus.FORCE_CHANGE_PASSWORD)
    challenge = password_auth(cognito, app, username="bob")
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == "bob"
    assert json.loads(challenge["ChallengeParameters"]["requiredAttributes"]) == []
    answered = respond(cognito, app, challenge, NEW_PASSWORD="Brand-New-Horse-7")
    assert claims(answered["AuthenticationResult"]["AccessToken"])["username"] == "bob"
    assert User.objects.get(username="bob").status == UserStatus.CONFIRMED
    assert password_auth(cognito, app, username="bob", password="Brand-New-Horse-7")[
        "AuthenticationResult"
    ]
    assert_fits(recorder)


def test_a_weak_new_password_is_refused_and_the_session_still_answers(cognito, pool, app):
    factories.make_user(pool, "bob", status=UserStatus.FORCE_CHANGE_PASSWORD)
    challenge = password_auth(cognito, app, username="bob")
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        respond(cognito, app, challenge, NEW_PASSWORD="short")
    assert respond(cognito, app, challenge, NEW_PASSWORD="Brand-New-Horse-7")[
        "AuthenticationResult"
    ]


def test_expired_session_is_refused(cognito, pool, app):
    factories.make_user(pool, "bob", status=UserStatus.FORCE_CHANGE_PASSWORD)
    clock.freeze()
    challenge = password_auth(cognito, app, username="bob")
    clock.advance(seconds=app.auth_session_validity + 1)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        respond(cognito, app, challenge, NEW_PASSWORD="Brand-New-Horse-7")
    assert message(refused) == "Invalid session for the user, session is expired."


def test_session_of_another_client_is_refused(cognito, pool, app):
    factories.make_user(pool, "bob", status=UserStatus.FORCE_CHANGE_PASSWORD)
    challenge = password_auth(cognito, app, username="bob")
    other = factories.make_client(pool, explicit_auth_flows=API_FLOWS)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as refused:
        respond(cognito, other, challenge, NEW_PASSWORD="Brand-New-Horse-7")
    assert message(refused) == "Invalid session for the user."


@pytest.fixture
def mfa_pool(pool):
    UserPool.objects.filter(pk=pool.pk).update(
        mfa_configuration=UserPool.Mfa.ON,
        mfa_methods=["SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP"],
    )
    pool.refresh_from_db()
    return pool


def test_mfa_setup_with_associate_and_verify_by_session(cognito, recorder, mfa_pool, app):
    factories.make_user(mfa_pool, "erin")
    clock.freeze()
    challenge = password_auth(cognito, app, username="erin")
    assert challenge["ChallengeName"] == "MFA_SETUP"
    assert json.loads(challenge["ChallengeParameters"]["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
    associated = cognito.associate_software_token(Session=challenge["Session"])
    with pytest.raises(cognito.exceptions.EnableSoftwareTokenMFAException):
        cognito.verify_software_token(
            Session=associated["Session"], UserCode=wrong_code(totp_code(associated["SecretCode"]))
        )
    verified = cognito.verify_software_token(
        Session=associated["Session"],
        UserCode=totp_code(associated["SecretCode"]),
        FriendlyDeviceName="phone",
    )
    assert verified["Status"] == "SUCCESS"
    answered = cognito.respond_to_auth_challenge(
        ClientId=app.client_id,
        ChallengeName="MFA_SETUP",
        Session=verified["Session"],
        ChallengeResponses={"USERNAME": "erin"},
    )
    assert answered["AuthenticationResult"]["AccessToken"]
    assert User.objects.get(username="erin").software_token_mfa_enabled
    assert TotpDevice.objects.get(user__username="erin", confirmed=True).name == "phone"

    # The next sign-in asks for the authenticator's code (a newer one than the last accepted).
    clock.advance(seconds=30)
    challenge = password_auth(cognito, app, username="erin")
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        respond(
            cognito,
            app,
            challenge,
            SOFTWARE_TOKEN_MFA_CODE=wrong_code(totp_code(associated["SecretCode"])),
        )
    answered = respond(
        cognito, app, challenge, SOFTWARE_TOKEN_MFA_CODE=totp_code(associated["SecretCode"])
    )
    assert answered["AuthenticationResult"]["IdToken"]
    assert_fits(recorder)


def test_answering_mfa_setup_before_verifying_is_refused(cognito, mfa_pool, app):
    factories.make_user(mfa_pool, "erin")
    challenge = password_auth(cognito, app, username="erin")
    with pytest.raises(cognito.exceptions.SoftwareTokenMFANotFoundException):
        respond(cognito, app, challenge)


def test_associate_and_verify_with_an_access_token(cognito, recorder, pool, app, alice):
    clock.freeze()
    access = password_auth(cognito, app)["AuthenticationResult"]["AccessToken"]
    associated = cognito.associate_software_token(AccessToken=access)
    assert "Session" not in associated
    verified = cognito.verify_software_token(
        AccessToken=access, UserCode=totp_code(associated["SecretCode"])
    )
    assert verified["Status"] == "SUCCESS" and "Session" not in verified
    assert TotpDevice.objects.get(user=alice).confirmed
    assert_fits(recorder)


def test_associate_needs_an_access_token_or_a_session(cognito, alice):
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.associate_software_token()
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.associate_software_token(AccessToken="not-a-token")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.associate_software_token(Session="x" * 40)


def test_email_otp_challenge(cognito, recorder, mfa_pool, app):
    factories.make_user(mfa_pool, "fran", email_mfa_enabled=True)
    challenge = password_auth(cognito, app, username="fran")
    assert challenge["ChallengeName"] == "EMAIL_OTP"
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    code = code_in(next(m for m in reversed(mail.outbox) if "fran@example.com" in m.to).body)
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        respond(cognito, app, challenge, EMAIL_OTP_CODE=wrong_code(code))
    answered = respond(cognito, app, challenge, EMAIL_OTP_CODE=code)
    assert answered["AuthenticationResult"]["AccessToken"]
    assert_fits(recorder)


def sms_code(phone_number: str) -> str:
    sent = OutboxMessage.objects.filter(channel=OutboxMessage.Channel.SMS, to=phone_number)
    return code_in(sent.order_by("-pk").first().body)


def test_select_mfa_type_then_sms_mfa(cognito, recorder, mfa_pool, app):
    factories.make_user(
        mfa_pool,
        "gus",
        phone_number="+15555550123",
        phone_number_verified=True,
        sms_mfa_enabled=True,
        email_mfa_enabled=True,
    )
    challenge = password_auth(cognito, app, username="gus")
    assert challenge["ChallengeName"] == "SELECT_MFA_TYPE"
    assert set(json.loads(challenge["ChallengeParameters"]["MFAS_CAN_CHOOSE"])) == {
        "SMS_MFA",
        "EMAIL_OTP",
    }
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        respond(cognito, app, challenge, ANSWER="SOFTWARE_TOKEN_MFA")
    sms = respond(cognito, app, challenge, ANSWER="SMS_MFA")
    assert sms["ChallengeName"] == "SMS_MFA"
    assert sms["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    answered = respond(cognito, app, sms, SMS_MFA_CODE=sms_code("+15555550123"))
    assert claims(answered["AuthenticationResult"]["AccessToken"])["username"] == "gus"
    assert_fits(recorder)


def test_unknown_challenge_name_is_refused(cognito, pool, app):
    factories.make_user(pool, "bob", status=UserStatus.FORCE_CHANGE_PASSWORD)
    challenge = password_auth(cognito, app, username="bob")
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.respond_to_auth_challenge(
            ClientId=app.client_id,
            ChallengeName="WEB_AUTHN",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "bob", "CREDENTIAL": "x"},
        )
    # CUSTOM_CHALLENGE is known (custom authentication), but not with another challenge's session.
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.respond_to_auth_challenge(
            ClientId=app.client_id,
            ChallengeName="CUSTOM_CHALLENGE",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "bob", "ANSWER": "x"},
        )


# ------------------------------------------------------------------------- admin sign-in


@pytest.fixture
def admin_app(pool):
    return factories.make_client(
        pool, explicit_auth_flows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )


def admin_auth(cognito, pool, app, flow="ADMIN_USER_PASSWORD_AUTH", **parameters):
    return cognito.admin_initiate_auth(
        UserPoolId=pool.id, ClientId=app.client_id, AuthFlow=flow, AuthParameters=parameters
    )


@pytest.mark.parametrize("flow", ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"])
def test_admin_initiate_auth(cognito, recorder, pool, admin_app, alice, flow):
    answer = admin_auth(cognito, pool, admin_app, flow, USERNAME="alice", PASSWORD=PASSWORD)
    assert claims(answer["AuthenticationResult"]["AccessToken"])["username"] == "alice"
    assert_fits(recorder)


def test_admin_respond_to_auth_challenge(cognito, recorder, pool, admin_app):
    factories.make_user(pool, "bob", status=UserStatus.FORCE_CHANGE_PASSWORD)
    challenge = admin_auth(cognito, pool, admin_app, USERNAME="bob", PASSWORD=PASSWORD)
    answered = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool.id,
        ClientId=admin_app.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "bob", "NEW_PASSWORD": "Brand-New-Horse-7"},
    )
    assert answered["AuthenticationResult"]["RefreshToken"]
    assert_fits(recorder)


def test_admin_flow_not_enabled_for_the_client(cognito, pool, app, alice):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        admin_auth(cognito, pool, app, USERNAME="alice", PASSWORD=PASSWORD)
    assert message(refused) == "Auth flow not enabled for this client"


def test_admin_initiate_auth_refuses_user_flows(cognito, pool, app, alice):
    with pytest.raises(cognito.exceptions.InvalidParameterException) as refused:
        admin_auth(cognito, pool, app, "USER_PASSWORD_AUTH", USERNAME="alice", PASSWORD=PASSWORD)
    assert message(refused) == "Initiate Auth method not supported."


def test_admin_initiate_auth_with_a_client_of_another_pool(cognito, pool, alice):
    elsewhere = factories.make_client(
        factories.make_pool(), explicit_auth_flows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        admin_auth(cognito, pool, elsewhere, USERNAME="alice", PASSWORD=PASSWORD)


def test_admin_initiate_auth_needs_a_signature(server, pool, admin_app, alice):
    from tests.api.conftest import make_boto3_client

    forged = make_boto3_client(server, key_id="AKIAUNKNOWNKEY000000", secret="nope")
    with pytest.raises(forged.exceptions.ClientError) as refused:
        admin_auth(forged, pool, admin_app, USERNAME="alice", PASSWORD=PASSWORD)
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert not User.objects.get(username="alice").last_sign_in_at
