"""The npm registry's Cognito clients against a live Cognate, run with the machine's Node.js:
aws-amplify v6 configured with `userPoolEndpoint`, and amazon-cognito-identity-js with its
`endpoint`. Each scenario drives the real library one step at a time (tests/node/*.mjs) and
checks what the library reports, what reached the wire, and what the server then holds.

Skipped only when `node` is not installed; node_modules is installed from the committed lock
file when missing (`make test` and `.ci/run` do it first)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest
from django_otp.oath import TOTP

from pool import clock, crypto
from pool.jwt import issuer
from pool.models import AppClient, TotpDevice, User, UserStatus
from tests import factories
from tests.api.conftest import make_boto3_client
from tests.api.js_clients import NODE, NodeClient, install_node_modules
from tests.pool.helpers import code_in, wrong_code

pytestmark = [
    pytest.mark.clients,
    pytest.mark.node,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(NODE is None, reason="node is not installed"),
]

PASSWORD = factories.PASSWORD
NEW_PASSWORD = "Battery-Staple-7"


@pytest.fixture(scope="session")
def node_modules() -> None:
    install_node_modules()


@pytest.fixture
def js_pool(db):
    return factories.make_pool(name="js")


@pytest.fixture
def js_client(js_pool):
    """A public client as CreateUserPoolClient makes it by default: SRP and refresh, revocation
    on, refresh tokens reusable (rotation off)."""
    return factories.make_client(
        js_pool,
        explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        refresh_token_rotation=False,
    )


@pytest.fixture
def start_amplify(node_modules, server) -> Iterator[Callable[[AppClient], NodeClient]]:
    """Start Amplify configured for an app client (and its pool); stopped after the test, when
    every 200 answer it received is checked against botocore's output shapes."""
    started: list[NodeClient] = []

    def start(client: AppClient) -> NodeClient:
        settings = {
            "endpoint": server,
            "userPoolId": client.pool_id,
            "userPoolClientId": client.client_id,
        }
        started.append(NodeClient("amplify.mjs", settings))
        return started[-1]

    yield start
    for client in started:
        client.close()
        client.answers_fit_the_model()  # every test's successful answers, whatever it asserted


@pytest.fixture
def amplify(start_amplify, js_client) -> NodeClient:
    return start_amplify(js_client)


@pytest.fixture
def identity_js(node_modules, server, js_pool, js_client) -> Iterator[NodeClient]:
    client = NodeClient(
        "identity_js.mjs",
        {"endpoint": server + "/", "userPoolId": js_pool.id, "clientId": js_client.client_id},
    )
    yield client
    client.close()
    client.answers_fit_the_model()


@pytest.fixture
def unsigned(server):
    """boto3 for the unsigned calls the tests use to check the server's side."""
    return make_boto3_client(server, key_id="AKIDUNUSED", secret="unused")


def totp_code(secret: str, offset_steps: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret))
    totp.time = clock.timestamp() + offset_steps * 30
    return f"{totp.token():06d}"


def assert_tokens_for(session: dict, *, username: str, pool, client, server: str) -> None:
    access, id_token = session["accessToken"]["payload"], session["idToken"]["payload"]
    assert access["username"] == username and access["token_use"] == "access"
    assert access["client_id"] == client.client_id
    assert id_token["cognito:username"] == username and id_token["aud"] == client.client_id
    assert access["iss"] == id_token["iss"] == issuer(pool) == f"{server}/{pool.id}"
    assert access["sub"] == id_token["sub"] == str(User.objects.get(username=username).sub)


