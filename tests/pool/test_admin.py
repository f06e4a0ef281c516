"""Operator actions on users: AdminCreateUser and friends."""

from __future__ import annotations

import pytest

from pool import policy
from pool.errors import (
    AliasExistsException,
    InvalidParameterException,
    InvalidPasswordException,
    NotAuthorizedException,
    UnsupportedUserStateException,
    UsernameExistsException,
    UserNotFoundException,
)
from pool.models import OutboxMessage, RefreshFamily, User, UserStatus
from pool.services import admin, authenticate, passwords, tokens
from pool.services.results import Challenge, RequestContext
from tests import factories

CTX = RequestContext(source="console")


def create(pool, username="newbie", attributes=None, **kwargs):
    attributes = {"email": f"{username}@example.com"} if attributes is None else attributes
    return admin.admin_create_user(
        pool=pool, username=username, attributes=attributes, context=CTX, **kwargs
    )


def test_generated_temporary_password_satisfies_policy(pool):
    pool.password_min_length = 20
    for _ in range(20):
        password = admin.generate_temporary_password(pool)
        policy.check_password(pool, password)
        assert len(password) == 20


def test_created_user_must_change_password(pool):
    user, password = create(pool, message_action="SUPPRESS")
    assert user.status == UserStatus.FORCE_CHANGE_PASSWORD
    assert passwords.verify(user, password)
    assert user.temporary_password_expires_at is not None


def test_given_temporary_password_is_used(pool):
    user, password = create(pool, temporary_password="Temp-Pass-123", message_action="SUPPRESS")
    assert password == "Temp-Pass-123" and passwords.verify(user, "Temp-Pass-123")


def test_given_temporary_password_must_satisfy_policy(pool):
    with pytest.raises(InvalidPasswordException):
        create(pool, temporary_password="short", message_action="SUPPRESS")


def test_sign_in_with_temporary_password_asks_for_a_new_one(pool, app_client):
    user, password = create(pool, message_action="SUPPRESS")
    result = authenticate.password(
        pool=pool, username=user.username, password=password, client=app_client, context=CTX
    )
    assert isinstance(result, Challenge) and result.name == "NEW_PASSWORD_REQUIRED"


def test_invitation_email_uses_pool_template(pool, smtp_sink):
    pool.invitation_email_subject = "Welcome aboard"
    pool.invitation_email_message = "Hi {username}, use {####} to sign in."
    pool.save()
    user, password = create(pool)
    message = smtp_sink.wait_for("newbie@example.com")
    assert message["Subject"] == "Welcome aboard"
    assert f"Hi newbie, use {password} to sign in." in smtp_sink.body(message)


def test_invitation_by_sms(pool):
    create(
        pool,
        attributes={"email": "n@example.com", "phone_number": "+15555550100"},
        delivery=("SMS",),
    )
    sms = OutboxMessage.objects.get(channel=OutboxMessage.Channel.SMS)
    assert sms.to == "+15555550100" and "newbie" in sms.body


def test_suppress_sends_nothing(pool, mailoutbox):
    create(
        pool,
        attributes={"email": "n@example.com", "phone_number": "+15555550100"},
        message_action="SUPPRESS",
        delivery=("EMAIL", "SMS"),
    )
    assert mailoutbox == [] and not OutboxMessage.objects.exists()


def test_invitation_needs_a_destination(pool):
    pool.required_attributes = []
    pool.save()
    with pytest.raises(InvalidParameterException, match="email"):
        create(pool, attributes={})
    assert not User.objects.filter(pool=pool).exists()


def test_unknown_message_action_is_refused(pool):
    with pytest.raises(InvalidParameterException):
        create(pool, message_action="SHOUT")


def test_unknown_delivery_medium_is_refused(pool):
    with pytest.raises(InvalidParameterException):
        create(pool, delivery=("PIGEON",))


def test_resend_gives_a_new_temporary_password(pool, mailoutbox):
    user, first = create(pool, message_action="SUPPRESS")
    again, second = create(pool, message_action="RESEND")
    assert again.pk == user.pk and second != first
    assert passwords.verify(again, second) and not passwords.verify(again, first)
    assert len(mailoutbox) == 1 and second in mailoutbox[0].body


def test_resend_for_unknown_user(pool):
    with pytest.raises(UserNotFoundException):
        create(pool, username="ghost", message_action="RESEND")


def test_resend_refused_for_confirmed_user(pool, user):
    """Cognito's error for a user in the wrong state, not a parameter error."""
    with pytest.raises(UnsupportedUserStateException, match="FORCE_CHANGE_PASSWORD"):
        create(pool, username=user.username, message_action="RESEND")


def test_existing_username_is_refused(pool, user):
    with pytest.raises(UsernameExistsException):
        create(pool, username=user.username, message_action="SUPPRESS")


