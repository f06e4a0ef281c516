"""boto3's cognito-idp client against a live Cognate: the Admin* user actions, positive and
negative, with botocore's exception classes and every answer checked against its output shape."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from pool import clock
from pool.models import OutboxMessage, RefreshFamily, TotpDevice, User, UserStatus
from pool.services import passwords, tokens
from tests import factories
from tests.api.conftest import make_boto3_client
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

TEMPORARY = "Temp-Pass-123!"
EMAIL = {"Name": "email", "Value": "bad@example.com"}


def attributes_of(listed: list[dict[str, str]]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in listed}


def signed_in(user, client):
    """A refresh family, as a sign-in leaves one."""
    return tokens.start_family(user=user, client=client, scopes=["openid"], auth_time=clock.now())


def stored(pool, username: str) -> User:
    return User.objects.get(pool=pool, username=username)


# --- AdminCreateUser --------------------------------------------------------------------------


def test_create_user_with_a_temporary_password_and_no_message(cognito, recorder, pool, mailoutbox):
    answer = cognito.admin_create_user(
        UserPoolId=pool.id,
        Username="newbie",
        TemporaryPassword=TEMPORARY,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": "newbie@example.com"},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "given_name", "Value": "New"},
        ],
        ValidationData=[{"Name": "ignored", "Value": "x"}],
        ClientMetadata={"source": "test"},
    )["User"]
    assert answer["Username"] == "newbie"
    assert answer["UserStatus"] == "FORCE_CHANGE_PASSWORD" and answer["Enabled"] is True
    assert isinstance(answer["UserCreateDate"], dt.datetime)
    listed = attributes_of(answer["Attributes"])
    assert listed["email"] == "newbie@example.com" and listed["email_verified"] == "true"
    assert listed["given_name"] == "New" and listed["sub"] == str(stored(pool, "newbie").sub)
    user = stored(pool, "newbie")
    assert user.status == UserStatus.FORCE_CHANGE_PASSWORD and passwords.verify(user, TEMPORARY)
    assert mailoutbox == []
    assert_fits(recorder)


def test_create_user_sends_the_invitation(cognito, recorder, pool, mailoutbox):
    cognito.admin_create_user(
        UserPoolId=pool.id,
        Username="invited",
        TemporaryPassword=TEMPORARY,
        UserAttributes=[{"Name": "email", "Value": "invited@example.com"}],
    )
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["invited@example.com"]
    assert TEMPORARY in mailoutbox[0].body
    assert_fits(recorder)


def test_create_user_invites_by_sms_when_asked(cognito, pool, mailoutbox):
    cognito.admin_create_user(
        UserPoolId=pool.id,
        Username="texted",
        UserAttributes=[
            {"Name": "email", "Value": "texted@example.com"},
            {"Name": "phone_number", "Value": "+15555550100"},
        ],
        DesiredDeliveryMediums=["SMS"],
    )
    sms = OutboxMessage.objects.get(channel=OutboxMessage.Channel.SMS)
    assert sms.to == "+15555550100" and mailoutbox == []


def test_create_user_resend_gives_a_new_temporary_password(cognito, recorder, pool, mailoutbox):
    factories.make_user(pool, "waiting", status=UserStatus.FORCE_CHANGE_PASSWORD)
    answer = cognito.admin_create_user(
        UserPoolId=pool.id, Username="waiting", MessageAction="RESEND"
    )["User"]
    assert answer["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert len(mailoutbox) == 1
    assert not passwords.verify(stored(pool, "waiting"), factories.PASSWORD)
    assert_fits(recorder)


def test_create_user_resend_for_a_confirmed_user_is_unsupported_state(cognito, pool, mailoutbox):
    factories.make_user(pool, "done")
    with pytest.raises(
        cognito.exceptions.UnsupportedUserStateException, match="FORCE_CHANGE_PASSWORD"
    ):
        cognito.admin_create_user(UserPoolId=pool.id, Username="done", MessageAction="RESEND")
    assert mailoutbox == []
    assert passwords.verify(stored(pool, "done"), factories.PASSWORD)


def test_create_user_resend_for_an_unknown_user(cognito, pool):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_create_user(UserPoolId=pool.id, Username="ghost", MessageAction="RESEND")


def test_create_user_with_a_taken_username(cognito, pool, user):
    with pytest.raises(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(
            UserPoolId=pool.id,
            Username=user.username,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": "other@example.com"}],
        )


@pytest.mark.parametrize(
    "attributes",
    [
        [EMAIL, {"Name": "favourite_colour", "Value": "blue"}],
        [EMAIL, {"Name": "custom:undeclared", "Value": "x"}],
        [{"Name": "email", "Value": "not-an-email"}],
        [EMAIL, {"Name": "email", "Value": "b@example.com"}],
    ],
)
def test_create_user_with_bad_attributes_creates_nothing(cognito, pool, attributes):
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.admin_create_user(
            UserPoolId=pool.id,
            Username="bad",
            MessageAction="SUPPRESS",
            UserAttributes=attributes,
        )
    assert not User.objects.filter(pool=pool).exists()


def test_create_user_with_a_weak_temporary_password(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.admin_create_user(
            UserPoolId=pool.id,
            Username="weak",
            TemporaryPassword="short",
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": "weak@example.com"}],
        )
    assert not User.objects.filter(pool=pool).exists()


def test_create_user_in_an_unknown_pool(cognito, db):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.admin_create_user(UserPoolId="eu-west-1_nothere1", Username="x")


def test_an_unsigned_admin_call_is_refused(server, pool):
    client = make_boto3_client(server, key_id="x", secret="y", signature_version=UNSIGNED)
    with pytest.raises(ClientError) as raised:
        client.admin_create_user(UserPoolId=pool.id, Username="sneaky", MessageAction="SUPPRESS")
    assert raised.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert not User.objects.filter(pool=pool).exists()


# --- AdminGetUser, AdminDeleteUser ------------------------------------------------------------


def test_get_user(cognito, recorder, pool):
    user = factories.make_user(pool, "reader", phone_number="+15555550101", sms_mfa_enabled=True)
    answer = cognito.admin_get_user(UserPoolId=pool.id, Username="reader")
    assert answer["Username"] == "reader" and answer["UserStatus"] == "CONFIRMED"
    listed = attributes_of(answer["UserAttributes"])
    assert listed["sub"] == str(user.sub) and listed["email"] == "reader@example.com"
    assert answer["UserMFASettingList"] == ["SMS_MFA"]
    assert answer["MFAOptions"] == [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    assert "Attributes" not in answer
    assert_fits(recorder)


def test_get_user_by_alias(cognito, recorder):
    pool = factories.make_pool(alias_attributes=["email"])
    factories.make_user(pool, "aliased", email="me@example.com", email_verified=True)
    answer = cognito.admin_get_user(UserPoolId=pool.id, Username="me@example.com")
    assert answer["Username"] == "aliased"
    assert_fits(recorder)


def test_get_an_unknown_user(cognito, pool):
    with pytest.raises(cognito.exceptions.UserNotFoundException, match="User does not exist"):
        cognito.admin_get_user(UserPoolId=pool.id, Username="ghost")


def test_delete_user(cognito, recorder, pool, user):
    cognito.admin_delete_user(UserPoolId=pool.id, Username=user.username)
    assert not User.objects.filter(pk=user.pk).exists()
    assert_fits(recorder)


def test_delete_an_unknown_user(cognito, pool, user):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_delete_user(UserPoolId=pool.id, Username="ghost")
    assert User.objects.filter(pk=user.pk).exists()


# --- AdminConfirmSignUp, AdminDisableUser, AdminEnableUser ------------------------------------


def test_confirm_sign_up(cognito, recorder, pool):
    factories.make_user(pool, "pending", status=UserStatus.UNCONFIRMED)
    cognito.admin_confirm_sign_up(UserPoolId=pool.id, Username="pending")
    assert stored(pool, "pending").status == UserStatus.CONFIRMED
    assert_fits(recorder)


def test_confirm_sign_up_of_a_confirmed_user(cognito, pool, user):
    with pytest.raises(cognito.exceptions.NotAuthorizedException, match="CONFIRMED"):
        cognito.admin_confirm_sign_up(UserPoolId=pool.id, Username=user.username)


def test_confirm_sign_up_of_an_unknown_user(cognito, pool):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_confirm_sign_up(UserPoolId=pool.id, Username="ghost")


def test_disable_and_enable(cognito, recorder, pool, user, app_client):
    started = signed_in(user, app_client)
    cognito.admin_disable_user(UserPoolId=pool.id, Username=user.username)
    assert stored(pool, user.username).enabled is False
    assert RefreshFamily.objects.get(pk=started.family.pk).revoked_at is not None
    assert cognito.admin_get_user(UserPoolId=pool.id, Username=user.username)["Enabled"] is False
    cognito.admin_enable_user(UserPoolId=pool.id, Username=user.username)
    assert stored(pool, user.username).enabled is True
    assert_fits(recorder)


@pytest.mark.parametrize("operation", ["admin_disable_user", "admin_enable_user"])
def test_disable_or_enable_an_unknown_user(cognito, pool, operation):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        getattr(cognito, operation)(UserPoolId=pool.id, Username="ghost")


# --- passwords --------------------------------------------------------------------------------


def test_set_a_permanent_password(cognito, recorder, pool):
    factories.make_user(pool, "forced", status=UserStatus.FORCE_CHANGE_PASSWORD)
    cognito.admin_set_user_password(
        UserPoolId=pool.id, Username="forced", Password="Brand-New-Pass-1", Permanent=True
    )
    user = stored(pool, "forced")
    assert user.status == UserStatus.CONFIRMED and passwords.verify(user, "Brand-New-Pass-1")
    assert user.temporary_password_expires_at is None
    assert_fits(recorder)


def test_set_a_temporary_password(cognito, pool, user):
    cognito.admin_set_user_password(
        UserPoolId=pool.id, Username=user.username, Password="Brand-New-Pass-1"
    )
    assert stored(pool, user.username).status == UserStatus.FORCE_CHANGE_PASSWORD


def test_set_a_password_the_policy_refuses(cognito, pool, user):
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.admin_set_user_password(
            UserPoolId=pool.id, Username=user.username, Password="weak", Permanent=True
        )
    assert passwords.verify(stored(pool, user.username), factories.PASSWORD)


def test_set_a_password_of_an_unknown_user(cognito, pool):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_set_user_password(
            UserPoolId=pool.id, Username="ghost", Password="Brand-New-Pass-1"
        )


def test_reset_password(cognito, recorder, pool, user, mailoutbox):
    cognito.admin_reset_user_password(UserPoolId=pool.id, Username=user.username)
    assert stored(pool, user.username).status == UserStatus.RESET_REQUIRED
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [user.email]
    assert_fits(recorder)


def test_reset_password_of_an_unknown_user(cognito, pool):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_reset_user_password(UserPoolId=pool.id, Username="ghost")


# --- attributes ------------------------------------------------------------------------------


def test_update_attributes(cognito, recorder, pool, user):
    cognito.admin_update_user_attributes(
        UserPoolId=pool.id,
        Username=user.username,
        UserAttributes=[
            {"Name": "given_name", "Value": "Alice"},
            {"Name": "email", "Value": "new@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    user = stored(pool, user.username)
    assert (user.given_name, user.email, user.email_verified) == ("Alice", "new@example.com", True)
    assert_fits(recorder)


@pytest.mark.parametrize(
    "attributes",
    [
        [{"Name": "sub", "Value": "00000000-0000-0000-0000-000000000000"}],
        [{"Name": "favourite_colour", "Value": "blue"}],
        [{"Name": "phone_number", "Value": "555"}],
    ],
)
def test_update_bad_attributes_changes_nothing(cognito, pool, user, attributes):
    before = stored(pool, user.username).attribute_map()
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.admin_update_user_attributes(
            UserPoolId=pool.id, Username=user.username, UserAttributes=attributes
        )
    assert stored(pool, user.username).attribute_map() == before


def test_update_attributes_of_an_unknown_user(cognito, pool):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_update_user_attributes(
            UserPoolId=pool.id, Username="ghost", UserAttributes=[{"Name": "name", "Value": "x"}]
        )


def test_delete_attributes(cognito, recorder, pool):
    factories.make_user(pool, "named", given_name="Nora", family_name="Nile")
    cognito.admin_delete_user_attributes(
        UserPoolId=pool.id, Username="named", UserAttributeNames=["given_name", "family_name"]
    )
    user = stored(pool, "named")
    assert (user.given_name, user.family_name) == ("", "")
    assert_fits(recorder)


def test_delete_a_required_attribute_is_refused(cognito, pool, user):
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.admin_delete_user_attributes(
            UserPoolId=pool.id, Username=user.username, UserAttributeNames=["email"]
        )
    assert stored(pool, user.username).email == user.email


# --- sessions and MFA -------------------------------------------------------------------------


def test_global_sign_out(cognito, recorder, pool, user, app_client):
    started = signed_in(user, app_client)
    cognito.admin_user_global_sign_out(UserPoolId=pool.id, Username=user.username)
    assert RefreshFamily.objects.get(pk=started.family.pk).revoked_at is not None
    assert stored(pool, user.username).tokens_valid_after is not None
    assert_fits(recorder)


def test_global_sign_out_of_an_unknown_user(cognito, pool):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_user_global_sign_out(UserPoolId=pool.id, Username="ghost")


def test_set_mfa_preference(cognito, recorder):
    pool = factories.make_pool(mfa_methods=["SOFTWARE_TOKEN_MFA", "SMS_MFA"])
    user = factories.make_user(pool, "careful", phone_number="+15555550102")
    TotpDevice.objects.create(user=user, secret="JBSWY3DPEHPK3PXP", confirmed=True)
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool.id,
        Username="careful",
        SMSMfaSettings={"Enabled": True},
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    answer = cognito.admin_get_user(UserPoolId=pool.id, Username="careful")
    assert sorted(answer["UserMFASettingList"]) == ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]
    assert answer["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool.id, Username="careful", SoftwareTokenMfaSettings={"Enabled": False}
    )
    user = stored(pool, "careful")
    assert not user.software_token_mfa_enabled and user.sms_mfa_enabled
    assert user.preferred_mfa == ""
    assert_fits(recorder)


def test_set_mfa_preference_without_an_authenticator(cognito, pool, user):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="software token"):
        cognito.admin_set_user_mfa_preference(
            UserPoolId=pool.id,
            Username=user.username,
            SoftwareTokenMfaSettings={"Enabled": True},
        )
    assert not stored(pool, user.username).software_token_mfa_enabled


def test_set_mfa_preference_with_two_preferred_methods(cognito, pool, user):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="preferred"):
        cognito.admin_set_user_mfa_preference(
            UserPoolId=pool.id,
            Username=user.username,
            SMSMfaSettings={"PreferredMfa": True},
            EmailMfaSettings={"PreferredMfa": True},
        )


def test_set_mfa_preference_of_an_unknown_user(cognito, pool):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_set_user_mfa_preference(
            UserPoolId=pool.id, Username="ghost", SMSMfaSettings={"Enabled": False}
        )
