"""boto3 against a live Cognate: the self-service account actions, by client id (sign-up,
confirmation, password recovery) and by access token (profile, password, attributes, MFA
preference, sign-out, deleting the account), positive and negative."""

from __future__ import annotations

import json
import urllib.request

import pytest

from pool import clock, jwt
from pool.models import CodePurpose, CustomAttribute, TotpDevice, User, UserStatus
from pool.services import codes, passwords, tokens
from tests import factories
from tests.api.conftest import CONTENT_TYPE, TARGET
from tests.api.shape_check import assert_fits
from tests.hostedui.conftest import authorize_url, code_for, exchange_code, token_request
from tests.pool.helpers import code_in
from tests.security.conftest import TOTP_SECRET, last_code, wrong
from tests.security.conftest import enrol_totp as enrol_confirmed_totp

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Battery-Staple-7"


@pytest.fixture
def pool(db):
    return factories.make_pool(name="accounts")


@pytest.fixture
def app_client(pool):
    return factories.make_client(pool)


@pytest.fixture
def user(pool):
    return factories.make_user(pool, "alice", given_name="Alice")


def access_token(user: User, client, scopes=(tokens.ADMIN_SCOPE,)) -> str:
    """An access token for `user` through `client`, issued by the tokens service as the
    API's sign-in issues them."""
    return tokens.issue(
        user=user, client=client, scopes=list(scopes), auth_time=clock.now()
    ).access_token


def error_of(caught: pytest.ExceptionInfo) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def reload(user: User) -> User:
    return User.objects.select_related("pool").get(pk=user.pk)


# ------------------------------------------------------------------------- sign-up


def test_sign_up_then_confirm_with_the_emailed_code(cognito, recorder, pool, app_client, smtp_sink):
    answer = cognito.sign_up(
        ClientId=app_client.client_id,
        Username="bob",
        Password=factories.PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
        ClientMetadata={"source": "test"},
    )
    user = User.objects.get(pool=pool, username="bob")
    assert answer["UserConfirmed"] is False and answer["UserSub"] == str(user.sub)
    delivery = answer["CodeDeliveryDetails"]
    assert (delivery["DeliveryMedium"], delivery["AttributeName"]) == ("EMAIL", "email")
    assert delivery["Destination"].startswith("b") and "bob@example.com" not in str(delivery)
    message = smtp_sink.wait_for("bob@example.com")
    code = code_in(smtp_sink.body(message))

    cognito.confirm_sign_up(ClientId=app_client.client_id, Username="bob", ConfirmationCode=code)
    user = reload(user)
    assert user.status == UserStatus.CONFIRMED and user.email_verified
    assert_fits(recorder)


def test_sign_up_with_a_taken_username_is_refused(cognito, app_client, user):
    with pytest.raises(cognito.exceptions.UsernameExistsException) as caught:
        cognito.sign_up(
            ClientId=app_client.client_id,
            Username="alice",
            Password=factories.PASSWORD,
            UserAttributes=[{"Name": "email", "Value": "other@example.com"}],
        )
    assert error_of(caught)[1] == "User already exists"


def test_sign_up_with_a_weak_password_writes_nothing(cognito, pool, app_client):
    with pytest.raises(cognito.exceptions.InvalidPasswordException) as caught:
        cognito.sign_up(
            ClientId=app_client.client_id,
            Username="bob",
            Password="short",
            UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
        )
    assert "Password did not conform with policy" in error_of(caught)[1]
    assert not User.objects.filter(pool=pool).exists()


