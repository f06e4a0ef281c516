"""Admin actions on app clients: CreateUserPoolClient, DescribeUserPoolClient,
UpdateUserPoolClient, ListUserPoolClients, DeleteUserPoolClient, over
pool/services/app_clients.py.

`client_fields` reads Cognito's members into the service's fields (token validities in their
TokenValidityUnits -> seconds, RefreshTokenRotation -> rotation and grace period); `describe`
writes a UserPoolClientType. A client created here gets Cognito's API defaults for what the
request leaves out (no OAuth flows, scopes or identity providers, refresh rotation off), and, as
in Cognito, UpdateUserPoolClient resets what it leaves out to those defaults (the name stays).
"""

from __future__ import annotations

from typing import Any

from api import wire
from api.registry import Auth, Call, action
from pool.errors import InvalidParameterException
from pool.models import AppClient, UserPool
from pool.models.client import DAY, HOUR, MINUTE
from pool.services import app_clients

UNIT_SECONDS = {"seconds": 1, "minutes": MINUTE, "hours": HOUR, "days": DAY}
# Cognito's units when TokenValidityUnits leaves one out.
DEFAULT_UNITS = {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}
_VALIDITIES = (
    ("AccessTokenValidity", "AccessToken", "access_token_validity"),
    ("IdTokenValidity", "IdToken", "id_token_validity"),
    ("RefreshTokenValidity", "RefreshToken", "refresh_token_validity"),
)
_LISTS = (
    ("ReadAttributes", "read_attributes"),
    ("WriteAttributes", "write_attributes"),
    ("ExplicitAuthFlows", "explicit_auth_flows"),
    ("SupportedIdentityProviders", "supported_identity_providers"),
    ("CallbackURLs", "callback_urls"),
    ("LogoutURLs", "logout_urls"),
    ("AllowedOAuthFlows", "allowed_oauth_flows"),
    ("AllowedOAuthScopes", "allowed_oauth_scopes"),
)
_UNSUPPORTED = (
    "ClientSecret",
    "AnalyticsConfiguration",
    "EnablePropagateAdditionalUserContextData",
    "PublishSecretsInAWSSecretsManager",
)
FIELD_NAMES = {
    "name": "ClientName",
    "generate_secret": "GenerateSecret",
    "callback_urls": "CallbackURLs",
    "logout_urls": "LogoutURLs",
    "default_redirect_uri": "DefaultRedirectURI",
    "allowed_oauth_flows": "AllowedOAuthFlows",
    "allowed_oauth_scopes": "AllowedOAuthScopes",
    "allowed_oauth_flows_user_pool_client": "AllowedOAuthFlowsUserPoolClient",
    "explicit_auth_flows": "ExplicitAuthFlows",
    "supported_identity_providers": "SupportedIdentityProviders",
    "read_attributes": "ReadAttributes",
    "write_attributes": "WriteAttributes",
    "access_token_validity": "AccessTokenValidity (seconds)",
    "id_token_validity": "IdTokenValidity (seconds)",
    "refresh_token_validity": "RefreshTokenValidity (seconds)",
    "auth_session_validity": "AuthSessionValidity (seconds)",
    "enable_token_revocation": "EnableTokenRevocation",
    "refresh_token_rotation": "RefreshTokenRotation.Feature",
    "refresh_token_retry_grace_seconds": "RefreshTokenRotation.RetryGracePeriodSeconds",
}


def _api_defaults() -> dict[str, Any]:
    """Cognito's defaults for a client created or updated through its API."""
    model = AppClient()
    return {
        "callback_urls": [],
        "logout_urls": [],
        "default_redirect_uri": "",
        "allowed_oauth_flows": [],
        "allowed_oauth_scopes": [],
        "allowed_oauth_flows_user_pool_client": False,
        "explicit_auth_flows": model.explicit_auth_flows,
        "supported_identity_providers": [],
        "read_attributes": [],
        "write_attributes": [],
        "access_token_validity": HOUR,
        "id_token_validity": HOUR,
        "refresh_token_validity": 30 * DAY,
        "auth_session_validity": 3 * MINUTE,
        "enable_token_revocation": True,
        "refresh_token_rotation": False,
        "refresh_token_retry_grace_seconds": 0,
    }


def _check_existence_errors(pool: UserPool, params: dict[str, Any]) -> None:
    """PreventUserExistenceErrors is a pool setting in Cognate: a client may ask only for
    what its pool does."""
    asked = params.get("PreventUserExistenceErrors")
    if asked is not None and asked != _existence_errors(pool):
        raise InvalidParameterException(
            f"PreventUserExistenceErrors is set per pool in Cognate, and this pool's is "
            f"{_existence_errors(pool)}.",
            field="PreventUserExistenceErrors",
        )


def _existence_errors(pool: UserPool) -> str:
    return "ENABLED" if pool.prevent_user_existence_errors else "LEGACY"


