"""Groups and membership."""

from __future__ import annotations

import pytest

from pool.errors import GroupExistsException, InvalidParameterException, LimitExceededException
from pool.models import Group
from pool.services import admin
from tests import factories


def test_create_group(pool):
    group = admin.create_group(pool=pool, name="admins", description="Operators", precedence=1)
    assert (group.name, group.description, group.precedence) == ("admins", "Operators", 1)


def test_duplicate_group_name(pool):
    admin.create_group(pool=pool, name="admins")
    with pytest.raises(GroupExistsException):
        admin.create_group(pool=pool, name="admins")


def test_same_name_in_another_pool(pool):
    admin.create_group(pool=pool, name="admins")
    assert admin.create_group(pool=factories.make_pool(), name="admins").pk


@pytest.mark.parametrize("name", ["", "has space", "x" * 129])
def test_group_name_rules(pool, name):
    with pytest.raises(InvalidParameterException):
        admin.create_group(pool=pool, name=name)


@pytest.mark.parametrize("precedence", [-1, "high", True])
def test_precedence_must_be_non_negative_integer(pool, precedence):
    with pytest.raises(InvalidParameterException):
        admin.create_group(pool=pool, name="g", precedence=precedence)


@pytest.mark.parametrize("precedence", [-1, 2**31])
def test_precedence_out_of_range_names_the_range(pool, precedence):
    """A value too large is not told it must be '0 or more'."""
    with pytest.raises(InvalidParameterException, match="between 0 and 2147483647"):
        admin.create_group(pool=pool, name="g", precedence=precedence)


def test_role_arn_must_look_like_an_arn(pool):
    with pytest.raises(InvalidParameterException):
        admin.create_group(pool=pool, name="g", role_arn="not an arn")


def test_role_arn_accepted(pool):
    arn = "arn:aws:iam::123456789012:role/Admins"
    assert admin.create_group(pool=pool, name="g", role_arn=arn).role_arn == arn


def test_at_most_10000_groups_per_pool(pool):
    Group.objects.bulk_create(Group(pool=pool, name=f"g{i}") for i in range(10_000))
    with pytest.raises(LimitExceededException):
        admin.create_group(pool=pool, name="one-more")


def test_update_group_changes_only_what_is_given(pool):
    group = admin.create_group(pool=pool, name="g", description="d", precedence=5)
    admin.update_group(group=group, precedence=None)
    group.refresh_from_db()
    assert (group.description, group.precedence) == ("d", None)


def test_update_group_validates(pool):
    group = admin.create_group(pool=pool, name="g")
    with pytest.raises(InvalidParameterException):
        admin.update_group(group=group, description="x" * 2049)


def test_delete_group_keeps_members(pool, user):
    group = admin.create_group(pool=pool, name="g")
    admin.add_user_to_group(user=user, group=group)
    admin.delete_group(group=group)
    assert user.groups.count() == 0 and type(user).objects.filter(pk=user.pk).exists()


def test_add_and_remove_member(pool, user):
    group = admin.create_group(pool=pool, name="g")
    admin.add_user_to_group(user=user, group=group)
    admin.add_user_to_group(user=user, group=group)
    assert list(user.groups.values_list("name", flat=True)) == ["g"]
    admin.remove_user_from_group(user=user, group=group)
    assert user.groups.count() == 0


def test_group_of_another_pool_is_refused(user):
    group = admin.create_group(pool=factories.make_pool(), name="g")
    with pytest.raises(InvalidParameterException):
        admin.add_user_to_group(user=user, group=group)


def test_at_most_100_groups_per_user(pool, user):
    groups = Group.objects.bulk_create(Group(pool=pool, name=f"g{i}") for i in range(101))
    user.groups.add(*groups[:100])
    with pytest.raises(LimitExceededException):
        admin.add_user_to_group(user=user, group=groups[100])