@pytest.mark.parametrize(
    "attributes, refusal",
    [
        ([{"Name": "favourite_colour", "Value": "blue"}], "InvalidParameterException"),
        (
            [{"Name": "email", "Value": "bob@example.com"}, {"Name": "email", "Value": "b@x.org"}],
            "InvalidParameterException",
        ),
        ([], "InvalidParameterException"),  # the required email is missing
        # Only an administrator sets a verified flag; Cognito's answer is NotAuthorized.
        (
            [
                {"Name": "email", "Value": "bob@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
            "NotAuthorizedException",
        ),
    ],
)
def test_sign_up_with_bad_attributes_writes_nothing(cognito, pool, app_client, attributes, refusal):
    with pytest.raises(getattr(cognito.exceptions, refusal)):
        cognito.sign_up(
            ClientId=app_client.client_id,
            Username="bob",
            Password=factories.PASSWORD,
            UserAttributes=attributes,
        )
    assert not User.objects.filter(pool=pool).exists()


def test_sign_up_in_a_pool_closed_to_it_is_not_authorized(cognito, pool, app_client):
    pool.allow_self_sign_up = False
    pool.save()
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.sign_up(
            ClientId=app_client.client_id,
            Username="bob",
            Password=factories.PASSWORD,
            UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
        )
    assert "SignUp is not permitted" in error_of(caught)[1]
    assert not User.objects.filter(pool=pool).exists()


def test_an_unknown_client_is_resource_not_found(cognito, pool):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.sign_up(ClientId="nosuchclient0000000000000a", Username="bob", Password="x")
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.forgot_password(ClientId="nosuchclient0000000000000a", Username="bob")


def test_a_client_with_a_secret_needs_the_secret_hash(cognito, recorder, pool):
    from api.principals import secret_hash

    client = factories.make_client(pool, secret="")
    base = {"ClientId": client.client_id, "Username": "bob", "Password": factories.PASSWORD}
    attributes = [{"Name": "email", "Value": "bob@example.com"}]
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.sign_up(**base, UserAttributes=attributes)
    assert error_of(caught)[1] == (
        f"Client {client.client_id} is configured with secret but SECRET_HASH was not received"
    )
    wrong_hash = secret_hash(client.plain_secret, "mallory", client.client_id)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.sign_up(**base, UserAttributes=attributes, SecretHash=wrong_hash)
    assert error_of(caught)[1] == f"Unable to verify secret hash for client {client.client_id}"
    assert not User.objects.filter(pool=pool).exists()

    right = secret_hash(client.plain_secret, "bob", client.client_id)
    cognito.sign_up(**base, UserAttributes=attributes, SecretHash=right)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.resend_confirmation_code(ClientId=client.client_id, Username="bob")
    cognito.resend_confirmation_code(ClientId=client.client_id, Username="bob", SecretHash=right)
    assert_fits(recorder)


@pytest.mark.parametrize(
    "operation, extra",
    [
        ("sign_up", {"Password": factories.PASSWORD}),
        ("confirm_sign_up", {"ConfirmationCode": "123456"}),
        ("resend_confirmation_code", {}),
        ("forgot_password", {}),
        ("confirm_forgot_password", {"ConfirmationCode": "123456", "Password": NEW_PASSWORD}),
    ],
)
def test_every_client_id_action_checks_the_secret_hash(cognito, pool, user, operation, extra):
    from api.principals import secret_hash

    client = factories.make_client(pool, secret="")
    call = getattr(cognito, operation)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        call(ClientId=client.client_id, Username="alice", **extra)
    assert "SECRET_HASH was not received" in error_of(caught)[1]
    other_name = secret_hash(client.plain_secret, "bob", client.client_id)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        call(ClientId=client.client_id, Username="alice", SecretHash=other_name, **extra)
    assert error_of(caught)[1] == f"Unable to verify secret hash for client {client.client_id}"
    assert passwords.verify(reload(user), factories.PASSWORD)


# --------------------------------------------------------------------- confirm sign-up


@pytest.fixture
def unconfirmed(pool):
    user = factories.make_user(pool, "bob", status=UserStatus.UNCONFIRMED)
    code = codes.issue(user, CodePurpose.SIGN_UP, destination=user.email)
    return user, code


def test_confirm_sign_up_with_a_wrong_code(cognito, app_client, unconfirmed):
    user, code = unconfirmed
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.confirm_sign_up(
            ClientId=app_client.client_id, Username="bob", ConfirmationCode=wrong(code)
        )
    assert reload(user).status == UserStatus.UNCONFIRMED


def test_confirm_sign_up_with_an_expired_code(cognito, pool, app_client, unconfirmed):
    user, code = unconfirmed
    clock.freeze()
    clock.advance(hours=25)
    # A pool that hides user existence says "wrong code"; one that does not says "expired".
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.confirm_sign_up(
            ClientId=app_client.client_id, Username="bob", ConfirmationCode=code
        )
    pool.prevent_user_existence_errors = False
    pool.save()
    code = codes.issue(user, CodePurpose.SIGN_UP, destination=user.email)
    clock.advance(hours=25)
    with pytest.raises(cognito.exceptions.ExpiredCodeException):
        cognito.confirm_sign_up(
            ClientId=app_client.client_id, Username="bob", ConfirmationCode=code
        )
    assert reload(user).status == UserStatus.UNCONFIRMED


def test_confirm_sign_up_of_an_unknown_user_reads_as_a_wrong_code(cognito, pool, app_client):
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.confirm_sign_up(
            ClientId=app_client.client_id, Username="nobody", ConfirmationCode="123456"
        )
    pool.prevent_user_existence_errors = False
    pool.save()
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.confirm_sign_up(
            ClientId=app_client.client_id, Username="nobody", ConfirmationCode="123456"
        )


def test_confirming_a_confirmed_user(cognito, pool, app_client, user):
    """Hidden as a wrong code where the pool prevents existence errors; Cognito's status
    message where it does not."""
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.confirm_sign_up(
            ClientId=app_client.client_id, Username="alice", ConfirmationCode="123456"
        )
    pool.prevent_user_existence_errors = False
    pool.save()
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.confirm_sign_up(
            ClientId=app_client.client_id, Username="alice", ConfirmationCode="123456"
        )
    assert error_of(caught)[1] == "User cannot be confirmed. Current status is CONFIRMED"


def test_force_alias_creation_moves_an_alias_at_confirmation(cognito, recorder, db):
    pool = factories.make_pool(alias_attributes=["email"])
    client = factories.make_client(pool)
    holder = factories.make_user(pool, "carol", email="shared@example.com")
    newcomer = factories.make_user(
        pool, "dave", email="shared@example.com", status=UserStatus.UNCONFIRMED
    )
    code = codes.issue(newcomer, CodePurpose.SIGN_UP, destination=newcomer.email)
    with pytest.raises(cognito.exceptions.AliasExistsException):
        cognito.confirm_sign_up(ClientId=client.client_id, Username="dave", ConfirmationCode=code)
    cognito.confirm_sign_up(
        ClientId=client.client_id, Username="dave", ConfirmationCode=code, ForceAliasCreation=True
    )
    assert reload(newcomer).email_key == pool.normalize("shared@example.com")
    assert reload(holder).email_key is None
    assert_fits(recorder)


# ------------------------------------------------------------- resend, forgot, reset


def test_resend_answers_alike_for_a_user_and_a_stranger(cognito, recorder, pool, app_client):
    factories.make_user(pool, "bob", status=UserStatus.UNCONFIRMED)
    real = cognito.resend_confirmation_code(ClientId=app_client.client_id, Username="bob")
    code = last_code("bob@example.com")
    stranger = cognito.resend_confirmation_code(ClientId=app_client.client_id, Username="nobody")
    for answer in (real, stranger):
        assert set(answer) == {"CodeDeliveryDetails", "ResponseMetadata"}
        assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
        assert answer["CodeDeliveryDetails"]["AttributeName"] == "email"
    cognito.confirm_sign_up(ClientId=app_client.client_id, Username="bob", ConfirmationCode=code)
    assert User.objects.get(pool=pool, username="bob").status == UserStatus.CONFIRMED
    assert_fits(recorder)

    pool.prevent_user_existence_errors = False
    pool.save()
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.resend_confirmation_code(ClientId=app_client.client_id, Username="nobody")


def test_forgot_and_confirm_forgot_password(cognito, recorder, app_client, user):
    answer = cognito.forgot_password(ClientId=app_client.client_id, Username="alice")
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = last_code("alice@example.com")
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.confirm_forgot_password(
            ClientId=app_client.client_id, Username="alice", ConfirmationCode=code, Password="weak"
        )
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.confirm_forgot_password(
            ClientId=app_client.client_id,
            Username="alice",
            ConfirmationCode=wrong(code),
            Password=NEW_PASSWORD,
        )
    cognito.confirm_forgot_password(
        ClientId=app_client.client_id,
        Username="alice",
        ConfirmationCode=code,
        Password=NEW_PASSWORD,
    )
    assert passwords.verify(reload(user), NEW_PASSWORD)
    assert_fits(recorder)


def test_confirm_forgot_password_with_an_expired_code(cognito, pool, app_client, user):
    clock.freeze()
    cognito.forgot_password(ClientId=app_client.client_id, Username="alice")
    code = last_code("alice@example.com")
    clock.advance(hours=2)
    pool.prevent_user_existence_errors = False
    pool.save()
    with pytest.raises(cognito.exceptions.ExpiredCodeException):
        cognito.confirm_forgot_password(
            ClientId=app_client.client_id,
            Username="alice",
            ConfirmationCode=code,
            Password=NEW_PASSWORD,
        )
    assert passwords.verify(reload(user), factories.PASSWORD)


def test_forgot_password_answers_alike_for_a_user_and_a_stranger(cognito, pool, app_client, user):
    real = cognito.forgot_password(ClientId=app_client.client_id, Username="alice")
    stranger = cognito.forgot_password(ClientId=app_client.client_id, Username="nobody")
    assert set(real) == set(stranger)
    assert {k: v for k, v in real["CodeDeliveryDetails"].items() if k != "Destination"} == {
        k: v for k, v in stranger["CodeDeliveryDetails"].items() if k != "Destination"
    }
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.confirm_forgot_password(
            ClientId=app_client.client_id,
            Username="nobody",
            ConfirmationCode="123456",
            Password=NEW_PASSWORD,
        )
    pool.prevent_user_existence_errors = False
    pool.save()
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.forgot_password(ClientId=app_client.client_id, Username="nobody")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.confirm_forgot_password(
            ClientId=app_client.client_id,
            Username="nobody",
            ConfirmationCode="123456",
            Password=NEW_PASSWORD,
        )


# ------------------------------------------------------------------- the access token


def test_get_user(cognito, recorder, app_client, user):
    answer = cognito.get_user(AccessToken=access_token(user, app_client))
    assert answer["Username"] == "alice"
    attributes = {a["Name"]: a["Value"] for a in answer["UserAttributes"]}
    assert answer["UserAttributes"][0] == {"Name": "sub", "Value": str(user.sub)}
    assert attributes["email"] == "alice@example.com" and attributes["email_verified"] == "true"
    assert attributes["given_name"] == "Alice"
    assert "MFAOptions" not in answer and "UserMFASettingList" not in answer
    assert_fits(recorder)


def test_get_user_reads_only_what_the_client_may_read(cognito, recorder, pool, user):
    client = factories.make_client(pool, read_attributes=["email"])
    answer = cognito.get_user(AccessToken=access_token(user, client))
    assert [a["Name"] for a in answer["UserAttributes"]] == ["sub", "email"]
    assert_fits(recorder)


def test_get_user_shows_mfa_settings(cognito, recorder, app_client, user):
    enrol_confirmed_totp(user)
    answer = cognito.get_user(AccessToken=access_token(user, app_client))
    assert answer["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    assert answer["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert_fits(recorder)


def test_a_hosted_ui_token_works_at_get_user(cognito, recorder, client, pool, user):
    """One issuer for every door: the OAuth door's access token, with Cognito's scope for the
    user's own API, is accepted; one without that scope is refused as Cognito refuses it."""
    app_client = factories.make_client(
        pool, allowed_oauth_scopes=["openid", "email", tokens.ADMIN_SCOPE]
    )
    code = code_for(client, pool, app_client, scope=f"openid {tokens.ADMIN_SCOPE}")
    issued = exchange_code(client, pool, app_client, code).json()
    assert cognito.get_user(AccessToken=issued["access_token"])["Username"] == "alice"
    code = code_for(client, pool, app_client, scope="openid email")
    narrow = exchange_code(client, pool, app_client, code).json()
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.get_user(AccessToken=narrow["access_token"])
    assert error_of(caught)[1] == "Access Token does not have required scopes"
    assert_fits(recorder)


def test_a_bad_access_token_is_not_authorized(cognito, pool, app_client, user):
    for token, message in [
        ("not-a-token", "Invalid Access Token"),
        (
            access_token(user, app_client, scopes=["openid"]),
            "Access Token does not have required scopes",
        ),
    ]:
        with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
            cognito.get_user(AccessToken=token)
        assert error_of(caught)[1] == message


def test_an_expired_access_token_is_not_authorized(cognito, app_client, user):
    clock.freeze()
    token = access_token(user, app_client)
    clock.advance(seconds=app_client.access_token_validity + jwt.LEEWAY + 1)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.get_user(AccessToken=token)
    assert error_of(caught)[1] == "Access Token has expired"


def test_a_call_without_an_access_token_is_refused_by_the_model(server, pool):
    """botocore refuses to send it; a hand-made call gets Cognito's validation error."""
    request = urllib.request.Request(
        server + "/",
        data=json.dumps({}).encode(),
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET + "GetUser"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    body = json.loads(caught.value.read())
    assert caught.value.code == 400
    assert body["__type"] == "InvalidParameterException"
    assert "accessToken" in body["message"]


# ------------------------------------------------------------------------- password


def test_change_password(cognito, recorder, app_client, user):
    token = access_token(user, app_client)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.change_password(
            AccessToken=token, PreviousPassword="Wrong-Horse-9", ProposedPassword=NEW_PASSWORD
        )
    assert error_of(caught)[1] == "Incorrect username or password."
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.change_password(
            AccessToken=token, PreviousPassword=factories.PASSWORD, ProposedPassword="weak"
        )
    assert passwords.verify(reload(user), factories.PASSWORD)
    cognito.change_password(
        AccessToken=token, PreviousPassword=factories.PASSWORD, ProposedPassword=NEW_PASSWORD
    )
    assert passwords.verify(reload(user), NEW_PASSWORD)
    assert_fits(recorder)


# ------------------------------------------------------------------------ attributes


def test_update_attributes_applies_plain_ones_at_once(cognito, recorder, app_client, user):
    answer = cognito.update_user_attributes(
        AccessToken=access_token(user, app_client),
        UserAttributes=[{"Name": "given_name", "Value": "Alicia"}],
    )
    assert answer["CodeDeliveryDetailsList"] == []
    assert reload(user).given_name == "Alicia"
    assert_fits(recorder)


def test_a_new_email_waits_for_its_code(cognito, recorder, app_client, user):
    token = access_token(user, app_client)
    answer = cognito.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": "alice@new.example.com"}]
    )
    [delivery] = answer["CodeDeliveryDetailsList"]
    assert delivery["DeliveryMedium"] == "EMAIL" and delivery["AttributeName"] == "email"
    assert reload(user).email == "alice@example.com"  # held until verified
    code = last_code("alice@new.example.com")
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=wrong(code))
    cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    user = reload(user)
    assert user.email == "alice@new.example.com" and user.email_verified
    assert_fits(recorder)


@pytest.mark.parametrize(
    "name, value, refusal",
    [
        ("favourite_colour", "blue", "InvalidParameterException"),  # not in the schema
        ("custom:tenant", "other", "InvalidParameterException"),  # immutable
        ("sub", "0000", "InvalidParameterException"),
        ("email_verified", "true", "NotAuthorizedException"),  # only an administrator sets it
        ("nickname", "al", "NotAuthorizedException"),  # the client may not write it
    ],
)
def test_update_attributes_refuses_what_it_may_not_write(cognito, pool, user, name, value, refusal):
    CustomAttribute.objects.create(pool=pool, name="tenant", mutable=False)
    client = factories.make_client(
        pool, write_attributes=["given_name", "email", "custom:tenant", "favourite_colour"]
    )
    with pytest.raises(getattr(cognito.exceptions, refusal)) as caught:
        cognito.update_user_attributes(
            AccessToken=access_token(user, client), UserAttributes=[{"Name": name, "Value": value}]
        )
    assert reload(user).attribute_map() == user.attribute_map()
    if refusal == "NotAuthorizedException":
        assert error_of(caught)[1] == "A client attempted to write unauthorized attribute"


def test_delete_attributes(cognito, recorder, pool, app_client, user):
    token = access_token(user, app_client)
    cognito.delete_user_attributes(AccessToken=token, UserAttributeNames=["given_name"])
    assert reload(user).given_name == ""
    for names in (["email"], ["sub"], ["favourite_colour"]):  # required, immutable, unknown
        with pytest.raises(cognito.exceptions.InvalidParameterException):
            cognito.delete_user_attributes(AccessToken=token, UserAttributeNames=names)
    assert reload(user).email == "alice@example.com"
    cognito.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "nickname", "Value": "al"}]
    )
    narrow = factories.make_client(pool, write_attributes=["given_name"])
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.delete_user_attributes(
            AccessToken=access_token(user, narrow), UserAttributeNames=["nickname"]
        )
    assert reload(user).attributes["nickname"] == "al"
    assert_fits(recorder)


