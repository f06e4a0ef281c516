"""Small helpers that shape Cognito's wire values: timestamps, pagination tokens, lookups that
answer ResourceNotFoundException as Cognito words it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core import signing
from django.db.models import QuerySet

from pool.errors import InvalidParameterException, ResourceNotFoundException
from pool.models import AppClient, Group, ResourceServer, User, UserPool
from pool.services.results import CodeDelivery, Tokens

# Accounts do not exist in Cognate; ARNs carry this placeholder account number.
ACCOUNT_ID = "000000000000"


def epoch(moment: dt.datetime | None) -> float | None:
    """Cognito's timestamps: epoch seconds with a millisecond fraction."""
    return None if moment is None else round(moment.timestamp(), 3)


def compact(values: dict[str, Any]) -> dict[str, Any]:
    """Drop members without a value, as Cognito leaves them out of its answers."""
    return {k: v for k, v in values.items() if v is not None}


def get_pool(pool_id: str) -> UserPool:
    pool = UserPool.objects.filter(pk=pool_id).first()
    if pool is None:
        raise ResourceNotFoundException(f"User pool {pool_id} does not exist.")
    return pool


def get_client(pool: UserPool, client_id: str) -> AppClient:
    client = AppClient.objects.filter(pool=pool, pk=client_id).first()
    if client is None:
        raise ResourceNotFoundException(f"User pool client {client_id} does not exist.")
    return client


def get_resource_server(pool: UserPool, identifier: str) -> ResourceServer:
    server = ResourceServer.objects.filter(pool=pool, identifier=identifier).first()
    if server is None:
        raise ResourceNotFoundException(f"Resource server {identifier} does not exist.")
    return server


def get_group(pool: UserPool, name: str) -> Group:
    group = Group.objects.filter(pool=pool, name=name).first()
    if group is None:
        raise ResourceNotFoundException("Group not found.")
    return group


def page(
    queryset: QuerySet, *, key: str, limit: int, token: str | None, purpose: str
) -> tuple[list, str | None]:
    """One page of `queryset` ordered by `key`, after the position `token` names, and the
    token for the next page (None on the last). Tokens are signed, so a forged or edited one
    is refused instead of read."""
    queryset = queryset.order_by(key)
    if token is not None:
        try:
            after = signing.loads(token, salt=f"api.page.{purpose}")
        except signing.BadSignature:
            raise InvalidParameterException("Invalid pagination token.") from None
        queryset = queryset.filter(**{f"{key}__gt": after})
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, signing.dumps(getattr(rows[-1], key), salt=f"api.page.{purpose}")


@contextmanager
def in_api_terms(names: dict[str, str]) -> Iterator[None]:
    """Let a service's InvalidParameterException name fields as the API names them
    (`access_token_validity` -> `AccessTokenValidity`): the rule and its wording stay in the
    service; only the names are translated (the error's own field, and any snake_case field
    the message mentions)."""
    try:
        yield
    except InvalidParameterException as error:
        field = error.field or ""
        mentioned = [n for n in names if n == field or "_" in n]
        message = error.message
        for name in sorted(mentioned, key=len, reverse=True):
            message = re.sub(rf"\b{re.escape(name)}\b", names[name], message)
        error.message = message
        error.args = (message,)
        error.field = names.get(field, error.field)
        raise


def is_empty(value: Any) -> bool:
    """True for a value that asks for nothing: absent, empty, false, OFF, or made only of such
    values. Fields Cognate does not implement are accepted only when empty, so a request never
    silently loses a setting it asked for."""
    if value in (None, "", False, "OFF"):
        return True
    if isinstance(value, dict):
        return all(is_empty(v) for v in value.values())
    if isinstance(value, list):
        return all(is_empty(v) for v in value)
    return False


def refuse_unsupported(params: dict[str, Any], names: tuple[str, ...], where: str = "") -> None:
    for name in names:
        if not is_empty(params.get(name)):
            raise InvalidParameterException(
                f"{where}{name} is not supported by Cognate; leave it out or empty.",
                field=name,
            )


# ------------------------------------------------------------------------------ users and codes
# Shared by every action that answers with a user, a code delivery or tokens, so that GetUser,
# AdminGetUser, ListUsers, SignUp, InitiateAuth... shape them one way.


def attribute_list(user: User, names: set[str] | None = None) -> list[dict[str, str]]:
    """Cognito's AttributeListType: [{"Name", "Value"}], `sub` first; `names` keeps only those
    (ListUsers' AttributesToGet, a client's read_attributes)."""
    return attribute_entries(user.attribute_map(), names)