def client_fields(pool: UserPool, params: dict[str, Any]) -> dict[str, Any]:
    """The client fields a Create/UpdateUserPoolClient request asks for, with Cognito's defaults
    for every field it leaves out."""
    wire.refuse_unsupported(params, _UNSUPPORTED)
    _check_existence_errors(pool, params)
    fields = _api_defaults()
    if "ClientName" in params:
        fields["name"] = params["ClientName"]
    units = {**DEFAULT_UNITS, **(params.get("TokenValidityUnits") or {})}
    for member, unit_key, field in _VALIDITIES:
        if member in params:
            fields[field] = params[member] * UNIT_SECONDS[units[unit_key]]
    for member, field in _LISTS:
        if member in params:
            fields[field] = params[member]
    if "DefaultRedirectURI" in params:
        fields["default_redirect_uri"] = params["DefaultRedirectURI"]
    if "AllowedOAuthFlowsUserPoolClient" in params:
        fields["allowed_oauth_flows_user_pool_client"] = params["AllowedOAuthFlowsUserPoolClient"]
    if "EnableTokenRevocation" in params:
        fields["enable_token_revocation"] = params["EnableTokenRevocation"]
    if "AuthSessionValidity" in params:
        fields["auth_session_validity"] = params["AuthSessionValidity"] * MINUTE
    rotation = params.get("RefreshTokenRotation")
    if rotation is not None:
        fields["refresh_token_rotation"] = rotation["Feature"] == "ENABLED"
        fields["refresh_token_retry_grace_seconds"] = rotation.get("RetryGracePeriodSeconds", 0)
    return fields


def _in_units(seconds: int, default: str) -> tuple[int, str]:
    """A validity in the largest unit that states it exactly (Cognate keeps seconds)."""
    for unit in ("days", "hours", "minutes"):
        if seconds % UNIT_SECONDS[unit] == 0 and UNIT_SECONDS[unit] <= UNIT_SECONDS[default]:
            return seconds // UNIT_SECONDS[unit], unit
    return seconds, "seconds"


def describe(client: AppClient, *, secret: str | None = None) -> dict[str, Any]:
    """The client as Cognito's UserPoolClientType (with its secret, as Cognito shows it)."""
    validities: dict[str, Any] = {}
    units: dict[str, str] = {}
    for member, unit_key, field in _VALIDITIES:
        value, unit = _in_units(getattr(client, field), DEFAULT_UNITS[unit_key])
        validities[member] = value
        units[unit_key] = unit
    return wire.compact(
        {
            "UserPoolId": client.pool_id,
            "ClientName": client.name,
            "ClientId": client.client_id,
            "ClientSecret": secret or client.secret_plaintext or None,
            "LastModifiedDate": wire.epoch(client.updated_at),
            "CreationDate": wire.epoch(client.created_at),
            **validities,
            "TokenValidityUnits": units,
            "ReadAttributes": client.read_attributes or None,
            "WriteAttributes": client.write_attributes or None,
            "ExplicitAuthFlows": client.explicit_auth_flows,
            "SupportedIdentityProviders": client.supported_identity_providers or None,
            "CallbackURLs": client.callback_urls or None,
            "LogoutURLs": client.logout_urls or None,
            "DefaultRedirectURI": client.default_redirect_uri or None,
            "AllowedOAuthFlows": client.allowed_oauth_flows or None,
            "AllowedOAuthScopes": client.allowed_oauth_scopes or None,
            "AllowedOAuthFlowsUserPoolClient": client.allowed_oauth_flows_user_pool_client,
            "PreventUserExistenceErrors": _existence_errors(client.pool),
            "EnableTokenRevocation": client.enable_token_revocation,
            "EnablePropagateAdditionalUserContextData": False,
            "AuthSessionValidity": client.auth_session_validity // MINUTE,
            "RefreshTokenRotation": {
                "Feature": "ENABLED" if client.refresh_token_rotation else "DISABLED",
                "RetryGracePeriodSeconds": client.refresh_token_retry_grace_seconds,
            },
        }
    )


@action("CreateUserPoolClient", auth=Auth.SIGV4)
def create_user_pool_client(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    fields = client_fields(pool, call.params)
    with wire.in_api_terms(FIELD_NAMES):
        client, secret = app_clients.create_client(
            pool=pool, generate_secret=call.params.get("GenerateSecret", False), **fields
        )
    return {"UserPoolClient": describe(client, secret=secret)}


@action("DescribeUserPoolClient", auth=Auth.SIGV4)
def describe_user_pool_client(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    return {"UserPoolClient": describe(wire.get_client(pool, call.params["ClientId"]))}


@action("UpdateUserPoolClient", auth=Auth.SIGV4)
def update_user_pool_client(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    client = wire.get_client(pool, call.params["ClientId"])
    fields = client_fields(pool, call.params)
    with wire.in_api_terms(FIELD_NAMES):
        client = app_clients.update_client(client=client, **fields)
    return {"UserPoolClient": describe(client)}


@action("ListUserPoolClients", auth=Auth.SIGV4)
def list_user_pool_clients(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    rows, token = wire.page(
        AppClient.objects.filter(pool=pool),
        key="client_id",
        limit=call.params.get("MaxResults", 60),
        token=call.params.get("NextToken"),
        purpose=f"ListUserPoolClients.{pool.id}",
    )
    listed = [{"ClientId": c.client_id, "UserPoolId": pool.id, "ClientName": c.name} for c in rows]
    return wire.compact({"UserPoolClients": listed, "NextToken": token})


@action("DeleteUserPoolClient", auth=Auth.SIGV4)
def delete_user_pool_client(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    app_clients.delete_client(client=wire.get_client(pool, call.params["ClientId"]))
    return {}
