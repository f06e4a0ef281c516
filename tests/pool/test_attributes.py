"""Users updating and deleting their attributes, and verifying an email or phone number."""

from __future__ import annotations

import pytest
from django.core import mail

from pool import clock
from pool.errors import (
    AliasExistsException,
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    LimitExceededException,
    NotAuthorizedException,
)
from pool.models import CustomAttribute, OutboxMessage, User
from pool.selectors.users import find_for_sign_in
from pool.services.attributes import (
    delete_attributes,
    send_attribute_verification_code,
    update_attributes,
    verify_attribute,
)
from pool.services.results import RequestContext
from tests import factories
from tests.pool.helpers import code_in, emailed_code, wrong_code

CTX = RequestContext(ip="127.0.0.1", user_agent="pytest")


def _reload(user) -> User:
    return User.objects.select_related("pool").get(pk=user.pk)


@pytest.fixture
def alias_pool(db):
    return factories.make_pool(alias_attributes=["email", "phone_number"])


# ------------------------------------------------------------------------------ update


def test_update_writes_standard_and_custom_attributes(user):
    CustomAttribute.objects.create(pool=user.pool, name="team")
    deliveries = update_attributes(
        user=user, attributes={"given_name": "Alice", "custom:team": "red"}, context=CTX
    )
    user = _reload(user)
    assert deliveries == []
    assert user.given_name == "Alice" and user.attributes["custom:team"] == "red"


def test_update_refuses_immutable_custom_attributes(user):
    CustomAttribute.objects.create(pool=user.pool, name="tenant", mutable=False)
    with pytest.raises(InvalidParameterException):
        update_attributes(user=user, attributes={"custom:tenant": "x"}, context=CTX)


def test_update_refuses_verified_flags_from_users(user):
    with pytest.raises(NotAuthorizedException):
        update_attributes(user=user, attributes={"email_verified": "true"}, context=CTX)


def test_update_respects_the_clients_write_attributes(user):
    client = factories.make_client(user.pool, write_attributes=["name"])
    with pytest.raises(NotAuthorizedException):
        update_attributes(user=user, attributes={"nickname": "al"}, client=client, context=CTX)


def test_update_refuses_unknown_attributes(user):
    with pytest.raises(InvalidParameterException):
        update_attributes(user=user, attributes={"favourite_colour": "blue"}, context=CTX)


def test_disabled_user_cannot_update(pool):
    user = factories.make_user(pool, "off", enabled=False)
    with pytest.raises(NotAuthorizedException):
        update_attributes(user=user, attributes={"name": "x"}, context=CTX)


def test_changing_an_unverified_email_applies_at_once_and_sends_a_code(pool):
    user = factories.make_user(pool, "alice", email_verified=False)
    deliveries = update_attributes(user=user, attributes={"email": "new@example.com"}, context=CTX)
    assert [(d.attribute, d.medium, d.destination) for d in deliveries] == [
        ("email", "EMAIL", "n***@e***")
    ]
    user = _reload(user)
    assert user.email == "new@example.com" and user.email_verified is False
    verify_attribute(
        user=user, attribute="email", code=emailed_code("new@example.com"), context=CTX
    )
    assert _reload(user).email_verified is True


def test_changing_a_verified_email_is_held_until_the_new_one_is_verified(alias_pool, smtp_sink):
    user = factories.make_user(alias_pool, "alice")
    update_attributes(user=user, attributes={"email": "alice@new.example"}, context=CTX)
    held = _reload(user)
    assert held.email == "alice@example.com" and held.email_verified is True
    assert find_for_sign_in(alias_pool, "alice@example.com") == held
    assert find_for_sign_in(alias_pool, "alice@new.example") is None

    code = code_in(smtp_sink.body(smtp_sink.wait_for("alice@new.example")))
    verify_attribute(user=held, attribute="email", code=code, context=CTX)
    moved = _reload(user)
    assert moved.email == "alice@new.example" and moved.email_verified is True
    assert find_for_sign_in(alias_pool, "alice@new.example") == moved
    assert find_for_sign_in(alias_pool, "alice@example.com") is None


def test_a_held_email_change_lapses_with_its_code(alias_pool):
    clock.freeze()
    user = factories.make_user(alias_pool, "alice")
    update_attributes(user=user, attributes={"email": "alice@new.example"}, context=CTX)
    code = emailed_code("alice@new.example")
    clock.advance(hours=24, seconds=1)
    with pytest.raises(ExpiredCodeException):
        verify_attribute(user=user, attribute="email", code=code, context=CTX)
    assert _reload(user).email == "alice@example.com"


