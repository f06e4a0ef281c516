"""Self-service account actions: what an app does for its user, with its client id (sign-up,
confirmation, password recovery) or with the user's access token (profile, password,
attributes, MFA preference, sign-out, deleting the account).

ClientId actions resolve the client and check SECRET_HASH over the Username as typed
(api/principals.py) before the service runs; AccessToken actions resolve the token's user (and
the client it was issued to, whose read/write attributes bound GetUser and
UpdateUserAttributes). Which answers reveal that a user exists is the services' rule
(pool/services/sign_up.py, passwords.py): in pools that prevent user-existence errors an unknown
name gets the same answer as a real one. `ClientMetadata` (and SignUp's `ValidationData`)
reach the triggers the services fire (pool/triggers.py).
"""

from __future__ import annotations

from typing import Any

from api import principals, wire
from api.registry import Auth, Call, action
from pool.errors import InvalidParameterException
from pool.models import AppClient
from pool.services import admin, attributes, mfa, passwords, sign_up, tokens

# How the services' field names read in this API.
FIELD_NAMES = {
    "username": "Username",
    "password": "Password",
    "previous": "PreviousPassword",
    "proposed": "ProposedPassword",
    "attribute": "AttributeName",
    "code": "Code",
}


def _client(call: Call) -> AppClient:
    """The app client a ClientId action names, after its SECRET_HASH over Username."""
    client = principals.app_client(call.params.get("ClientId"))
    principals.check_secret_hash(
        client, username=call.params.get("Username", ""), given=call.params.get("SecretHash")
    )
    return client


# ---------------------------------------------------------------------- by client id


@action("SignUp", auth=Auth.CLIENT_ID)
def sign_up_user(call: Call) -> dict[str, Any]:
    client = _client(call)
    params = call.params
    with wire.in_api_terms(FIELD_NAMES):
        result = sign_up.sign_up(
            pool=client.pool,
            username=params["Username"],
            password=params.get("Password", ""),
            attributes=wire.attributes_from(params.get("UserAttributes")),
            client=client,
            context=call.context,
            client_metadata=params.get("ClientMetadata"),
            validation_data=wire.attributes_from(params.get("ValidationData")) or None,
        )
    return wire.compact(
        {
            "UserConfirmed": result.confirmed,
            "UserSub": str(result.user.sub),
            "CodeDeliveryDetails": wire.code_delivery(result.delivery) if result.delivery else None,
        }
    )


@action("ConfirmSignUp", auth=Auth.CLIENT_ID)
def confirm_sign_up(call: Call) -> dict[str, Any]:
    client = _client(call)
    with wire.in_api_terms(FIELD_NAMES):
        sign_up.confirm_sign_up(
            pool=client.pool,
            username=call.params["Username"],
            code=call.params["ConfirmationCode"],
            force_alias_creation=call.params.get("ForceAliasCreation", False),
            context=call.context,
            client=client,
            client_metadata=call.params.get("ClientMetadata"),
        )
    return {}


@action("ResendConfirmationCode", auth=Auth.CLIENT_ID)
def resend_confirmation_code(call: Call) -> dict[str, Any]:
    client = _client(call)
    with wire.in_api_terms(FIELD_NAMES):
        delivery = sign_up.resend_confirmation_code(
            pool=client.pool,
            username=call.params["Username"],
            client=client,
            context=call.context,
            client_metadata=call.params.get("ClientMetadata"),
        )
    return {"CodeDeliveryDetails": wire.code_delivery(delivery)}


@action("ForgotPassword", auth=Auth.CLIENT_ID)
def forgot_password(call: Call) -> dict[str, Any]:
    client = _client(call)
    with wire.in_api_terms(FIELD_NAMES):
        delivery = passwords.forgot_password(
            pool=client.pool,
            username=call.params["Username"],
            client=client,
            context=call.context,
            client_metadata=call.params.get("ClientMetadata"),
        )
    return {"CodeDeliveryDetails": wire.code_delivery(delivery)}


@action("ConfirmForgotPassword", auth=Auth.CLIENT_ID)
def confirm_forgot_password(call: Call) -> dict[str, Any]:
    client = _client(call)
    with wire.in_api_terms(FIELD_NAMES):
        passwords.confirm_forgot_password(
            pool=client.pool,
            username=call.params["Username"],
            code=call.params["ConfirmationCode"],
            password=call.params["Password"],
            context=call.context,
            client=client,
            client_metadata=call.params.get("ClientMetadata"),
        )
    return {}


# ---------------------------------------------------------------------- by access token