def test_verification_code_for_an_attribute(cognito, recorder, pool, app_client):
    user = factories.make_user(pool, "erin", email_verified=False)
    token = access_token(user, app_client)
    answer = cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    assert answer["CodeDeliveryDetails"]["AttributeName"] == "email"
    code = last_code("erin@example.com")
    cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    assert reload(user).email_verified
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="given_name")
    assert_fits(recorder)


def test_verifying_with_an_expired_code(cognito, pool, app_client):
    user = factories.make_user(pool, "erin", email_verified=False)
    token = access_token(user, app_client)
    clock.freeze()
    cognito.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    code = last_code("erin@example.com")
    clock.advance(hours=25)
    token = access_token(user, app_client)
    with pytest.raises(cognito.exceptions.ExpiredCodeException):
        cognito.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    assert not reload(user).email_verified


# ----------------------------------------------------------------- sign-out, deletion


def test_global_sign_out_holds_at_every_door(cognito, recorder, client, pool, user):
    """A GlobalSignOut through the API ends the hosted-UI session and the refresh token the
    OAuth door issued, as well as the API's own access token."""
    app_client = factories.make_client(pool)
    code = code_for(client, pool, app_client)
    oauth = exchange_code(client, pool, app_client, code).json()
    token = access_token(user, app_client)

    cognito.global_sign_out(AccessToken=token)

    response = client.get(authorize_url(pool, app_client))
    assert f"/{pool.id}/login?" in response["Location"]
    refreshed = token_request(
        client,
        pool,
        {
            "grant_type": "refresh_token",
            "client_id": app_client.client_id,
            "refresh_token": oauth["refresh_token"],
        },
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.get_user(AccessToken=token)
    assert error_of(caught)[1] == "Access Token has been revoked"
    assert_fits(recorder)


def test_delete_user(cognito, recorder, pool, app_client, user):
    token = access_token(user, app_client)
    cognito.delete_user(AccessToken=token)
    assert not User.objects.filter(pk=user.pk).exists()
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.delete_user(AccessToken=token)
    assert_fits(recorder)


def test_delete_user_is_refused_where_the_pool_does_not_allow_it(
    cognito, recorder, pool, app_client, user
):
    pool.allow_self_deletion = False
    pool.save()
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.delete_user(AccessToken=access_token(user, app_client))
    assert User.objects.filter(pk=user.pk).exists()


def test_an_app_journey_through_the_api_alone(cognito, recorder, pool):
    """Sign up, confirm, sign in (InitiateAuth), read and change the profile, sign out
    everywhere: afterwards neither the access token nor the refresh token works."""
    app_client = factories.make_client(pool, refresh_token_rotation=False)
    cognito.sign_up(
        ClientId=app_client.client_id,
        Username="gina",
        Password=factories.PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "gina@example.com"}],
    )
    cognito.confirm_sign_up(
        ClientId=app_client.client_id,
        Username="gina",
        ConfirmationCode=last_code("gina@example.com"),
    )
    signed_in = cognito.initiate_auth(
        ClientId=app_client.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "gina", "PASSWORD": factories.PASSWORD},
    )["AuthenticationResult"]
    token = signed_in["AccessToken"]
    cognito.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "given_name", "Value": "Gina"}]
    )
    attributes = cognito.get_user(AccessToken=token)["UserAttributes"]
    assert {"Name": "given_name", "Value": "Gina"} in attributes

    cognito.global_sign_out(AccessToken=token)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=token)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(
            ClientId=app_client.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": signed_in["RefreshToken"]},
        )
    assert_fits(recorder)