@pytest.mark.parametrize("username", ["", "has space", "x" * 129])
def test_username_rules(pool, username):
    with pytest.raises(InvalidParameterException):
        create(pool, username=username, message_action="SUPPRESS")


def test_email_shaped_username_refused_with_email_alias(db):
    pool = factories.make_pool(alias_attributes=["email"])
    with pytest.raises(InvalidParameterException, match="email format"):
        create(pool, username="x@example.com", message_action="SUPPRESS")


def test_username_attribute_pool_uses_uuid_username(db):
    pool = factories.make_pool(username_attributes=["email"])
    user, _ = create(pool, username="Ann@Example.com", attributes={}, message_action="SUPPRESS")
    assert user.username == str(user.sub)
    assert user.email == "Ann@Example.com" and user.email_key == "ann@example.com"


def test_username_attribute_pool_refuses_plain_username(db):
    pool = factories.make_pool(username_attributes=["email"])
    with pytest.raises(InvalidParameterException, match="email"):
        create(pool, username="ann", message_action="SUPPRESS")


def test_username_attribute_pool_refuses_duplicate(db):
    pool = factories.make_pool(username_attributes=["email"])
    create(pool, username="ann@example.com", attributes={}, message_action="SUPPRESS")
    with pytest.raises(UsernameExistsException):
        create(pool, username="ANN@example.com", attributes={}, message_action="SUPPRESS")


def test_attributes_are_validated(pool):
    with pytest.raises(InvalidParameterException):
        create(pool, attributes={"email": "not-an-email"}, message_action="SUPPRESS")


def test_required_attributes_are_enforced(pool):
    with pytest.raises(InvalidParameterException, match="email"):
        create(pool, attributes={"name": "X"}, message_action="SUPPRESS")


def test_verified_email_becomes_alias(db):
    pool = factories.make_pool(alias_attributes=["email"])
    user, _ = create(
        pool,
        attributes={"email": "New@Example.com", "email_verified": "true"},
        message_action="SUPPRESS",
    )
    assert user.email_verified and user.email_key == "new@example.com"


def test_unverified_email_is_no_alias(db):
    pool = factories.make_pool(alias_attributes=["email"])
    user, _ = create(pool, message_action="SUPPRESS")
    assert not user.email_verified and user.email_key is None


def test_taken_alias_is_refused_unless_forced(db):
    pool = factories.make_pool(alias_attributes=["email"])
    holder = factories.make_user(pool, "holder", email="x@example.com")
    attributes = {"email": "x@example.com", "email_verified": "true"}
    with pytest.raises(AliasExistsException):
        create(pool, attributes=attributes, message_action="SUPPRESS")
    user, _ = create(
        pool, attributes=attributes, message_action="SUPPRESS", force_alias_creation=True
    )
    holder.refresh_from_db()
    assert user.email_key == "x@example.com" and holder.email_key is None


def test_confirm_sign_up(pool):
    user = factories.make_user(pool, "pending", status=UserStatus.UNCONFIRMED)
    admin.admin_confirm_sign_up(user=user, context=CTX)
    user.refresh_from_db()
    assert user.status == UserStatus.CONFIRMED


def test_confirm_refused_for_confirmed_user(user):
    with pytest.raises(NotAuthorizedException, match="CONFIRMED"):
        admin.admin_confirm_sign_up(user=user, context=CTX)


def _sign_in(user, client):
    tokens.issue(user=user, client=client, scopes=["openid"], auth_time=user.created_at)


def test_disable_revokes_sessions(user, app_client):
    _sign_in(user, app_client)
    admin.set_enabled(user=user, enabled=False, context=CTX)
    user.refresh_from_db()
    assert not user.enabled
    assert not RefreshFamily.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_disabled_user_cannot_sign_in(user, app_client):
    admin.set_enabled(user=user, enabled=False, context=CTX)
    with pytest.raises(NotAuthorizedException):
        authenticate.password(
            pool=user.pool,
            username=user.username,
            password=factories.PASSWORD,
            client=app_client,
            context=CTX,
        )


def test_enable_again(user):
    admin.set_enabled(user=user, enabled=False, context=CTX)
    admin.set_enabled(user=user, enabled=True, context=CTX)
    user.refresh_from_db()
    assert user.enabled


def test_enabled_must_be_boolean(user):
    with pytest.raises(InvalidParameterException):
        admin.set_enabled(user=user, enabled="no", context=CTX)


def test_global_sign_out_revokes_every_family(user, app_client):
    _sign_in(user, app_client)
    _sign_in(user, app_client)
    assert admin.global_sign_out(user=user, context=CTX) == 2
    assert not RefreshFamily.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_delete_user(user):
    admin.delete_user(user=user, context=CTX)
    assert not User.objects.filter(pk=user.pk).exists()