def test_other_attributes_apply_while_an_email_change_is_held(alias_pool):
    user = factories.make_user(alias_pool, "alice")
    update_attributes(
        user=user, attributes={"email": "alice@new.example", "name": "Alice A."}, context=CTX
    )
    user = _reload(user)
    assert user.name == "Alice A." and user.email == "alice@example.com"


def test_email_change_in_a_pool_that_does_not_verify_applies_without_a_code(db):
    pool = factories.make_pool(alias_attributes=["email"], auto_verified_attributes=[])
    user = factories.make_user(pool, "alice")
    assert update_attributes(user=user, attributes={"email": "x@example.com"}, context=CTX) == []
    user = _reload(user)
    assert user.email == "x@example.com" and user.email_verified is False
    assert user.email_key is None
    assert mail.outbox == []


def test_admin_can_apply_a_verified_email_at_once(alias_pool):
    user = factories.make_user(alias_pool, "alice")
    deliveries = update_attributes(
        user=user,
        attributes={"email": "Alice@Corp.example", "email_verified": "true"},
        admin=True,
        context=CTX,
    )
    user = _reload(user)
    assert deliveries == []
    assert user.email == "Alice@Corp.example" and user.email_key == "alice@corp.example"


def test_admin_verified_email_held_by_another_user_is_refused(alias_pool):
    factories.make_user(alias_pool, "owner", email="taken@example.com")
    user = factories.make_user(alias_pool, "alice")
    with pytest.raises(AliasExistsException):
        update_attributes(
            user=user,
            attributes={"email": "TAKEN@example.com", "email_verified": "true"},
            admin=True,
            context=CTX,
        )


def test_new_phone_number_gets_its_code_by_sms(db):
    pool = factories.make_pool(auto_verified_attributes=["email", "phone_number"])
    user = factories.make_user(pool, "alice")
    deliveries = update_attributes(
        user=user, attributes={"phone_number": "+15555550177"}, context=CTX
    )
    assert [d.medium for d in deliveries] == ["SMS"]
    sms = OutboxMessage.objects.get(channel="sms", to="+15555550177")
    verify_attribute(user=user, attribute="phone_number", code=code_in(sms.body), context=CTX)
    assert _reload(user).phone_number_verified is True


def test_username_attribute_email_taken_by_another_user_is_refused(db):
    pool = factories.make_pool(username_attributes=["email"])
    factories.make_user(pool, "u1", email="taken@example.com")
    user = factories.make_user(pool, "u2", email="mine@example.com")
    with pytest.raises(AliasExistsException):
        update_attributes(user=user, attributes={"email": "Taken@example.com"}, context=CTX)


# ------------------------------------------------------------------------------ delete


def test_delete_removes_an_attribute(user):
    update_attributes(user=user, attributes={"nickname": "al"}, context=CTX)
    delete_attributes(user=user, names=["nickname"])
    assert "nickname" not in _reload(user).attributes


def test_required_attributes_cannot_be_deleted(user):
    with pytest.raises(InvalidParameterException) as caught:
        delete_attributes(user=user, names=["email"])
    assert caught.value.field == "email"


def test_sub_cannot_be_deleted(user):
    with pytest.raises(InvalidParameterException):
        delete_attributes(user=user, names=["sub"])


def test_unknown_attribute_cannot_be_deleted(user):
    with pytest.raises(InvalidParameterException):
        delete_attributes(user=user, names=["custom:nothing"])


def test_delete_respects_the_clients_write_attributes(user):
    """Deleting is writing: a client that may write only `name` cannot delete `nickname`."""
    update_attributes(user=user, attributes={"nickname": "al"}, context=CTX)
    client = factories.make_client(user.pool, write_attributes=["name"])
    with pytest.raises(NotAuthorizedException) as caught:
        delete_attributes(user=user, names=["nickname"], client=client)
    assert caught.value.field == "nickname"
    assert _reload(user).attributes["nickname"] == "al"
    delete_attributes(user=user, names=["nickname"], client=factories.make_client(user.pool))
    assert "nickname" not in _reload(user).attributes


def test_deleting_a_phone_number_drops_its_verification_and_alias(alias_pool):
    user = factories.make_user(
        alias_pool,
        "alice",
        phone_number="+15555550188",
        phone_number_verified=True,
        phone_number_key="+15555550188",
    )
    delete_attributes(user=user, names=["phone_number"])
    user = _reload(user)
    assert user.phone_number == "" and user.phone_number_verified is False
    assert user.phone_number_key is None