# ---------------------------------------------------------------------------- MFA


def test_set_mfa_preference(cognito, recorder, app_client, user):
    token = access_token(user, app_client)
    with pytest.raises(cognito.exceptions.InvalidParameterException) as caught:
        cognito.set_user_mfa_preference(
            AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
        )
    assert error_of(caught)[1] == "User has not verified software token mfa"
    TotpDevice.objects.create(user=user, secret="x", confirmed=True)
    cognito.set_user_mfa_preference(
        AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    answer = cognito.get_user(AccessToken=token)
    assert answer["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    assert answer["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    cognito.set_user_mfa_preference(
        AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": False}
    )
    user = reload(user)
    assert user.software_token_mfa_enabled and user.preferred_mfa == ""
    cognito.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": False})
    assert not reload(user).software_token_mfa_enabled
    assert_fits(recorder)


def test_only_one_mfa_method_can_be_preferred(cognito, pool, app_client, user):
    pool.mfa_methods = ["SOFTWARE_TOKEN_MFA", "EMAIL_OTP"]
    pool.save()
    enrol_confirmed_totp(user, TOTP_SECRET)
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.set_user_mfa_preference(
            AccessToken=access_token(user, app_client),
            SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
            EmailMfaSettings={"Enabled": True, "PreferredMfa": True},
        )
    assert not reload(user).email_mfa_enabled


def test_set_user_settings_turns_sms_mfa_on_and_off(cognito, recorder, pool, app_client):
    pool.mfa_methods = ["SOFTWARE_TOKEN_MFA", "SMS_MFA"]
    pool.save()
    user = factories.make_user(pool, "frank", phone_number="+15555550100")
    token = access_token(user, app_client)
    sms = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    cognito.set_user_settings(AccessToken=token, MFAOptions=sms)
    assert cognito.get_user(AccessToken=token)["MFAOptions"] == sms
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.set_user_settings(
            AccessToken=token, MFAOptions=[{"DeliveryMedium": "EMAIL", "AttributeName": "email"}]
        )
    cognito.set_user_settings(AccessToken=token, MFAOptions=[])
    assert not reload(user).sms_mfa_enabled
    assert_fits(recorder)