def refresh_is_refused(unsigned, client, refresh_token: str) -> bool:
    try:
        unsigned.initiate_auth(
            AuthFlow="REFRESH_TOKEN_AUTH",
            ClientId=client.client_id,
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    except unsigned.exceptions.NotAuthorizedException:
        return True
    return False


def stored_refresh_token(storage: dict) -> str:
    return next(value for key, value in storage.items() if key.endswith(".refreshToken"))


# ------------------------------------------------------------------------ aws-amplify v6


def test_amplify_sign_up_confirm_and_sign_in_with_srp(
    amplify, smtp_sink, server, js_pool, js_client
):
    started = amplify.ok(
        "signUp",
        username="ana",
        password=PASSWORD,
        options={"userAttributes": {"email": "ana@example.com"}},
    )
    assert started["isSignUpComplete"] is False
    assert started["nextStep"]["signUpStep"] == "CONFIRM_SIGN_UP"
    assert started["nextStep"]["codeDeliveryDetails"] == {
        "destination": "a***@e***",
        "deliveryMedium": "EMAIL",
        "attributeName": "email",
    }
    assert User.objects.get(pool=js_pool, username="ana").status == UserStatus.UNCONFIRMED

    code = code_in(smtp_sink.body(smtp_sink.wait_for("ana@example.com")))
    mismatch = amplify.fails("confirmSignUp", username="ana", confirmationCode=wrong_code(code))
    assert mismatch["name"] == "CodeMismatchException"
    confirmed = amplify.ok("confirmSignUp", username="ana", confirmationCode=code)
    assert confirmed["isSignUpComplete"] is True
    assert confirmed["nextStep"]["signUpStep"] == "DONE"
    assert User.objects.get(pool=js_pool, username="ana").status == UserStatus.CONFIRMED

    signing_in = amplify.step("signIn", username="ana", password=PASSWORD)
    assert signing_in.ok, f"{signing_in.error}\n{signing_in.traffic()}"
    assert signing_in.result == {"isSignedIn": True, "nextStep": {"signInStep": "DONE"}}
    assert signing_in.targets == ["InitiateAuth", "RespondToAuthChallenge"]
    assert signing_in.wire[0]["request"]["AuthFlow"] == "USER_SRP_AUTH"
    verifier = signing_in.wire[1]["request"]
    assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
    assert verifier["ChallengeResponses"]["USERNAME"] == "ana"  # USER_ID_FOR_SRP sent back

    current = amplify.ok("getCurrentUser")
    assert current["username"] == "ana"
    assert current["userId"] == str(User.objects.get(username="ana").sub)
    session = amplify.ok("fetchAuthSession")
    assert_tokens_for(session, username="ana", pool=js_pool, client=js_client, server=server)
    assert session["idToken"]["payload"]["email"] == "ana@example.com"
    assert amplify.answers_fit_the_model() >= 4


def test_amplify_refuses_what_cognito_refuses(amplify, smtp_sink, js_pool):
    factories.make_user(js_pool, "bo")
    taken = amplify.fails(
        "signUp",
        username="bo",
        password=PASSWORD,
        options={"userAttributes": {"email": "bo2@example.com"}},
    )
    assert taken["name"] == "UsernameExistsException"
    weak = amplify.fails(
        "signUp", username="cy", password="weak", options={"userAttributes": {"email": "c@x.io"}}
    )
    assert weak["name"] == "InvalidPasswordException"
    assert not User.objects.filter(pool=js_pool, username="cy").exists()

    wrong = amplify.fails("signIn", username="bo", password="Wrong-Password-1")
    assert wrong["name"] == "NotAuthorizedException"
    assert wrong["message"] == "Incorrect username or password."
    nobody = amplify.fails("signIn", username="nobody", password=PASSWORD)
    assert nobody["name"] == "NotAuthorizedException"  # the pool hides which users exist
    assert amplify.fails("getCurrentUser")["name"] == "UserUnAuthenticatedException"
    not_allowed = amplify.fails(
        "signIn", username="bo", password=PASSWORD, options={"authFlowType": "USER_PASSWORD_AUTH"}
    )
    assert not_allowed == {
        "name": "InvalidParameterException",
        "message": "USER_PASSWORD_AUTH flow not enabled for this client",
    }

    factories.make_user(js_pool, "cal", enabled=False)
    disabled = amplify.fails("signIn", username="cal", password=PASSWORD)
    assert disabled == {"name": "NotAuthorizedException", "message": "User is disabled."}
    factories.make_user(js_pool, "dot", status=UserStatus.UNCONFIRMED)
    # UserNotConfirmedException, which Amplify turns into its next step.
    unconfirmed = amplify.step("signIn", username="dot", password=PASSWORD)
    assert unconfirmed.result == {
        "isSignedIn": False,
        "nextStep": {"signInStep": "CONFIRM_SIGN_UP"},
    }
    assert unconfirmed.wire[-1]["response"]["__type"] == "UserNotConfirmedException"


def test_amplify_sign_in_with_user_password_auth(start_amplify, js_pool):
    """The flow apps migrating users with a trigger pick: the password itself on the wire."""
    client = factories.make_client(
        js_pool,
        explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
        refresh_token_rotation=False,
    )
    amplify = start_amplify(client)
    factories.make_user(js_pool, "pat")
    options = {"authFlowType": "USER_PASSWORD_AUTH"}
    wrong = amplify.fails("signIn", username="pat", password="Wrong-Password-1", options=options)
    assert wrong["name"] == "NotAuthorizedException"
    signing_in = amplify.step("signIn", username="pat", password=PASSWORD, options=options)
    assert signing_in.result == {"isSignedIn": True, "nextStep": {"signInStep": "DONE"}}
    assert signing_in.targets == ["InitiateAuth"]
    assert amplify.ok("fetchAuthSession")["accessToken"]["payload"]["username"] == "pat"


def test_amplify_sign_up_with_auto_sign_in(amplify, smtp_sink, js_pool):
    amplify.ok(
        "signUp",
        username="abe",
        password=PASSWORD,
        options={"userAttributes": {"email": "abe@example.com"}, "autoSignIn": True},
    )
    code = code_in(smtp_sink.body(smtp_sink.wait_for("abe@example.com")))
    confirmed = amplify.ok("confirmSignUp", username="abe", confirmationCode=code)
    assert confirmed["nextStep"]["signUpStep"] == "COMPLETE_AUTO_SIGN_IN"
    signed_in = amplify.ok("autoSignIn")
    assert signed_in == {"isSignedIn": True, "nextStep": {"signInStep": "DONE"}}
    assert amplify.ok("getCurrentUser")["username"] == "abe"


def test_amplify_sign_in_with_totp_mfa(amplify, js_pool):
    factories.make_user(js_pool, "dee")
    assert amplify.ok("signIn", username="dee", password=PASSWORD)["isSignedIn"] is True

    secret = amplify.ok("setUpTOTP")["sharedSecret"]
    # Both codes read off the same moment: the setup spends this step's, sign-in takes the next.
    setup_code, next_code = totp_code(secret), totp_code(secret, offset_steps=1)
    amplify.ok("verifyTOTPSetup", code=setup_code)
    amplify.ok("updateMFAPreference", totp="PREFERRED")
    assert amplify.ok("fetchMFAPreference") == {"enabled": ["TOTP"], "preferred": "TOTP"}
    amplify.ok("signOut")

    challenged = amplify.ok("signIn", username="dee", password=PASSWORD)
    assert challenged["isSignedIn"] is False
    assert challenged["nextStep"]["signInStep"] == "CONFIRM_SIGN_IN_WITH_TOTP_CODE"
    # The code just spent on the setup is not accepted twice; the next one is.
    refused = amplify.fails("confirmSignIn", challengeResponse=setup_code)
    assert refused["name"] == "CodeMismatchException"
    done = amplify.ok("confirmSignIn", challengeResponse=next_code)
    assert done == {"isSignedIn": True, "nextStep": {"signInStep": "DONE"}}
    session = amplify.ok("fetchAuthSession")
    assert session["accessToken"]["payload"]["username"] == "dee"
    assert amplify.answers_fit_the_model() >= 8


def test_amplify_sets_up_totp_when_the_pool_requires_mfa(start_amplify, node_modules, db):
    strict = factories.make_pool(name="strict", mfa_configuration="ON")
    client = factories.make_client(
        strict, explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    )
    amplify = start_amplify(client)
    factories.make_user(strict, "fin")

    setting_up = amplify.ok("signIn", username="fin", password=PASSWORD)
    assert setting_up["isSignedIn"] is False
    assert setting_up["nextStep"]["signInStep"] == "CONTINUE_SIGN_IN_WITH_TOTP_SETUP"
    secret = setting_up["nextStep"]["totpSetupDetails"]["sharedSecret"]
    setup_code, next_code = totp_code(secret), totp_code(secret, offset_steps=1)
    mismatch = amplify.fails("confirmSignIn", challengeResponse=wrong_code(setup_code))
    assert mismatch["name"] == "EnableSoftwareTokenMFAException"  # Cognito's, for a wrong code

    confirming = amplify.step("confirmSignIn", challengeResponse=setup_code)
    assert confirming.ok, f"{confirming.error}\n{confirming.traffic()}"
    assert confirming.result == {"isSignedIn": True, "nextStep": {"signInStep": "DONE"}}
    assert confirming.targets == ["VerifySoftwareToken", "RespondToAuthChallenge"]
    assert confirming.wire[1]["request"]["ChallengeName"] == "MFA_SETUP"
    assert User.objects.get(pool=strict, username="fin").software_token_mfa_enabled is True
    amplify.ok("signOut")

    challenged = amplify.ok("signIn", username="fin", password=PASSWORD)
    assert challenged["nextStep"]["signInStep"] == "CONFIRM_SIGN_IN_WITH_TOTP_CODE"
    done = amplify.ok("confirmSignIn", challengeResponse=next_code)
    assert done["isSignedIn"] is True
    assert amplify.answers_fit_the_model() >= 6


def test_amplify_sign_in_with_an_emailed_code(start_amplify, smtp_sink, db):
    emailing = factories.make_pool(
        name="email-mfa", mfa_configuration="ON", mfa_methods=["EMAIL_OTP"]
    )
    client = factories.make_client(
        emailing, explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    )
    amplify = start_amplify(client)
    factories.make_user(emailing, "hud")
    challenged = amplify.ok("signIn", username="hud", password=PASSWORD)
    assert challenged["nextStep"]["signInStep"] == "CONFIRM_SIGN_IN_WITH_EMAIL_CODE"
    assert challenged["nextStep"]["codeDeliveryDetails"]["deliveryMedium"] == "EMAIL"
    code = code_in(smtp_sink.body(smtp_sink.wait_for("hud@example.com")))
    mismatch = amplify.fails("confirmSignIn", challengeResponse=wrong_code(code))
    assert mismatch["name"] == "CodeMismatchException"
    confirming = amplify.step("confirmSignIn", challengeResponse=code)
    assert confirming.result == {"isSignedIn": True, "nextStep": {"signInStep": "DONE"}}
    assert confirming.wire[0]["request"]["ChallengeName"] == "EMAIL_OTP"
    session = amplify.ok("fetchAuthSession")
    assert session["accessToken"]["payload"]["username"] == "hud"
    assert amplify.answers_fit_the_model() >= 3


def test_amplify_remembers_a_device_that_then_stands_in_for_mfa(start_amplify, db):
    tracking = factories.make_pool(
        name="devices",
        track_devices=True,
        device_challenge_required_on_new_device=True,
        device_only_remembered_on_user_prompt=True,
    )
    client = factories.make_client(
        tracking,
        explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        refresh_token_rotation=False,
    )
    amplify = start_amplify(client)
    user = factories.make_user(tracking, "dev")
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TotpDevice.objects.create(user=user, secret=crypto.encrypt(secret), confirmed=True)
    User.objects.filter(pk=user.pk).update(software_token_mfa_enabled=True)

    challenged = amplify.ok("signIn", username="dev", password=PASSWORD)
    assert challenged["nextStep"]["signInStep"] == "CONFIRM_SIGN_IN_WITH_TOTP_CODE"
    confirming = amplify.step("confirmSignIn", challengeResponse=totp_code(secret))
    assert confirming.ok, f"{confirming.error}\n{confirming.traffic()}"
    # NewDeviceMetadata in the tokens' answer; Amplify confirms the device with its verifier.
    assert confirming.targets == ["RespondToAuthChallenge", "ConfirmDevice"]
    assert [(c["target"], c["status"]) for c in amplify.step("rememberDevice").wire] == [
        ("UpdateDeviceStatus", 200)
    ]
    [device] = amplify.ok("fetchDevices")
    assert device["attributes"]["dev:device_remembered_status"] == "remembered"
    assert device["name"].startswith("Node.js/")  # the driver's stand-in for a browser's name
    amplify.ok("signOut")

    # The remembered device answers DEVICE_SRP_AUTH after the password: no TOTP code asked.
    again = amplify.step("signIn", username="dev", password=PASSWORD)
    assert again.result == {"isSignedIn": True, "nextStep": {"signInStep": "DONE"}}
    assert [c["request"].get("ChallengeName") for c in again.calls("RespondToAuthChallenge")] == [
        "PASSWORD_VERIFIER",
        "DEVICE_SRP_AUTH",
        "DEVICE_PASSWORD_VERIFIER",
    ]
    amplify.ok("forgetDevice")
    assert amplify.ok("fetchDevices") == []
    amplify.ok("signOut")
    forgotten = amplify.ok("signIn", username="dev", password=PASSWORD)
    assert forgotten["nextStep"]["signInStep"] == "CONFIRM_SIGN_IN_WITH_TOTP_CODE"
    assert amplify.answers_fit_the_model() >= 12


def test_amplify_new_password_required(amplify, js_pool):
    factories.make_user(js_pool, "gil", status=UserStatus.FORCE_CHANGE_PASSWORD)
    asked = amplify.ok("signIn", username="gil", password=PASSWORD)
    assert asked["isSignedIn"] is False
    assert asked["nextStep"]["signInStep"] == "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED"
    weak = amplify.fails("confirmSignIn", challengeResponse="weak")
    assert weak["name"] == "InvalidPasswordException"
    done = amplify.ok("confirmSignIn", challengeResponse=NEW_PASSWORD)
    assert done == {"isSignedIn": True, "nextStep": {"signInStep": "DONE"}}
    assert User.objects.get(pool=js_pool, username="gil").status == UserStatus.CONFIRMED
    amplify.ok("signOut")
    assert amplify.ok("signIn", username="gil", password=NEW_PASSWORD)["isSignedIn"] is True


def test_amplify_refresh_attributes_and_password(amplify, server, js_pool, js_client):
    factories.make_user(js_pool, "eve", given_name="Eve")
    amplify.ok("signIn", username="eve", password=PASSWORD)
    first = amplify.ok("fetchAuthSession")

    refreshing = amplify.step("fetchAuthSession", forceRefresh=True)
    assert refreshing.ok, f"{refreshing.error}\n{refreshing.traffic()}"
    assert refreshing.targets == ["GetTokensFromRefreshToken"]
    refreshed = refreshing.result
    assert refreshed["accessToken"]["jwt"] != first["accessToken"]["jwt"]
    assert refreshed["accessToken"]["payload"]["jti"] != first["accessToken"]["payload"]["jti"]
    assert_tokens_for(refreshed, username="eve", pool=js_pool, client=js_client, server=server)

    attributes = amplify.ok("fetchUserAttributes")
    assert attributes["email"] == "eve@example.com" and attributes["given_name"] == "Eve"
    assert attributes["sub"] == str(User.objects.get(username="eve").sub)

    updated = amplify.ok(
        "updateUserAttributes",
        userAttributes={"given_name": "Evelyn", "email": "evelyn@example.com"},
    )
    assert updated["given_name"] == {
        "isUpdated": True,
        "nextStep": {"updateAttributeStep": "DONE"},
    }
    # email is auto-verified: the new address waits for its code, the old one stays.
    assert updated["email"]["isUpdated"] is False
    assert updated["email"]["nextStep"]["updateAttributeStep"] == "CONFIRM_ATTRIBUTE_WITH_CODE"
    user = User.objects.get(username="eve")
    assert user.given_name == "Evelyn" and user.email == "eve@example.com"

    wrong_old = amplify.fails("updatePassword", oldPassword="Wrong-Old-1", newPassword=NEW_PASSWORD)
    assert wrong_old["name"] == "NotAuthorizedException"
    amplify.ok("updatePassword", oldPassword=PASSWORD, newPassword=NEW_PASSWORD)
    amplify.ok("signOut")
    assert amplify.fails("signIn", username="eve", password=PASSWORD)["name"] == (
        "NotAuthorizedException"
    )
    assert amplify.ok("signIn", username="eve", password=NEW_PASSWORD)["isSignedIn"] is True
    assert amplify.answers_fit_the_model() >= 8


def test_amplify_in_a_pool_that_signs_in_with_email(start_amplify, smtp_sink, db):
    """The common Amplify setup: email as the sign-in name, the username a UUID that SRP's
    USER_ID_FOR_SRP carries back; then a changed email verified with its code, and DeleteUser."""
    by_email = factories.make_pool(name="by-email", username_attributes=["email"])
    client = factories.make_client(
        by_email,
        explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        refresh_token_rotation=False,
    )
    amplify = start_amplify(client)
    signed_up = amplify.ok(
        "signUp",
        username="kim@example.com",
        password=PASSWORD,
        options={"userAttributes": {"email": "kim@example.com"}},
    )
    user = User.objects.get(pool=by_email)
    assert signed_up["userId"] == str(user.sub) and user.username != "kim@example.com"
    code = code_in(smtp_sink.body(smtp_sink.wait_for("kim@example.com")))
    amplify.ok("confirmSignUp", username="kim@example.com", confirmationCode=code)

    signing_in = amplify.step("signIn", username="Kim@Example.com", password=PASSWORD)
    assert signing_in.ok, f"{signing_in.error}\n{signing_in.traffic()}"
    assert signing_in.wire[0]["response"]["ChallengeParameters"]["USER_ID_FOR_SRP"] == (
        user.username
    )
    current = amplify.ok("getCurrentUser")
    assert current["username"] == user.username and current["userId"] == str(user.sub)

    updated = amplify.ok("updateUserAttributes", userAttributes={"email": "kim2@example.com"})
    assert updated["email"]["nextStep"]["updateAttributeStep"] == "CONFIRM_ATTRIBUTE_WITH_CODE"
    code = code_in(smtp_sink.body(smtp_sink.wait_for("kim2@example.com")))
    wrong = amplify.fails(
        "confirmUserAttribute", userAttributeKey="email", confirmationCode=wrong_code(code)
    )
    assert wrong["name"] == "CodeMismatchException"
    amplify.ok("confirmUserAttribute", userAttributeKey="email", confirmationCode=code)
    attributes = amplify.ok("fetchUserAttributes")
    assert attributes["email"] == "kim2@example.com" and attributes["email_verified"] == "true"

    deleting = amplify.step("deleteUser")
    assert deleting.ok, f"{deleting.error}\n{deleting.traffic()}"
    assert deleting.targets[0] == "DeleteUser"
    assert not User.objects.filter(pool=by_email).exists()
    assert amplify.ok("storage") == {}
    assert amplify.answers_fit_the_model() >= 8


def test_amplify_refresh_with_rotation_keeps_the_new_refresh_token(
    start_amplify, unsigned, js_pool
):
    rotating = factories.make_client(
        js_pool,
        explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        refresh_token_rotation=True,
        refresh_token_retry_grace_seconds=0,
    )
    amplify = start_amplify(rotating)
    factories.make_user(js_pool, "ezra")
    amplify.ok("signIn", username="ezra", password=PASSWORD)
    first = stored_refresh_token(amplify.ok("storage"))

    refreshing = amplify.step("fetchAuthSession", forceRefresh=True)
    assert refreshing.ok, f"{refreshing.error}\n{refreshing.traffic()}"
    assert refreshing.targets == ["GetTokensFromRefreshToken"]
    rotated = refreshing.wire[0]["response"]["AuthenticationResult"]["RefreshToken"]
    assert rotated != first
    assert stored_refresh_token(amplify.ok("storage")) == rotated
    # The replaced token is spent: offered again past the grace period, it is Cognito's reuse.
    with pytest.raises(unsigned.exceptions.RefreshTokenReuseException):
        unsigned.get_tokens_from_refresh_token(RefreshToken=first, ClientId=rotating.client_id)
    assert amplify.answers_fit_the_model() >= 3


def test_amplify_reset_password_with_the_emailed_code(amplify, smtp_sink, js_pool):
    factories.make_user(js_pool, "fay")
    started = amplify.ok("resetPassword", username="fay")
    assert started["isPasswordReset"] is False
    assert started["nextStep"]["resetPasswordStep"] == "CONFIRM_RESET_PASSWORD_WITH_CODE"
    assert started["nextStep"]["codeDeliveryDetails"]["deliveryMedium"] == "EMAIL"
    code = code_in(smtp_sink.body(smtp_sink.wait_for("fay@example.com")))

    mismatch = amplify.fails(
        "confirmResetPassword",
        username="fay",
        confirmationCode=wrong_code(code),
        newPassword=NEW_PASSWORD,
    )
    assert mismatch["name"] == "CodeMismatchException"
    weak = amplify.fails(
        "confirmResetPassword", username="fay", confirmationCode=code, newPassword="weak"
    )
    assert weak["name"] == "InvalidPasswordException"
    amplify.ok(
        "confirmResetPassword", username="fay", confirmationCode=code, newPassword=NEW_PASSWORD
    )
    assert amplify.fails("signIn", username="fay", password=PASSWORD)["name"] == (
        "NotAuthorizedException"
    )
    assert amplify.ok("signIn", username="fay", password=NEW_PASSWORD)["isSignedIn"] is True
    assert amplify.answers_fit_the_model() >= 3


def test_amplify_global_sign_out_ends_every_session(amplify, unsigned, js_pool, js_client):
    factories.make_user(js_pool, "gus")
    amplify.ok("signIn", username="gus", password=PASSWORD)
    access = amplify.ok("fetchAuthSession")["accessToken"]["jwt"]
    refresh = stored_refresh_token(amplify.ok("storage"))
    assert unsigned.get_user(AccessToken=access)["Username"] == "gus"

    signing_out = amplify.step("signOut", **{"global": True})
    assert signing_out.ok, signing_out.error
    # Amplify swallows a failed sign-out call: the wire shows whether it was answered.
    assert [(c["target"], c["status"]) for c in signing_out.wire] == [("GlobalSignOut", 200)]
    assert amplify.ok("storage") == {}
    assert amplify.fails("getCurrentUser")["name"] == "UserUnAuthenticatedException"
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.get_user(AccessToken=access)
    assert refresh_is_refused(unsigned, js_client, refresh)


def test_amplify_local_sign_out_revokes_its_refresh_token(amplify, unsigned, js_pool, js_client):
    factories.make_user(js_pool, "hal")
    amplify.ok("signIn", username="hal", password=PASSWORD)
    session = amplify.ok("fetchAuthSession")
    assert session["accessToken"]["payload"]["origin_jti"]  # what makes Amplify revoke
    refresh = stored_refresh_token(amplify.ok("storage"))

    signing_out = amplify.step("signOut")
    assert signing_out.ok, signing_out.error
    assert [(c["target"], c["status"]) for c in signing_out.wire] == [("RevokeToken", 200)]
    assert signing_out.wire[0]["request"]["Token"] == refresh
    assert amplify.ok("storage") == {}
    assert refresh_is_refused(unsigned, js_client, refresh)
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.get_user(AccessToken=session["accessToken"]["jwt"])


# -------------------------------------------------------------- amazon-cognito-identity-js


def test_identity_js_srp_sign_in_refresh_and_sign_out(
    identity_js, unsigned, server, js_pool, js_client
):
    factories.make_user(js_pool, "ivy")
    wrong = identity_js.fails("signIn", username="ivy", password="Wrong-Password-1")
    assert wrong["name"] == "NotAuthorizedException"

    # Typed in another case: the pool is case-insensitive and SRP runs on the real username.
    signing_in = identity_js.step("signIn", username="IVY", password=PASSWORD)
    assert signing_in.ok, f"{signing_in.error}\n{signing_in.traffic()}"
    assert signing_in.targets == ["InitiateAuth", "RespondToAuthChallenge"]
    assert signing_in.wire[0]["request"]["AuthFlow"] == "USER_SRP_AUTH"
    signed_in = signing_in.result
    assert signed_in["valid"] is True and signed_in["username"] == "ivy"
    assert_tokens_for(signed_in, username="ivy", pool=js_pool, client=js_client, server=server)

    refreshing = identity_js.step("refresh")
    assert refreshing.ok, f"{refreshing.error}\n{refreshing.traffic()}"
    assert refreshing.targets == ["InitiateAuth"]
    assert refreshing.wire[0]["request"]["AuthFlow"] == "REFRESH_TOKEN_AUTH"
    refreshed = refreshing.result
    assert refreshed["accessToken"]["jwt"] != signed_in["accessToken"]["jwt"]
    # Rotation off (Cognito's default): the same refresh token is kept.
    assert refreshed["refreshToken"] == signed_in["refreshToken"]
    assert_tokens_for(refreshed, username="ivy", pool=js_pool, client=js_client, server=server)
    assert identity_js.ok("getUserAttributes")["email"] == "ivy@example.com"

    signing_out = identity_js.step("signOut")
    assert signing_out.ok, f"{signing_out.error}\n{signing_out.traffic()}"
    assert signing_out.result == {"signedIn": False}
    assert [(c["target"], c["status"]) for c in signing_out.wire] == [("RevokeToken", 200)]
    assert refresh_is_refused(unsigned, js_client, signed_in["refreshToken"])
    assert identity_js.answers_fit_the_model() >= 4


def test_identity_js_sign_in_with_totp(identity_js, js_pool):
    user = factories.make_user(js_pool, "kai")
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TotpDevice.objects.create(user=user, secret=crypto.encrypt(secret), confirmed=True)
    User.objects.filter(pk=user.pk).update(software_token_mfa_enabled=True)

    assert identity_js.ok("signIn", username="kai", password=PASSWORD) == {
        "challenge": "SOFTWARE_TOKEN_MFA"
    }
    code = totp_code(secret)
    mismatch = identity_js.fails(
        "sendMFACode", code=wrong_code(code), challenge="SOFTWARE_TOKEN_MFA"
    )
    assert mismatch["name"] == "CodeMismatchException"
    signed_in = identity_js.ok("sendMFACode", code=code, challenge="SOFTWARE_TOKEN_MFA")
    assert signed_in["valid"] is True
    assert signed_in["accessToken"]["payload"]["username"] == "kai"
    assert identity_js.ok("session")["accessToken"] == signed_in["accessToken"]


def test_identity_js_global_sign_out(identity_js, unsigned, js_pool):
    factories.make_user(js_pool, "jo")
    signed_in = identity_js.ok("signIn", username="jo", password=PASSWORD)
    signing_out = identity_js.step("globalSignOut")
    assert signing_out.ok, f"{signing_out.error}\n{signing_out.traffic()}"
    assert "GlobalSignOut" in signing_out.targets
    with pytest.raises(unsigned.exceptions.NotAuthorizedException):
        unsigned.get_user(AccessToken=signed_in["accessToken"]["jwt"])
