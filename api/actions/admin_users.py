"""Admin actions on users: AdminCreateUser, AdminGetUser, AdminDeleteUser, AdminConfirmSignUp,
AdminDisableUser / AdminEnableUser, AdminSetUserPassword, AdminResetUserPassword,
AdminUpdateUserAttributes, AdminDeleteUserAttributes, AdminUserGlobalSignOut,
AdminSetUserMFAPreference and ListUsers, over pool/services/admin.py, passwords.py,
attributes.py, mfa.py and pool/selectors/users.py.

A user is named by Username or by a sign-in alias, as Cognito accepts
(`pool.selectors.users.get_user`, UserNotFoundException). ClientMetadata is accepted and passed
nowhere until triggers exist; AdminCreateUser's ValidationData is ignored, as Cognito ignores it
without a pre-sign-up trigger.
"""

from __future__ import annotations

from typing import Any

from api import wire
from api.registry import Auth, Call, action
from pool.models import User
from pool.selectors import users as user_selectors
from pool.services import admin, attributes, mfa, passwords

# How the services' field names read in these actions.
FIELD_NAMES = {
    "username": "Username",
    "message_action": "MessageAction",
    "delivery": "DesiredDeliveryMediums",
    "password": "Password",
    "temporary_password": "TemporaryPassword",
    "filter": "Filter",
    "limit": "Limit",
    "pagination_token": "PaginationToken",
    "attributes_to_get": "AttributesToGet",
}


def _user(call: Call) -> User:
    pool = wire.get_pool(call.params["UserPoolId"])
    return user_selectors.get_user(pool, call.params["Username"])


@action("AdminCreateUser", auth=Auth.SIGV4)
def admin_create_user(call: Call) -> dict[str, Any]:
    params = call.params
    pool = wire.get_pool(params["UserPoolId"])
    options: dict[str, Any] = {}
    if "DesiredDeliveryMediums" in params:
        options["delivery"] = tuple(params["DesiredDeliveryMediums"])
    with wire.in_api_terms(FIELD_NAMES):
        user, _ = admin.admin_create_user(
            pool=pool,
            username=params["Username"],
            attributes=wire.attributes_from(params.get("UserAttributes")),
            temporary_password=params.get("TemporaryPassword") or None,
            message_action=params.get("MessageAction"),
            force_alias_creation=params.get("ForceAliasCreation", False),
            context=call.context,
            client_metadata=params.get("ClientMetadata"),
            validation_data=wire.attributes_from(params.get("ValidationData")) or None,
            **options,
        )
    return {"User": wire.user_record(user)}


@action("AdminGetUser", auth=Auth.SIGV4)
def admin_get_user(call: Call) -> dict[str, Any]:
    user = _user(call)
    return {
        **wire.user_record(user, attributes_key="UserAttributes"),
        **wire.mfa_settings(user),
    }


@action("AdminDeleteUser", auth=Auth.SIGV4)
def admin_delete_user(call: Call) -> dict[str, Any]:
    admin.delete_user(user=_user(call), context=call.context)
    return {}


@action("AdminConfirmSignUp", auth=Auth.SIGV4)
def admin_confirm_sign_up(call: Call) -> dict[str, Any]:
    admin.admin_confirm_sign_up(
        user=_user(call), context=call.context, client_metadata=call.params.get("ClientMetadata")
    )
    return {}


@action("AdminDisableUser", auth=Auth.SIGV4)
def admin_disable_user(call: Call) -> dict[str, Any]:
    admin.set_enabled(user=_user(call), enabled=False, context=call.context)
    return {}


@action("AdminEnableUser", auth=Auth.SIGV4)
def admin_enable_user(call: Call) -> dict[str, Any]:
    admin.set_enabled(user=_user(call), enabled=True, context=call.context)
    return {}


@action("AdminSetUserPassword", auth=Auth.SIGV4)
def admin_set_user_password(call: Call) -> dict[str, Any]:
    user = _user(call)
    with wire.in_api_terms(FIELD_NAMES):
        passwords.admin_set_password(
            user=user,
            password=call.params["Password"],
            permanent=call.params.get("Permanent", False),
        )
    return {}


@action("AdminResetUserPassword", auth=Auth.SIGV4)
def admin_reset_user_password(call: Call) -> dict[str, Any]:
    passwords.admin_reset_password(user=_user(call), context=call.context)
    return {}


@action("AdminUpdateUserAttributes", auth=Auth.SIGV4)
def admin_update_user_attributes(call: Call) -> dict[str, Any]:
    user = _user(call)
    attributes.update_attributes(
        user=user,
        attributes=wire.attributes_from(call.params["UserAttributes"]),
        admin=True,
        context=call.context,
        client_metadata=call.params.get("ClientMetadata"),
    )
    return {}


@action("AdminDeleteUserAttributes", auth=Auth.SIGV4)
def admin_delete_user_attributes(call: Call) -> dict[str, Any]:
    user = _user(call)
    attributes.delete_attributes(user=user, names=call.params["UserAttributeNames"], admin=True)
    return {}


@action("AdminUserGlobalSignOut", auth=Auth.SIGV4)
def admin_user_global_sign_out(call: Call) -> dict[str, Any]:
    admin.global_sign_out(user=_user(call), context=call.context)
    return {}


@action("AdminSetUserMFAPreference", auth=Auth.SIGV4)
def admin_set_user_mfa_preference(call: Call) -> dict[str, Any]:
    user = _user(call)
    mfa.set_preference(user=user, **wire.mfa_preference(call.params, user.preferred_mfa))
    return {}


@action("ListUsers", auth=Auth.SIGV4)
def list_users(call: Call) -> dict[str, Any]:
    """Cognito's Filter string, read by `parse_filter` (byte-exact, Cognito's attributes)."""
    params = call.params
    pool = wire.get_pool(params["UserPoolId"])
    with wire.in_api_terms(FIELD_NAMES):
        names = user_selectors.attributes_to_get(pool, params.get("AttributesToGet"))
        found = user_selectors.search(
            pool,
            filter=user_selectors.parse_filter(params.get("Filter") or ""),
            limit=params.get("Limit", 0),
            pagination_token=params.get("PaginationToken"),
        )
    return wire.compact(
        {
            "Users": [wire.user_record(user, names=names) for user in found.users],
            "PaginationToken": found.next_token,
        }
    )