def test_developer_only_attributes_are_deleted_by_admins_only(user):
    CustomAttribute.objects.create(pool=user.pool, name="score", developer_only=True)
    update_attributes(user=user, attributes={"dev:custom:score": "3"}, admin=True, context=CTX)
    with pytest.raises(InvalidParameterException):
        delete_attributes(user=user, names=["dev:custom:score"])
    delete_attributes(user=user, names=["dev:custom:score"], admin=True)
    assert "dev:custom:score" not in _reload(user).attributes


# ------------------------------------------------------------------------------ verification


def test_verification_code_goes_to_the_current_email(pool):
    user = factories.make_user(pool, "alice", email_verified=False)
    delivery = send_attribute_verification_code(user=user, attribute="email", context=CTX)
    assert delivery.destination == "a***@e***"
    verify_attribute(
        user=user, attribute="email", code=emailed_code("alice@example.com"), context=CTX
    )
    assert _reload(user).email_verified is True


def test_verifying_an_alias_makes_it_a_sign_in_name(alias_pool):
    user = factories.make_user(alias_pool, "alice", email_verified=False)
    assert find_for_sign_in(alias_pool, "alice@example.com") is None
    send_attribute_verification_code(user=user, attribute="email", context=CTX)
    verify_attribute(
        user=user, attribute="email", code=emailed_code("alice@example.com"), context=CTX
    )
    assert find_for_sign_in(alias_pool, "ALICE@example.com") == user


def test_verifying_an_alias_another_user_holds_is_refused(alias_pool):
    factories.make_user(alias_pool, "owner", email="shared@example.com")
    user = factories.make_user(
        alias_pool, "alice", email="Shared@Example.com", email_verified=False
    )
    send_attribute_verification_code(user=user, attribute="email", context=CTX)
    with pytest.raises(AliasExistsException):
        verify_attribute(
            user=user, attribute="email", code=emailed_code("Shared@Example.com"), context=CTX
        )
    assert _reload(user).email_verified is False


def test_verify_with_a_wrong_code(pool):
    user = factories.make_user(pool, "alice", email_verified=False)
    send_attribute_verification_code(user=user, attribute="email", context=CTX)
    with pytest.raises(CodeMismatchException):
        verify_attribute(
            user=user,
            attribute="email",
            code=wrong_code(emailed_code("alice@example.com")),
            context=CTX,
        )


def test_verification_code_is_voided_after_5_wrong_guesses(pool):
    user = factories.make_user(pool, "alice", email_verified=False)
    send_attribute_verification_code(user=user, attribute="email", context=CTX)
    right = emailed_code("alice@example.com")
    for _ in range(5):
        with pytest.raises(CodeMismatchException):
            verify_attribute(user=user, attribute="email", code=wrong_code(right), context=CTX)
    with pytest.raises(LimitExceededException):
        verify_attribute(user=user, attribute="email", code=right, context=CTX)


def test_sending_verification_codes_is_capped_at_5_an_hour(pool):
    clock.freeze()
    user = factories.make_user(pool, "alice", email_verified=False)
    for _ in range(5):
        send_attribute_verification_code(user=user, attribute="email", context=CTX)
    with pytest.raises(LimitExceededException):
        send_attribute_verification_code(user=user, attribute="email", context=CTX)


def test_verifying_is_capped_at_15_an_hour(pool):
    clock.freeze()
    user = factories.make_user(pool, "alice", email_verified=False)
    for _ in range(15):
        with pytest.raises((ExpiredCodeException, CodeMismatchException, LimitExceededException)):
            verify_attribute(user=user, attribute="email", code="123456", context=CTX)
    send_attribute_verification_code(user=user, attribute="email", context=CTX)
    with pytest.raises(LimitExceededException):
        verify_attribute(
            user=user, attribute="email", code=emailed_code("alice@example.com"), context=CTX
        )


def test_only_email_and_phone_can_be_verified(user):
    with pytest.raises(InvalidParameterException):
        send_attribute_verification_code(user=user, attribute="name", context=CTX)


def test_verification_needs_a_value_to_verify(user):
    with pytest.raises(InvalidParameterException):
        send_attribute_verification_code(user=user, attribute="phone_number", context=CTX)


def test_code_for_a_replaced_unverified_email_proves_nothing(pool):
    user = factories.make_user(pool, "alice", email_verified=False)
    send_attribute_verification_code(user=user, attribute="email", context=CTX)
    code = emailed_code("alice@example.com")
    # An administrator changes the address without verifying it (and without the pool's
    # update path, which would discard the code): the old code must not verify the new value.
    User.objects.filter(pk=user.pk).update(email="other@example.com")
    with pytest.raises(ExpiredCodeException):
        verify_attribute(user=_reload(user), attribute="email", code=code, context=CTX)
    assert _reload(user).email_verified is False
