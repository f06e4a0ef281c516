"""Groups and membership: CreateGroup, GetGroup, UpdateGroup, ListGroups, DeleteGroup,
AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser and ListUsersInGroup,
over pool/services/groups.py (through its address in pool/services/admin.py).

An unknown group is Cognito's ResourceNotFoundException, an unknown user its
UserNotFoundException. Lists are paged with wire.page's signed tokens: groups by name, users by
their id (the order they were created in).
"""

from __future__ import annotations

from typing import Any

from api import wire
from api.registry import Auth, Call, action
from pool.models import Group
from pool.selectors import users as user_selectors
from pool.services import admin

FIELD_NAMES = {
    "name": "GroupName",
    "description": "Description",
    "precedence": "Precedence",
    "role_arn": "RoleArn",
    "group": "GroupName",
}
# Cognito's page size when Limit is left out (or 0).
DEFAULT_LIMIT = 60


def group_record(group: Group) -> dict[str, Any]:
    """Cognito's GroupType."""
    return wire.compact(
        {
            "GroupName": group.name,
            "UserPoolId": group.pool_id,
            "Description": group.description or None,
            "RoleArn": group.role_arn or None,
            "Precedence": group.precedence,
            "LastModifiedDate": wire.epoch(group.updated_at),
            "CreationDate": wire.epoch(group.created_at),
        }
    )


def _limit(call: Call) -> int:
    return call.params.get("Limit") or DEFAULT_LIMIT


@action("CreateGroup", auth=Auth.SIGV4)
def create_group(call: Call) -> dict[str, Any]:
    params = call.params
    pool = wire.get_pool(params["UserPoolId"])
    with wire.in_api_terms(FIELD_NAMES):
        group = admin.create_group(
            pool=pool,
            name=params["GroupName"],
            description=params.get("Description", ""),
            precedence=params.get("Precedence"),
            role_arn=params.get("RoleArn", ""),
        )
    return {"Group": group_record(group)}


@action("GetGroup", auth=Auth.SIGV4)
def get_group(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    return {"Group": group_record(wire.get_group(pool, call.params["GroupName"]))}


@action("UpdateGroup", auth=Auth.SIGV4)
def update_group(call: Call) -> dict[str, Any]:
    """Changes only what the request names, as Cognito does."""
    params = call.params
    group = wire.get_group(wire.get_pool(params["UserPoolId"]), params["GroupName"])
    changes = {
        field: params[member]
        for member, field in (
            ("Description", "description"),
            ("Precedence", "precedence"),
            ("RoleArn", "role_arn"),
        )
        if member in params
    }
    with wire.in_api_terms(FIELD_NAMES):
        group = admin.update_group(group=group, **changes)
    return {"Group": group_record(group)}


@action("ListGroups", auth=Auth.SIGV4)
def list_groups(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    rows, token = wire.page(
        Group.objects.filter(pool=pool),
        key="name",
        limit=_limit(call),
        token=call.params.get("NextToken"),
        purpose=f"ListGroups.{pool.pk}",
    )
    return wire.compact({"Groups": [group_record(g) for g in rows], "NextToken": token})


@action("DeleteGroup", auth=Auth.SIGV4)
def delete_group(call: Call) -> dict[str, Any]:
    group = wire.get_group(wire.get_pool(call.params["UserPoolId"]), call.params["GroupName"])
    admin.delete_group(group=group)
    return {}


@action("AdminAddUserToGroup", auth=Auth.SIGV4)
def admin_add_user_to_group(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    user = user_selectors.get_user(pool, call.params["Username"])
    group = wire.get_group(pool, call.params["GroupName"])
    admin.add_user_to_group(user=user, group=group)
    return {}


@action("AdminRemoveUserFromGroup", auth=Auth.SIGV4)
def admin_remove_user_from_group(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    user = user_selectors.get_user(pool, call.params["Username"])
    group = wire.get_group(pool, call.params["GroupName"])
    admin.remove_user_from_group(user=user, group=group)
    return {}


@action("AdminListGroupsForUser", auth=Auth.SIGV4)
def admin_list_groups_for_user(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    user = user_selectors.get_user(pool, call.params["Username"])
    rows, token = wire.page(
        user.groups.all(),
        key="name",
        limit=_limit(call),
        token=call.params.get("NextToken"),
        purpose=f"AdminListGroupsForUser.{user.pk}",
    )
    return wire.compact({"Groups": [group_record(g) for g in rows], "NextToken": token})


@action("ListUsersInGroup", auth=Auth.SIGV4)
def list_users_in_group(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    group = wire.get_group(pool, call.params["GroupName"])
    rows, token = wire.page(
        group.users.all(),
        key="pk",
        limit=_limit(call),
        token=call.params.get("NextToken"),
        purpose=f"ListUsersInGroup.{group.pk}",
    )
    return wire.compact({"Users": [wire.user_record(u) for u in rows], "NextToken": token})
