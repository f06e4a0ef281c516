"""Tracked devices through the JSON API, with boto3 and pycognito against a live Cognate:
DeviceConfiguration on the pool, NewDeviceMetadata at sign-in, ConfirmDevice,
UpdateDeviceStatus, GetDevice, ListDevices, ForgetDevice and their Admin* versions, and the
"remember this device" journey (TOTP MFA once, then DEVICE_SRP_AUTH instead of MFA), positive
and negative. Every successful answer is checked against botocore's output shapes."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from pycognito.aws_srp import AWSSRP, generate_hash_device
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from pool.models import Device, UserPool
from pool.services import sign_in, tokens
from tests import factories
from tests.api.shape_check import assert_fits
from tests.pool.test_authenticate import enrol_totp, totp_code

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

PASSWORD = factories.PASSWORD


@pytest.fixture
def pool(db):
    return factories.make_device_pool()


@pytest.fixture
def app(pool):
    return factories.make_client(
        pool,
        refresh_token_rotation=False,
        explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )


@pytest.fixture
def alice(pool):
    user = factories.make_user(pool, "alice")
    user.totp_secret = enrol_totp(user)
    return user


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def message(error) -> str:
    return error.value.response["Error"]["Message"]


def signed_in(user, app) -> dict:
    """Tokens of a finished API sign-in made in the domain (fixtures: TOTP codes are one a
    step), with the new device the pool gives it."""
    issued = tokens.for_api_sign_in(
        sign_in.finish(user=user, client=app, context=None, methods=("pwd",))
    )
    return {
        "AccessToken": issued.access_token,
        "DeviceKey": issued.new_device_key,
        "DeviceGroupKey": issued.new_device_group_key,
    }


def confirm(caller, session: dict, name="laptop") -> str:
    """ConfirmDevice as pycognito computes it; returns the device password."""
    password, config = generate_hash_device(session["DeviceGroupKey"], session["DeviceKey"])
    caller.confirm_device(
        AccessToken=session["AccessToken"],
        DeviceKey=session["DeviceKey"],
        DeviceSecretVerifierConfig=config,
        DeviceName=name,
    )
    return password


def remembered(caller, user, app) -> tuple[dict, str]:
    session = signed_in(user, app)
    password = confirm(caller, session)
    caller.update_device_status(
        AccessToken=session["AccessToken"],
        DeviceKey=session["DeviceKey"],
        DeviceRememberedStatus="remembered",
    )
    return session, password


def device_srp(caller, app, session: dict, password: str) -> AWSSRP:
    return AWSSRP(
        "alice",
        PASSWORD,
        app.pool_id,
        app.client_id,
        client=caller,
        device_key=session["DeviceKey"],
        device_group_key=session["DeviceGroupKey"],
        device_password=password,
    )


# ------------------------------------------------------------------------------- journey


def test_remember_this_device_journey(app_caller, cognito, recorder, pool, app, alice):
    """TOTP MFA -> NewDeviceMetadata -> ConfirmDevice -> UpdateDeviceStatus remembered ->
    USER_SRP_AUTH with DEVICE_KEY -> DEVICE_SRP_AUTH -> tokens, with no MFA challenge."""
    first = AWSSRP("alice", PASSWORD, pool.id, app.client_id, client=app_caller)
    with pytest.raises(SoftwareTokenMFAChallengeException) as mfa:
        first.authenticate_user()
    result = app_caller.respond_to_auth_challenge(
        ClientId=app.client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=mfa.value.get_tokens()["Session"],
        ChallengeResponses={
            "USERNAME": "alice",
            "SOFTWARE_TOKEN_MFA_CODE": totp_code(alice.totp_secret),
        },
    )["AuthenticationResult"]
    metadata = result["NewDeviceMetadata"]
    assert claims(result["AccessToken"])["device_key"] == metadata["DeviceKey"]
    session = {"AccessToken": result["AccessToken"], **metadata}

    password, config = generate_hash_device(metadata["DeviceGroupKey"], metadata["DeviceKey"])
    confirmed = app_caller.confirm_device(
        AccessToken=result["AccessToken"],
        DeviceKey=metadata["DeviceKey"],
        DeviceSecretVerifierConfig=config,
        DeviceName="alice's laptop",
    )
    assert confirmed["UserConfirmationNecessary"] is True
    app_caller.update_device_status(
        AccessToken=result["AccessToken"],
        DeviceKey=metadata["DeviceKey"],
        DeviceRememberedStatus="remembered",
    )

    recorder.bodies.clear()
    answered = device_srp(app_caller, app, session, password).authenticate_user()
    names = [body.get("ChallengeName") for _, _, body in recorder.bodies]
    assert names == ["PASSWORD_VERIFIER", "DEVICE_SRP_AUTH", "DEVICE_PASSWORD_VERIFIER", None]
    tokens_ = answered["AuthenticationResult"]
    assert "NewDeviceMetadata" not in tokens_  # a known device
    assert claims(tokens_["AccessToken"])["device_key"] == metadata["DeviceKey"]
    verifier = recorder.bodies[2][2]["ChallengeParameters"]
    assert {"SRP_B", "SALT", "SECRET_BLOCK", "USERNAME"} <= set(verifier)

    device = app_caller.get_device(
        AccessToken=tokens_["AccessToken"], DeviceKey=metadata["DeviceKey"]
    )
    attributes = {a["Name"]: a["Value"] for a in device["Device"]["DeviceAttributes"]}
    assert attributes["device_name"] == "alice's laptop"
    assert attributes["dev:device_remembered_status"] == "remembered"
    assert "DeviceLastAuthenticatedDate" in device["Device"]
    listed = app_caller.list_devices(AccessToken=tokens_["AccessToken"])["Devices"]
    assert [d["DeviceKey"] for d in listed] == [metadata["DeviceKey"]]
    admin = cognito.admin_get_device(
        UserPoolId=pool.id, Username="alice", DeviceKey=metadata["DeviceKey"]
    )
    assert admin["Device"]["DeviceKey"] == metadata["DeviceKey"]
    assert_fits(recorder)


# ----------------------------------------------------------------------- remembered or not


def test_forgotten_device_no_longer_skips_mfa(app_caller, recorder, app, alice):
    session, password = remembered(app_caller, alice, app)
    app_caller.forget_device(AccessToken=session["AccessToken"], DeviceKey=session["DeviceKey"])
    assert not Device.objects.filter(key=session["DeviceKey"]).exists()
    with pytest.raises(SoftwareTokenMFAChallengeException):
        device_srp(app_caller, app, session, password).authenticate_user()
    assert_fits(recorder)


def test_not_remembered_device_does_not_skip_mfa(app_caller, recorder, app, alice):
    session, password = remembered(app_caller, alice, app)
    app_caller.update_device_status(
        AccessToken=session["AccessToken"],
        DeviceKey=session["DeviceKey"],
        DeviceRememberedStatus="not_remembered",
    )
    with pytest.raises(SoftwareTokenMFAChallengeException):
        device_srp(app_caller, app, session, password).authenticate_user()
    assert_fits(recorder)


def test_wrong_device_password_claim_is_refused(app_caller, recorder, app, alice):
    session, _ = remembered(app_caller, alice, app)
    with pytest.raises(app_caller.exceptions.NotAuthorizedException) as refused:
        device_srp(
            app_caller, app, session, "bm90IHRoZSBkZXZpY2UncyBwYXNzd29yZA=="
        ).authenticate_user()
    assert message(refused) == "Incorrect username or password."
    assert_fits(recorder)


def test_device_srp_with_a_forged_secret_block_is_refused(app_caller, app, alice):
    session, password = remembered(app_caller, alice, app)
    aws = device_srp(app_caller, app, session, password)
    answer = aws.process_challenge(
        app_caller.initiate_auth(
            ClientId=app.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=aws.get_auth_params()
        )["ChallengeParameters"],
        aws.get_auth_params(),
    )
    challenge = app_caller.respond_to_auth_challenge(
        ClientId=app.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer
    )
    assert challenge["ChallengeName"] == "DEVICE_SRP_AUTH"
    verifier = app_caller.respond_to_auth_challenge(
        ClientId=app.client_id,
        ChallengeName="DEVICE_SRP_AUTH",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": "alice",
            "DEVICE_KEY": session["DeviceKey"],
            "SRP_A": format(aws.large_a_value, "x"),
        },
    )
    responses = aws.process_device_challenge(
        {**verifier["ChallengeParameters"], "SECRET_BLOCK": "Zm9yZ2Vk"}
    )
    with pytest.raises(app_caller.exceptions.NotAuthorizedException):
        app_caller.respond_to_auth_challenge(
            ClientId=app.client_id,
            ChallengeName="DEVICE_PASSWORD_VERIFIER",
            ChallengeResponses=responses,
        )


# ----------------------------------------------------------------------- device actions


def test_device_actions_refuse_an_unknown_device(app_caller, app, alice):
    session = signed_in(alice, app)
    token = session["AccessToken"]
    unknown = f"{alice.pool.region}_00000000-0000-4000-8000-000000000000"
    errors = app_caller.exceptions
    with pytest.raises(errors.ResourceNotFoundException):
        app_caller.get_device(AccessToken=token, DeviceKey=unknown)
    with pytest.raises(errors.ResourceNotFoundException):
        app_caller.forget_device(AccessToken=token, DeviceKey=unknown)
    with pytest.raises(errors.ResourceNotFoundException):
        app_caller.update_device_status(
            AccessToken=token, DeviceKey=unknown, DeviceRememberedStatus="remembered"
        )
    with pytest.raises(errors.ResourceNotFoundException):
        confirm(app_caller, {**session, "DeviceKey": unknown})
    # Not confirmed yet: not a device the user has.
    with pytest.raises(errors.ResourceNotFoundException):
        app_caller.get_device(AccessToken=token, DeviceKey=session["DeviceKey"])


def test_device_actions_refuse_another_users_device(app_caller, app, alice, pool):
    session, _ = remembered(app_caller, alice, app)
    bob = factories.make_user(pool, "bob")
    token = signed_in(bob, app)["AccessToken"]
    errors = app_caller.exceptions
    key = session["DeviceKey"]
    with pytest.raises(errors.ResourceNotFoundException):
        app_caller.get_device(AccessToken=token, DeviceKey=key)
    with pytest.raises(errors.ResourceNotFoundException):
        app_caller.update_device_status(
            AccessToken=token, DeviceKey=key, DeviceRememberedStatus="not_remembered"
        )
    with pytest.raises(errors.ResourceNotFoundException):
        app_caller.forget_device(AccessToken=token, DeviceKey=key)
    with pytest.raises(errors.ResourceNotFoundException):
        confirm(app_caller, {**session, "AccessToken": token})
    assert app_caller.list_devices(AccessToken=token)["Devices"] == []
    assert Device.objects.get(key=key).remembered


def test_confirm_device_twice_and_bad_configs(app_caller, app, alice):
    session = signed_in(alice, app)
    confirm(app_caller, session)
    errors = app_caller.exceptions
    with pytest.raises(errors.DeviceKeyExistsException):
        confirm(app_caller, session)
    fresh = signed_in(alice, app)
    with pytest.raises(errors.InvalidParameterException):
        app_caller.confirm_device(
            AccessToken=fresh["AccessToken"],
            DeviceKey=fresh["DeviceKey"],
            DeviceSecretVerifierConfig={"PasswordVerifier": "***", "Salt": "c2FsdA=="},
        )
    assert not Device.objects.get(key=fresh["DeviceKey"]).confirmed


def test_device_actions_need_a_valid_access_token(app_caller, app, alice):
    session = signed_in(alice, app)
    with pytest.raises(app_caller.exceptions.NotAuthorizedException):
        app_caller.list_devices(AccessToken="not-a-token")
    with pytest.raises(app_caller.exceptions.NotAuthorizedException):
        app_caller.get_device(AccessToken="not-a-token", DeviceKey=session["DeviceKey"])


def test_an_unknown_remembered_status_is_refused(app_caller, app, alice):
    session, _ = remembered(app_caller, alice, app)
    with pytest.raises(app_caller.exceptions.InvalidParameterException):
        app_caller.update_device_status(
            AccessToken=session["AccessToken"],
            DeviceKey=session["DeviceKey"],
            DeviceRememberedStatus="forever",
        )
    assert Device.objects.get(key=session["DeviceKey"]).remembered


def test_list_devices_pages(app_caller, recorder, app, alice):
    keys = sorted(remembered(app_caller, alice, app)[0]["DeviceKey"] for _ in range(3))
    token = signed_in(alice, app)["AccessToken"]
    first = app_caller.list_devices(AccessToken=token, Limit=2)
    second = app_caller.list_devices(
        AccessToken=token, Limit=2, PaginationToken=first["PaginationToken"]
    )
    assert "PaginationToken" not in second
    assert [d["DeviceKey"] for d in first["Devices"] + second["Devices"]] == keys
    with pytest.raises(app_caller.exceptions.InvalidParameterException):
        app_caller.list_devices(AccessToken=token, PaginationToken="forged")
    assert_fits(recorder)


# --------------------------------------------------------------------------------- admin


def test_admin_device_actions(app_caller, cognito, recorder, pool, app, alice):
    session, _ = remembered(app_caller, alice, app)
    key = session["DeviceKey"]
    listed = cognito.admin_list_devices(UserPoolId=pool.id, Username="alice", Limit=10)
    assert [d["DeviceKey"] for d in listed["Devices"]] == [key]
    cognito.admin_update_device_status(
        UserPoolId=pool.id, Username="alice", DeviceKey=key, DeviceRememberedStatus="not_remembered"
    )
    got = cognito.admin_get_device(UserPoolId=pool.id, Username="alice", DeviceKey=key)
    attributes = {a["Name"]: a["Value"] for a in got["Device"]["DeviceAttributes"]}
    assert attributes["dev:device_remembered_status"] == "not_remembered"
    cognito.admin_forget_device(UserPoolId=pool.id, Username="alice", DeviceKey=key)
    assert cognito.admin_list_devices(UserPoolId=pool.id, Username="alice")["Devices"] == []
    assert_fits(recorder)


def test_admin_device_actions_refuse_unknown_users_and_devices(
    cognito, app_caller, pool, app, alice
):
    session, _ = remembered(app_caller, alice, app)
    factories.make_user(pool, "bob")
    errors = cognito.exceptions
    with pytest.raises(errors.UserNotFoundException):
        cognito.admin_list_devices(UserPoolId=pool.id, Username="nobody")
    with pytest.raises(errors.ResourceNotFoundException):
        cognito.admin_get_device(UserPoolId=pool.id, Username="bob", DeviceKey=session["DeviceKey"])
    with pytest.raises(errors.ResourceNotFoundException):
        cognito.admin_forget_device(
            UserPoolId=pool.id, Username="bob", DeviceKey=session["DeviceKey"]
        )
    with pytest.raises(errors.ResourceNotFoundException):
        cognito.admin_update_device_status(
            UserPoolId=pool.id,
            Username="alice",
            DeviceKey=f"{pool.region}_00000000-0000-4000-8000-000000000000",
            DeviceRememberedStatus="remembered",
        )
    assert Device.objects.filter(key=session["DeviceKey"]).exists()


# --------------------------------------------------------------------- pool configuration


def test_device_configuration_on_create_update_and_describe(cognito, recorder):
    created = cognito.create_user_pool(
        PoolName="devices",
        DeviceConfiguration={
            "ChallengeRequiredOnNewDevice": True,
            "DeviceOnlyRememberedOnUserPrompt": False,
        },
    )["UserPool"]
    assert created["DeviceConfiguration"] == {
        "ChallengeRequiredOnNewDevice": True,
        "DeviceOnlyRememberedOnUserPrompt": False,
    }
    cognito.update_user_pool(
        UserPoolId=created["Id"], DeviceConfiguration={"DeviceOnlyRememberedOnUserPrompt": True}
    )
    described = cognito.describe_user_pool(UserPoolId=created["Id"])["UserPool"]
    assert described["DeviceConfiguration"] == {
        "ChallengeRequiredOnNewDevice": False,
        "DeviceOnlyRememberedOnUserPrompt": True,
    }
    # Left out of an update, it goes back to Cognito's default: devices are not remembered.
    cognito.update_user_pool(UserPoolId=created["Id"])
    described = cognito.describe_user_pool(UserPoolId=created["Id"])["UserPool"]
    assert "DeviceConfiguration" not in described
    assert not UserPool.objects.get(pk=created["Id"]).track_devices
    assert_fits(recorder)


@pytest.mark.parametrize(
    "name, responses, error",
    [
        ("DEVICE_SRP_AUTH", {"USERNAME": "alice"}, "InvalidParameterException"),
        ("DEVICE_SRP_AUTH", {"USERNAME": "alice", "DEVICE_KEY": "k", "SRP_A": "zz"}, None),
        ("DEVICE_SRP_AUTH", {"USERNAME": "nobody", "DEVICE_KEY": "k", "SRP_A": "ab"}, None),
        ("DEVICE_PASSWORD_VERIFIER", {"USERNAME": "alice"}, "InvalidParameterException"),
        (
            "DEVICE_PASSWORD_VERIFIER",
            {
                "USERNAME": "alice",
                "DEVICE_KEY": "k",
                "PASSWORD_CLAIM_SECRET_BLOCK": "bm90IGEgYmxvY2s=",
                "PASSWORD_CLAIM_SIGNATURE": "c2ln",
                "TIMESTAMP": "Mon Nov 30 06:00:00 UTC 2026",
            },
            "NotAuthorizedException",
        ),
    ],
)
def test_crafted_device_answers_are_refused_never_a_5xx(
    app_caller, app, alice, name, responses, error
):
    with pytest.raises(app_caller.exceptions.ClientError) as refused:
        app_caller.respond_to_auth_challenge(
            ClientId=app.client_id, ChallengeName=name, ChallengeResponses=responses
        )
    response = refused.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] in (
        (error,) if error else ("InvalidParameterException", "NotAuthorizedException")
    )
