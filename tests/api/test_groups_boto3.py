"""boto3's cognito-idp client against a live Cognate: groups and membership, positive and
negative, with botocore's exception classes and every answer checked against its output shape."""

from __future__ import annotations

import datetime as dt

import pytest

from pool.models import Group
from tests import factories
from tests.api.shape_check import assert_fits

pytestmark = [pytest.mark.clients, pytest.mark.django_db(transaction=True)]

ROLE = "arn:aws:iam::123456789012:role/readers"


def make_group(pool, name: str, **fields) -> Group:
    return Group.objects.create(pool=pool, name=name, **fields)


def test_create_group(cognito, recorder, pool):
    group = cognito.create_group(
        UserPoolId=pool.id, GroupName="readers", Description="Read only", Precedence=3, RoleArn=ROLE
    )["Group"]
    assert group["GroupName"] == "readers" and group["UserPoolId"] == pool.id
    assert (group["Description"], group["Precedence"], group["RoleArn"]) == ("Read only", 3, ROLE)
    assert isinstance(group["CreationDate"], dt.datetime)
    stored = Group.objects.get(pool=pool, name="readers")
    assert (stored.precedence, stored.role_arn) == (3, ROLE)
    assert_fits(recorder)


def test_create_a_group_that_exists(cognito, pool):
    make_group(pool, "readers")
    with pytest.raises(cognito.exceptions.GroupExistsException):
        cognito.create_group(UserPoolId=pool.id, GroupName="readers")


@pytest.mark.parametrize(
    "fields",
    [{"GroupName": "has space"}, {"GroupName": "ok", "RoleArn": "not-an-arn-at-all-really"}],
)
def test_create_a_group_with_bad_values(cognito, pool, fields):
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.create_group(UserPoolId=pool.id, **fields)
    assert not Group.objects.filter(pool=pool).exists()


def test_create_a_group_in_an_unknown_pool(cognito, db):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.create_group(UserPoolId="eu-west-1_nothere1", GroupName="g")


def test_get_group(cognito, recorder, pool):
    make_group(pool, "plain")
    group = cognito.get_group(UserPoolId=pool.id, GroupName="plain")["Group"]
    assert group["GroupName"] == "plain"
    assert "Description" not in group and "Precedence" not in group and "RoleArn" not in group
    assert_fits(recorder)


def test_get_an_unknown_group(cognito, pool):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException, match="Group not found"):
        cognito.get_group(UserPoolId=pool.id, GroupName="nothing")


def test_update_group_changes_what_it_names(cognito, recorder, pool):
    make_group(pool, "staff", description="Staff", precedence=5, role_arn=ROLE)
    group = cognito.update_group(UserPoolId=pool.id, GroupName="staff", Precedence=1)["Group"]
    assert (group["Description"], group["Precedence"], group["RoleArn"]) == ("Staff", 1, ROLE)
    stored = Group.objects.get(pool=pool, name="staff")
    assert (stored.description, stored.precedence) == ("Staff", 1)
    assert_fits(recorder)


def test_update_group_with_a_bad_role(cognito, pool):
    make_group(pool, "staff", role_arn=ROLE)
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="roleArn"):
        cognito.update_group(UserPoolId=pool.id, GroupName="staff", RoleArn="x" * 25)
    assert Group.objects.get(pool=pool, name="staff").role_arn == ROLE


def test_update_an_unknown_group(cognito, pool):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.update_group(UserPoolId=pool.id, GroupName="nothing", Description="x")


def test_list_groups_in_pages(cognito, recorder, pool):
    for name in ("a", "b", "c", "d", "e"):
        make_group(pool, name)
    make_group(factories.make_pool(), "elsewhere")
    first = cognito.list_groups(UserPoolId=pool.id, Limit=2)
    second = cognito.list_groups(UserPoolId=pool.id, Limit=2, NextToken=first["NextToken"])
    third = cognito.list_groups(UserPoolId=pool.id, Limit=2, NextToken=second["NextToken"])
    names = [g["GroupName"] for page in (first, second, third) for g in page["Groups"]]
    assert names == ["a", "b", "c", "d", "e"] and "NextToken" not in third
    assert_fits(recorder)


def test_list_groups_with_botocores_paginator(cognito, pool):
    for name in ("x", "y", "z"):
        make_group(pool, name)
    pages = list(cognito.get_paginator("list_groups").paginate(UserPoolId=pool.id, Limit=1))
    assert [g["GroupName"] for p in pages for g in p["Groups"]] == ["x", "y", "z"]