@action("GetUser", auth=Auth.ACCESS_TOKEN)
def get_user(call: Call) -> dict[str, Any]:
    user, client = principals.token_caller(call.params.get("AccessToken"), reading=True)
    # What the token's client may read (its ReadAttributes; all when it names none), and sub.
    # (the user's attribute map is made once, there: `sub` leads it, as in every user answer).
    readable = tokens.readable_attributes(user, client, [tokens.ADMIN_SCOPE])
    return wire.compact(
        {
            "Username": user.username,
            "UserAttributes": wire.attribute_entries({"sub": str(user.sub), **readable}),
            "MFAOptions": wire.mfa_options(user),
            **wire.mfa_settings(user),
        }
    )


@action("ChangePassword", auth=Auth.ACCESS_TOKEN)
def change_password(call: Call) -> dict[str, Any]:
    user = principals.token_user(call.params.get("AccessToken"))
    with wire.in_api_terms(FIELD_NAMES):
        passwords.change_password(
            user=user,
            previous=call.params.get("PreviousPassword", ""),
            proposed=call.params["ProposedPassword"],
            context=call.context,
        )
    return {}


@action("UpdateUserAttributes", auth=Auth.ACCESS_TOKEN)
def update_user_attributes(call: Call) -> dict[str, Any]:
    user, client = principals.token_caller(call.params.get("AccessToken"))
    with wire.in_api_terms(FIELD_NAMES):
        deliveries = attributes.update_attributes(
            user=user,
            attributes=wire.attributes_from(call.params["UserAttributes"]),
            client=client,
            context=call.context,
            client_metadata=call.params.get("ClientMetadata"),
        )
    return {"CodeDeliveryDetailsList": [wire.code_delivery(d) for d in deliveries]}


@action("DeleteUserAttributes", auth=Auth.ACCESS_TOKEN)
def delete_user_attributes(call: Call) -> dict[str, Any]:
    user, client = principals.token_caller(call.params.get("AccessToken"))
    with wire.in_api_terms(FIELD_NAMES):
        attributes.delete_attributes(
            user=user, names=call.params["UserAttributeNames"], client=client
        )
    return {}


@action("GetUserAttributeVerificationCode", auth=Auth.ACCESS_TOKEN)
def get_user_attribute_verification_code(call: Call) -> dict[str, Any]:
    user, client = principals.token_caller(call.params.get("AccessToken"))
    with wire.in_api_terms(FIELD_NAMES):
        delivery = attributes.send_attribute_verification_code(
            user=user,
            attribute=call.params["AttributeName"],
            context=call.context,
            client=client,
            client_metadata=call.params.get("ClientMetadata"),
        )
    return {"CodeDeliveryDetails": wire.code_delivery(delivery)}


@action("VerifyUserAttribute", auth=Auth.ACCESS_TOKEN)
def verify_user_attribute(call: Call) -> dict[str, Any]:
    user = principals.token_user(call.params.get("AccessToken"))
    with wire.in_api_terms(FIELD_NAMES):
        attributes.verify_attribute(
            user=user,
            attribute=call.params["AttributeName"],
            code=call.params["Code"],
            context=call.context,
        )
    return {}


@action("DeleteUser", auth=Auth.ACCESS_TOKEN)
def delete_user(call: Call) -> dict[str, Any]:
    user = principals.token_user(call.params.get("AccessToken"))
    admin.delete_own_account(user=user, password=None, context=call.context)
    return {}


@action("GlobalSignOut", auth=Auth.ACCESS_TOKEN)
def global_sign_out(call: Call) -> dict[str, Any]:
    user = principals.token_user(call.params.get("AccessToken"))
    admin.global_sign_out(user=user, context=call.context, by_user=True)
    return {}


@action("SetUserMFAPreference", auth=Auth.ACCESS_TOKEN)
def set_user_mfa_preference(call: Call) -> dict[str, Any]:
    user = principals.token_user(call.params.get("AccessToken"))
    mfa.set_preference(user=user, **wire.mfa_preference(call.params, user.preferred_mfa))
    return {}


@action("SetUserSettings", auth=Auth.ACCESS_TOKEN)
def set_user_settings(call: Call) -> dict[str, Any]:
    """The legacy MFAOptions: SMS to phone_number turns SMS MFA on, an empty list turns it off."""
    user = principals.token_user(call.params.get("AccessToken"))
    options = call.params["MFAOptions"]
    for option in options:
        if option.get("DeliveryMedium") != "SMS" or option.get("AttributeName") not in (
            None,
            "phone_number",
        ):
            raise InvalidParameterException(
                "MFAOptions can only set SMS to phone_number; use SetUserMFAPreference.",
                field="MFAOptions",
            )
    mfa.set_preference(user=user, sms=bool(options))
    return {}
