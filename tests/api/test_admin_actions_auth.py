"""Every admin user, group and pool-MFA action is SigV4-only: unsigned, it is refused before the
handler runs and writes nothing."""

from __future__ import annotations

import json

import pytest

from api.registry import ACTIONS, Auth
from pool.models import Group, User
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN_ACTIONS = (
    "AdminCreateUser",
    "AdminGetUser",
    "AdminDeleteUser",
    "AdminConfirmSignUp",
    "AdminDisableUser",
    "AdminEnableUser",
    "AdminSetUserPassword",
    "AdminResetUserPassword",
    "AdminUpdateUserAttributes",
    "AdminDeleteUserAttributes",
    "AdminUserGlobalSignOut",
    "AdminSetUserMFAPreference",
    "AdminAddUserToGroup",
    "AdminRemoveUserFromGroup",
    "AdminListGroupsForUser",
    "CreateGroup",
    "GetGroup",
    "UpdateGroup",
    "ListGroups",
    "DeleteGroup",
    "ListUsers",
    "ListUsersInGroup",
    "SetUserPoolMfaConfig",
    "GetUserPoolMfaConfig",
    "AddCustomAttributes",
)


@pytest.mark.parametrize("action", ADMIN_ACTIONS)
def test_unsigned_admin_calls_are_refused(api, access_key, action):
    assert ACTIONS[action].auth == Auth.SIGV4
    pool = factories.make_pool()
    user = factories.make_user(pool, "alice")
    group = Group.objects.create(pool=pool, name="g")
    body = {
        "UserPoolId": pool.id,
        "Username": "alice",
        "GroupName": "g",
        "Password": "Brand-New-Pass-1",
        "UserAttributes": [{"Name": "given_name", "Value": "x"}],
        "UserAttributeNames": ["given_name"],
        "CustomAttributes": [{"Name": "tier"}],
    }
    response = api.post(action, body, sign=False)
    assert response.status_code == 403
    assert json.loads(response.content)["__type"] == "MissingAuthenticationTokenException"
    assert User.objects.get(pk=user.pk).enabled and Group.objects.filter(pk=group.pk).exists()
    assert not user.groups.exists() and not pool.custom_attributes.exists()