def attribute_entries(
    values: dict[str, str], names: set[str] | None = None
) -> list[dict[str, str]]:
    """`attribute_list` of a map already made (User.attribute_map's, or the part of it a
    client may read)."""
    return [
        {"Name": name, "Value": value}
        for name, value in values.items()
        if names is None or name in names
    ]


def mfa_options(user: User) -> list[dict[str, str]] | None:
    """The legacy MFAOptions list: SMS to phone_number when SMS MFA is on, else left out."""
    if user.sms_mfa_enabled and user.phone_number:
        return [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    return None


def mfa_settings(user: User) -> dict[str, Any]:
    """PreferredMfaSetting and UserMFASettingList, left out when empty (as Cognito does)."""
    return compact(
        {
            "PreferredMfaSetting": user.preferred_mfa or None,
            "UserMFASettingList": user.mfa_enabled_methods or None,
        }
    )


def user_record(user: User, *, attributes_key: str = "Attributes", names=None) -> dict[str, Any]:
    """Cognito's UserType (ListUsers, AdminCreateUser); AdminGetUser passes
    attributes_key="UserAttributes" and adds `mfa_settings`."""
    return compact(
        {
            "Username": user.username,
            attributes_key: attribute_list(user, names),
            "UserCreateDate": epoch(user.created_at),
            "UserLastModifiedDate": epoch(user.updated_at),
            "Enabled": user.enabled,
            "UserStatus": user.status,
            "MFAOptions": mfa_options(user),
        }
    )


def code_delivery(delivery: CodeDelivery) -> dict[str, str]:
    """CodeDeliveryDetailsType."""
    return {
        "Destination": delivery.destination,
        "DeliveryMedium": delivery.medium,
        "AttributeName": delivery.attribute,
    }


def authentication_result(issued: Tokens) -> dict[str, Any]:
    """AuthenticationResultType (TokenType is always sent: pycognito reads it)."""
    return compact(
        {
            "AccessToken": issued.access_token,
            "ExpiresIn": issued.expires_in,
            "TokenType": issued.token_type,
            "RefreshToken": issued.refresh_token,
            "IdToken": issued.id_token,
            "NewDeviceMetadata": (
                {
                    "DeviceKey": issued.new_device_key,
                    "DeviceGroupKey": issued.new_device_group_key,
                }
                if issued.new_device_key
                else None
            ),
        }
    )


# ------------------------------------------------------------------------- request members
# Shared readers of Cognito's request members, so every action that takes them reads them alike.


def attributes_from(entries: list[dict[str, Any]] | None, member: str = "UserAttributes") -> dict:
    """Cognito's AttributeListType ([{"Name", "Value"}]) as a name -> value dict for the
    services; a name given twice is refused rather than silently losing one value."""
    attributes: dict[str, Any] = {}
    for entry in entries or []:
        name = entry.get("Name")
        if name in attributes:
            raise InvalidParameterException(f"Duplicate attribute name: {name}", field=member)
        attributes[name] = entry.get("Value", "")
    return attributes


# SetUserMFAPreference / AdminSetUserMFAPreference members and the method each one sets.
MFA_PREFERENCE_MEMBERS = {
    "SMSMfaSettings": "SMS_MFA",
    "SoftwareTokenMfaSettings": "SOFTWARE_TOKEN_MFA",
    "EmailMfaSettings": "EMAIL_OTP",
}
_PREFERENCE_ARGUMENT = {"SMS_MFA": "sms", "SOFTWARE_TOKEN_MFA": "totp", "EMAIL_OTP": "email"}


def mfa_preference(params: dict[str, Any], current_preferred: str) -> dict[str, Any]:
    """The keyword arguments of `mfa.set_preference` that a (Admin)SetUserMFAPreference request
    asks for: each method's `Enabled` (absent = unchanged) and the preferred method. At most
    one method may be preferred; `PreferredMfa: false` on the preferred one clears it."""
    arguments: dict[str, Any] = {}
    preferred = [
        m for k, m in MFA_PREFERENCE_MEMBERS.items() if (params.get(k) or {}).get("PreferredMfa")
    ]
    if len(preferred) > 1:
        raise InvalidParameterException(
            "Only one MFA method can be the preferred one.", field="PreferredMfa"
        )
    for member, method in MFA_PREFERENCE_MEMBERS.items():
        settings = params.get(member) or {}
        if "Enabled" in settings:
            arguments[_PREFERENCE_ARGUMENT[method]] = settings["Enabled"]
        if settings.get("PreferredMfa") is False and current_preferred == method:
            arguments["preferred"] = ""
    if preferred:
        arguments["preferred"] = preferred[0]
    refuse_unsupported(params, ("WebAuthnMfaSettings",))
    return arguments