def test_list_groups_with_a_forged_token(cognito, pool):
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="pagination"):
        cognito.list_groups(UserPoolId=pool.id, NextToken="forged")


def test_a_token_from_another_pool_is_refused(cognito, pool):
    other = factories.make_pool()
    for name in ("a", "b"):
        make_group(other, name)
    token = cognito.list_groups(UserPoolId=other.id, Limit=1)["NextToken"]
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="pagination"):
        cognito.list_groups(UserPoolId=pool.id, NextToken=token)


def test_delete_group(cognito, recorder, pool, user):
    group = make_group(pool, "gone")
    user.groups.add(group)
    cognito.delete_group(UserPoolId=pool.id, GroupName="gone")
    assert not Group.objects.filter(pk=group.pk).exists()
    assert user.groups.count() == 0
    assert_fits(recorder)


def test_delete_an_unknown_group(cognito, pool):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.delete_group(UserPoolId=pool.id, GroupName="nothing")


# --- membership -------------------------------------------------------------------------------


def test_add_list_and_remove_membership(cognito, recorder, pool, user):
    for name in ("admins", "readers"):
        make_group(pool, name)
    for name in ("readers", "admins", "admins"):
        cognito.admin_add_user_to_group(UserPoolId=pool.id, Username=user.username, GroupName=name)
    listed = cognito.admin_list_groups_for_user(UserPoolId=pool.id, Username=user.username)
    assert [g["GroupName"] for g in listed["Groups"]] == ["admins", "readers"]
    cognito.admin_remove_user_from_group(
        UserPoolId=pool.id, Username=user.username, GroupName="admins"
    )
    assert [g.name for g in user.groups.all()] == ["readers"]
    assert_fits(recorder)


def test_list_groups_for_user_in_pages(cognito, recorder, pool, user):
    for name in ("g1", "g2", "g3"):
        user.groups.add(make_group(pool, name))
    first = cognito.admin_list_groups_for_user(UserPoolId=pool.id, Username=user.username, Limit=2)
    rest = cognito.admin_list_groups_for_user(
        UserPoolId=pool.id, Username=user.username, Limit=2, NextToken=first["NextToken"]
    )
    assert [g["GroupName"] for g in first["Groups"] + rest["Groups"]] == ["g1", "g2", "g3"]
    assert "NextToken" not in rest
    assert_fits(recorder)


@pytest.mark.parametrize("operation", ["admin_add_user_to_group", "admin_remove_user_from_group"])
def test_membership_of_an_unknown_user(cognito, pool, operation):
    make_group(pool, "readers")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        getattr(cognito, operation)(UserPoolId=pool.id, Username="ghost", GroupName="readers")


@pytest.mark.parametrize("operation", ["admin_add_user_to_group", "admin_remove_user_from_group"])
def test_membership_of_an_unknown_group(cognito, pool, user, operation):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        getattr(cognito, operation)(UserPoolId=pool.id, Username=user.username, GroupName="no")
    assert user.groups.count() == 0


def test_groups_of_an_unknown_user(cognito, pool):
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_list_groups_for_user(UserPoolId=pool.id, Username="ghost")


def test_list_users_in_group_in_pages(cognito, recorder, pool):
    group = make_group(pool, "team")
    for index in range(5):
        factories.make_user(pool, f"member{index}").groups.add(group)
    factories.make_user(pool, "outsider")
    pages = list(
        cognito.get_paginator("list_users_in_group").paginate(
            UserPoolId=pool.id, GroupName="team", Limit=2
        )
    )
    assert len(pages) == 3
    listed = [u["Username"] for p in pages for u in p["Users"]]
    assert listed == [f"member{index}" for index in range(5)]
    assert pages[0]["Users"][0]["Attributes"][0]["Name"] == "sub"
    assert_fits(recorder)


def test_list_users_in_an_unknown_group(cognito, pool):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.list_users_in_group(UserPoolId=pool.id, GroupName="nothing")


def test_list_users_in_group_with_a_forged_token(cognito, pool):
    make_group(pool, "team")
    with pytest.raises(cognito.exceptions.InvalidParameterException, match="pagination"):
        cognito.list_users_in_group(UserPoolId=pool.id, GroupName="team", NextToken="forged")
