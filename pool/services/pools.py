"""Pools, their schema, app clients and resource servers: creating and changing them.

Every setting is checked here, once, against Cognito's rules, so that the console, the commands
and (later) the JSON API refuse the same things with the same InvalidParameterException.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from pool.errors import InvalidParameterException, LimitExceededException
from pool.models import AppClient, CustomAttribute, ResourceServer, UserPool
from pool.models.client import (
    ACCESS_ID_VALIDITY_RANGE,
    DAY,
    EXPLICIT_AUTH_FLOWS,
    MINUTE,
    OAUTH_FLOWS,
    REFRESH_VALIDITY_RANGE,
    STANDARD_SCOPES,
)
from pool.models.pool import (
    MFA_METHODS,
    RECOVERY_MECHANISMS,
    SIGN_IN_ATTRIBUTES,
    USERNAME_ATTRIBUTES,
)
from pool.models.user import STANDARD_ATTRIBUTES

# Quotas (reference §6).
MAX_CLIENTS_PER_POOL = 1000
MAX_CUSTOM_ATTRIBUTES = 50
MAX_URLS = 100
MAX_SCOPES_PER_CLIENT = 50
MAX_RESOURCE_SERVERS = 25
MAX_SCOPES_PER_RESOURCE_SERVER = 100

# Settings Cognito fixes when the pool is created.
FROZEN_SETTINGS = (
    "region",
    "username_attributes",
    "alias_attributes",
    "case_sensitive",
    "required_attributes",
    "custom_attributes",
)
# The pool's message templates and sender.
MESSAGE_SETTINGS = (
    "verification_email_subject",
    "verification_email_message",
    "verification_sms_message",
    "invitation_email_subject",
    "invitation_email_message",
    "mfa_message",
    "email_from",
)
POOL_SETTINGS = (
    "name",
    "region",
    "username_attributes",
    "alias_attributes",
    "case_sensitive",
    "required_attributes",
    "auto_verified_attributes",
    "password_min_length",
    "password_require_uppercase",
    "password_require_lowercase",
    "password_require_numbers",
    "password_require_symbols",
    "temporary_password_validity_days",
    "mfa_configuration",
    "mfa_methods",
    "account_recovery",
    "allow_self_sign_up",
    "prevent_user_existence_errors",
    "deletion_protection",
    *MESSAGE_SETTINGS,
    "auth_session_validity_minutes",
)
_BOOLEAN_SETTINGS = (
    "case_sensitive",
    "password_require_uppercase",
    "password_require_lowercase",
    "password_require_numbers",
    "password_require_symbols",
    "allow_self_sign_up",
    "prevent_user_existence_errors",
    "deletion_protection",
)
CLIENT_FIELDS = (
    "name",
    "callback_urls",
    "logout_urls",
    "default_redirect_uri",
    "allowed_oauth_flows",
    "allowed_oauth_scopes",
    "allowed_oauth_flows_user_pool_client",
    "explicit_auth_flows",
    "supported_identity_providers",
    "read_attributes",
    "write_attributes",
    "access_token_validity",
    "id_token_validity",
    "refresh_token_validity",
    "auth_session_validity",
    "enable_token_revocation",
    "refresh_token_rotation",
    "logo_url",
    "brand_color",
)
_CLIENT_BOOLEANS = (
    "allowed_oauth_flows_user_pool_client",
    "enable_token_revocation",
    "refresh_token_rotation",
)
_CLIENT_LISTS = (
    "callback_urls",
    "logout_urls",
    "allowed_oauth_flows",
    "allowed_oauth_scopes",
    "explicit_auth_flows",
    "supported_identity_providers",
    "read_attributes",
    "write_attributes",
)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

# Cognito's name patterns (botocore model).
_POOL_NAME = re.compile(r"^[\w +=,.@-]{1,128}$")
_REGION = re.compile(r"^[a-z0-9-]{1,32}$")
_CUSTOM_NAME = re.compile(r"^[^\s:]{1,20}$")
_RS_IDENTIFIER = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]{1,256}$")
_RS_NAME = re.compile(r"^[\w +=,.@-]{1,256}$")
_SCOPE_NAME = re.compile(r"^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}$")
_BRAND_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _invalid(message: str, field: str) -> InvalidParameterException:
    return InvalidParameterException(message, field=field)


def _string_list(value: Any, field: str) -> list[str]:
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _invalid(f"{field} must be a list of strings.", field)
    seen: list[str] = []
    for item in value:
        if item in seen:
            raise _invalid(f"{field} lists {item!r} twice.", field)
        seen.append(item)
    return seen


def _subset(value: Any, allowed: Iterable[str], field: str) -> list[str]:
    items = _string_list(value, field)
    allowed = tuple(allowed)
    for item in items:
        if item not in allowed:
            raise _invalid(f"{field}: {item!r} is not one of {', '.join(allowed)}.", field)
    return items


def _integer(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise _invalid(f"{field} must be a whole number.", field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(f"{field} must be a whole number.", field) from None
    if str(number) != str(value).strip() and not isinstance(value, int):
        raise _invalid(f"{field} must be a whole number.", field)
    if not low <= number <= high:
        raise _invalid(f"{field} must be between {low} and {high}.", field)
    return number


def _boolean(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _invalid(f"{field} must be true or false.", field)


def _template(value: Any, field: str, *, placeholders: tuple[str, ...], limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{field} must not be empty.", field)
    if len(value) > limit:
        raise _invalid(f"{field} must be at most {limit} characters.", field)
    for placeholder in placeholders:
        if placeholder not in value:
            raise _invalid(f"{field} must contain {placeholder}.", field)
    return value


# --------------------------------------------------------------------------------------------
# Pools


def _clean_pool_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Check a full set of pool settings against each other; return the cleaned values."""
    clean = dict(values)
    name = values["name"]
    if not isinstance(name, str) or not _POOL_NAME.match(name):
        raise _invalid(
            "name must be 1-128 letters, digits, spaces or + = , . @ - _ characters.", "name"
        )
    region = values["region"]
    if not isinstance(region, str) or not _REGION.match(region):
        raise _invalid("region must be 1-32 lower-case letters, digits or hyphens.", "region")

    username_attrs = _subset(
        values["username_attributes"], USERNAME_ATTRIBUTES, "username_attributes"
    )
    alias_attrs = _subset(values["alias_attributes"], SIGN_IN_ATTRIBUTES, "alias_attributes")
    if username_attrs and alias_attrs:
        raise _invalid(
            "username_attributes and alias_attributes are exclusive: choose one.",
            "alias_attributes",
        )
    clean["username_attributes"], clean["alias_attributes"] = username_attrs, alias_attrs

    required = _subset(values["required_attributes"], STANDARD_ATTRIBUTES, "required_attributes")
    if "preferred_username" in alias_attrs and "preferred_username" in required:
        raise _invalid(
            "preferred_username cannot be both an alias attribute and a required attribute.",
            "required_attributes",
        )
    clean["required_attributes"] = required
    clean["auto_verified_attributes"] = _subset(
        values["auto_verified_attributes"], USERNAME_ATTRIBUTES, "auto_verified_attributes"
    )

    for field in _BOOLEAN_SETTINGS:
        clean[field] = _boolean(values[field], field)
    clean["password_min_length"] = _integer(
        values["password_min_length"], "password_min_length", 6, 99
    )
    days = _integer(
        values["temporary_password_validity_days"], "temporary_password_validity_days", 0, 365
    )
    clean["temporary_password_validity_days"] = days or 7

    mfa = values["mfa_configuration"]
    if mfa not in UserPool.Mfa.values:
        raise _invalid("mfa_configuration must be OFF, OPTIONAL or ON.", "mfa_configuration")
    methods = _subset(values["mfa_methods"], MFA_METHODS, "mfa_methods")
    if mfa != UserPool.Mfa.OFF and not methods:
        raise _invalid(
            "An MFA configuration other than OFF needs at least one method.", "mfa_methods"
        )
    clean["mfa_methods"] = methods

    recovery = _subset(values["account_recovery"], RECOVERY_MECHANISMS, "account_recovery")
    if not 1 <= len(recovery) <= 2:
        raise _invalid(
            "account_recovery needs one or two mechanisms, in priority order.", "account_recovery"
        )
    if "admin_only" in recovery and len(recovery) > 1:
        raise _invalid(
            "admin_only recovery cannot be combined with another mechanism.", "account_recovery"
        )
    clean["account_recovery"] = recovery

    clean["auth_session_validity_minutes"] = _integer(
        values["auth_session_validity_minutes"], "auth_session_validity_minutes", 3, 15
    )

    code = ("{####}",)
    clean["verification_email_subject"] = _template(
        values["verification_email_subject"],
        "verification_email_subject",
        placeholders=(),
        limit=140,
    )
    clean["verification_email_message"] = _template(
        values["verification_email_message"],
        "verification_email_message",
        placeholders=code,
        limit=20000,
    )
    clean["verification_sms_message"] = _template(
        values["verification_sms_message"], "verification_sms_message", placeholders=code, limit=140
    )
    clean["invitation_email_subject"] = _template(
        values["invitation_email_subject"], "invitation_email_subject", placeholders=(), limit=140
    )
    clean["invitation_email_message"] = _template(
        values["invitation_email_message"],
        "invitation_email_message",
        placeholders=("{username}", "{####}"),
        limit=20000,
    )
    clean["mfa_message"] = _template(
        values["mfa_message"], "mfa_message", placeholders=code, limit=140
    )
    email_from = values["email_from"] or ""
    if email_from:
        try:
            validate_email(email_from)
        except ValidationError:
            raise _invalid("email_from must be an email address.", "email_from") from None
    clean["email_from"] = email_from
    return clean


def _current_settings(pool: UserPool) -> dict[str, Any]:
    return {name: getattr(pool, name) for name in POOL_SETTINGS}


def _unknown(names: Iterable[str], known: Iterable[str], what: str) -> None:
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise _invalid(f"Unknown {what} setting(s): {', '.join(unknown)}.", unknown[0])


def create_pool(*, name: str, **settings: Any) -> UserPool:
    """Create a pool from validated settings (model defaults for the rest), its custom
    attributes (`custom_attributes=[{name, data_type, ...}]`) and its first signing key."""
    custom = settings.pop("custom_attributes", [])
    _unknown(settings, POOL_SETTINGS, "pool")
    values = _current_settings(UserPool())
    values.update(settings, name=name)
    clean = _clean_pool_settings(values)
    if not isinstance(custom, list | tuple):
        raise _invalid("custom_attributes must be a list.", "custom_attributes")
    with transaction.atomic():
        pool = UserPool.objects.create(**clean)
        for definition in custom:
            if not isinstance(definition, dict):
                raise _invalid("Each custom attribute must be a mapping.", "custom_attributes")
            add_custom_attribute(pool=pool, **definition)
        from pool.services import keys

        keys.rotate(pool=pool)
    return pool


def update_pool(*, pool: UserPool, **changes: Any) -> UserPool:
    """Change the settings Cognito lets change after creation; the sign-in identifiers, case
    sensitivity, required attributes and the custom schema are fixed."""
    _unknown(changes, (*POOL_SETTINGS, "custom_attributes"), "pool")
    for field in FROZEN_SETTINGS:
        if field not in changes:
            continue
        current = (
            [a.name for a in pool.custom_attributes.all()]
            if field == "custom_attributes"
            else getattr(pool, field)
        )
        if changes[field] != current:
            raise _invalid(f"{field} cannot be changed after the pool is created.", field)
        del changes[field]
    values = _current_settings(pool)
    values.update(changes)
    clean = _clean_pool_settings(values)
    with transaction.atomic():
        for field in changes:
            setattr(pool, field, clean[field])
        pool.save()
    return pool


def delete_pool(*, pool: UserPool) -> None:
    """Delete a pool with everything in it, unless deletion protection is on."""
    if pool.deletion_protection:
        raise _invalid(
            "The user pool cannot be deleted because deletion protection is activated.",
            "deletion_protection",
        )
    with transaction.atomic():
        pool.delete()


def add_custom_attribute(
    *,
    pool: UserPool,
    name: str,
    data_type: str = CustomAttribute.DataType.STRING,
    mutable: bool = True,
    developer_only: bool = False,
    required: bool = False,
    min_length: int | None = None,
    max_length: int | None = None,
    min_value: int | None = None,
    max_value: int | None = None,
) -> CustomAttribute:
    """Declare `custom:<name>`. Custom attributes are never required and, once added, can be
    neither removed nor changed (there is deliberately no function for either)."""
    if required:
        raise _invalid("Custom attributes cannot be required.", "required")
    if isinstance(name, str):
        name = name.removeprefix("dev:").removeprefix("custom:")
    if not isinstance(name, str) or not _CUSTOM_NAME.match(name):
        raise _invalid("Custom attribute names are 1-20 characters, without spaces or ':'.", "name")
    if data_type not in CustomAttribute.DataType.values:
        raise _invalid(
            f"data_type must be one of {', '.join(CustomAttribute.DataType.values)}.", "data_type"
        )
    mutable = _boolean(mutable, "mutable")
    developer_only = _boolean(developer_only, "developer_only")
    bounds: dict[str, int | None] = {}
    if data_type == CustomAttribute.DataType.STRING:
        if min_value is not None or max_value is not None:
            raise _invalid("String attributes take min_length/max_length, not values.", "min_value")
        for field, value in (("min_length", min_length), ("max_length", max_length)):
            bounds[field] = None if value in (None, "") else _integer(value, field, 0, 2048)
        low, high = bounds["min_length"], bounds["max_length"]
    elif data_type == CustomAttribute.DataType.NUMBER:
        if min_length is not None or max_length is not None:
            raise _invalid("Number attributes take min_value/max_value, not lengths.", "min_length")
        for field, value in (("min_value", min_value), ("max_value", max_value)):
            bounds[field] = (
                None if value in (None, "") else _integer(value, field, -(2**63), 2**63 - 1)
            )
        low, high = bounds["min_value"], bounds["max_value"]
    else:
        if any(v is not None for v in (min_length, max_length, min_value, max_value)):
            raise _invalid(f"{data_type} attributes take no length or value limits.", "data_type")
        low = high = None
    if low is not None and high is not None and low > high:
        raise _invalid("The minimum must not exceed the maximum.", "min_length")

    with transaction.atomic():
        # Lock the pool row so two concurrent additions cannot both pass the quota check.
        UserPool.objects.select_for_update().filter(pk=pool.pk).first()
        existing = CustomAttribute.objects.filter(pool=pool)
        if existing.count() >= MAX_CUSTOM_ATTRIBUTES:
            raise LimitExceededException(
                f"A pool can have at most {MAX_CUSTOM_ATTRIBUTES} custom attributes."
            )
        if existing.filter(name=name).exists():
            raise _invalid(f"custom:{name} already exists and cannot be changed.", "name")
        return CustomAttribute.objects.create(
            pool=pool,
            name=name,
            data_type=data_type,
            mutable=mutable,
            developer_only=developer_only,
            **bounds,
        )


# --------------------------------------------------------------------------------------------
# App clients


def validate_url(url: Any, field: str) -> str:
    """A callback or sign-out URL: absolute, no fragment, https unless on a loopback host."""
    if not isinstance(url, str) or not url or len(url) > 1024 or url != url.strip():
        raise _invalid(f"{field}: URLs are 1-1024 characters without surrounding spaces.", field)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError:
        raise _invalid(f"{field}: {url!r} is not a valid URL.", field) from None
    if not parts.scheme or not parts.netloc or not host:
        raise _invalid(f"{field}: {url!r} must be an absolute URL.", field)
    if "#" in url:
        raise _invalid(f"{field}: {url!r} must not contain a fragment.", field)
    if parts.username is not None or parts.password is not None:
        raise _invalid(f"{field}: {url!r} must not contain credentials.", field)
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return url
    raise _invalid(
        f"{field}: {url!r} must use https (http is allowed only for localhost, 127.0.0.1 "
        "and [::1]).",
        field,
    )


def _url_list(value: Any, field: str) -> list[str]:
    urls = _string_list(value, field)
    if len(urls) > MAX_URLS:
        raise _invalid(f"{field}: at most {MAX_URLS} URLs.", field)
    return [validate_url(url, field) for url in urls]


def pool_attribute_names(pool: UserPool) -> list[str]:
    """Every attribute a client may be allowed to read or write in this pool."""
    names = list(STANDARD_ATTRIBUTES)
    names += [a.full_name for a in CustomAttribute.objects.filter(pool=pool)]
    return names


def _resource_scopes(pool: UserPool) -> set[str]:
    scopes: set[str] = set()
    for server in ResourceServer.objects.filter(pool=pool):
        scopes.update(server.full_scopes)
    return scopes


def _validity(value: Any, field: str, low: int, high: int) -> int:
    return _integer(value, field, low, high)


def _clean_client(pool: UserPool, values: dict[str, Any], *, has_secret: bool) -> dict[str, Any]:
    clean = dict(values)
    name = values["name"]
    if not isinstance(name, str) or not _POOL_NAME.match(name):
        raise _invalid(
            "name must be 1-128 letters, digits, spaces or + = , . @ - _ characters.", "name"
        )
    for field in _CLIENT_BOOLEANS:
        clean[field] = _boolean(values[field], field)
    clean["callback_urls"] = _url_list(values["callback_urls"], "callback_urls")
    clean["logout_urls"] = _url_list(values["logout_urls"], "logout_urls")
    default = values["default_redirect_uri"] or ""
    if default and default not in clean["callback_urls"]:
        raise _invalid(
            "default_redirect_uri must be one of the callback URLs.", "default_redirect_uri"
        )
    clean["default_redirect_uri"] = default

    flows = _subset(values["allowed_oauth_flows"], OAUTH_FLOWS, "allowed_oauth_flows")
    if "client_credentials" in flows:
        if len(flows) > 1:
            raise _invalid(
                "client_credentials cannot be combined with code or implicit.",
                "allowed_oauth_flows",
            )
        if not has_secret:
            raise _invalid(
                "client_credentials needs a client with a secret.", "allowed_oauth_flows"
            )
    if {"code", "implicit"} & set(flows) and not clean["callback_urls"]:
        raise _invalid(
            "The code and implicit flows need at least one callback URL.", "callback_urls"
        )
    clean["allowed_oauth_flows"] = flows

    scopes = _string_list(values["allowed_oauth_scopes"], "allowed_oauth_scopes")
    if len(scopes) > MAX_SCOPES_PER_CLIENT:
        raise _invalid(
            f"At most {MAX_SCOPES_PER_CLIENT} scopes per client.", "allowed_oauth_scopes"
        )
    custom_scopes = _resource_scopes(pool)
    for scope in scopes:
        if scope not in STANDARD_SCOPES and scope not in custom_scopes:
            raise _invalid(
                f"allowed_oauth_scopes: {scope!r} is neither a standard scope nor a scope of "
                "one of the pool's resource servers.",
                "allowed_oauth_scopes",
            )
    if "client_credentials" in flows and (
        not scopes or any(scope in STANDARD_SCOPES for scope in scopes)
    ):
        raise _invalid(
            "client_credentials clients are allowed resource-server scopes only.",
            "allowed_oauth_scopes",
        )
    clean["allowed_oauth_scopes"] = scopes

    clean["explicit_auth_flows"] = _subset(
        values["explicit_auth_flows"], EXPLICIT_AUTH_FLOWS, "explicit_auth_flows"
    )
    clean["supported_identity_providers"] = _subset(
        values["supported_identity_providers"], ("COGNITO",), "supported_identity_providers"
    )

    attributes = pool_attribute_names(pool)
    clean["read_attributes"] = _subset(values["read_attributes"], attributes, "read_attributes")
    write = _subset(values["write_attributes"], attributes, "write_attributes")
    immutable = {a.full_name for a in CustomAttribute.objects.filter(pool=pool, mutable=False)}
    for attribute in write:
        if attribute in immutable:
            raise _invalid(f"write_attributes: {attribute} is immutable.", "write_attributes")
    clean["write_attributes"] = write

    low, high = ACCESS_ID_VALIDITY_RANGE
    clean["access_token_validity"] = _validity(
        values["access_token_validity"], "access_token_validity", low, high
    )
    clean["id_token_validity"] = _validity(
        values["id_token_validity"], "id_token_validity", low, high
    )
    refresh = values["refresh_token_validity"]
    refresh = 30 * DAY if refresh in (0, "0") else refresh
    clean["refresh_token_validity"] = _validity(
        refresh, "refresh_token_validity", *REFRESH_VALIDITY_RANGE
    )
    if clean["refresh_token_validity"] <= max(
        clean["access_token_validity"], clean["id_token_validity"]
    ):
        raise _invalid(
            "refresh_token_validity must be longer than the access and ID token validities.",
            "refresh_token_validity",
        )
    clean["auth_session_validity"] = _validity(
        values["auth_session_validity"], "auth_session_validity", 3 * MINUTE, 15 * MINUTE
    )
    logo = values["logo_url"] or ""
    if logo:
        validate_url(logo, "logo_url")
    clean["logo_url"] = logo
    color = values["brand_color"] or ""
    if color and not _BRAND_COLOR.match(color):
        raise _invalid("brand_color must look like #1a2b3c.", "brand_color")
    clean["brand_color"] = color
    return clean


def _client_values(client: AppClient) -> dict[str, Any]:
    return {field: getattr(client, field) for field in CLIENT_FIELDS}


def create_client(
    *, pool: UserPool, name: str, generate_secret: bool = False, **fields: Any
) -> tuple[AppClient, str]:
    """Register an app client. Returns the client and its secret's plaintext ("" for a public
    client): the only time the plaintext is shown; it is stored encrypted."""
    _unknown(fields, CLIENT_FIELDS, "client")
    generate_secret = _boolean(generate_secret, "generate_secret")
    values = _client_values(AppClient(pool=pool))
    values.update(fields, name=name)
    clean = _clean_client(pool, values, has_secret=generate_secret)
    with transaction.atomic():
        UserPool.objects.select_for_update().filter(pk=pool.pk).first()
        if AppClient.objects.filter(pool=pool).count() >= MAX_CLIENTS_PER_POOL:
            raise LimitExceededException(
                f"A pool can have at most {MAX_CLIENTS_PER_POOL} app clients."
            )
        client = AppClient(pool=pool, **clean)
        secret = client.set_secret() if generate_secret else ""
        client.save()
    return client, secret


def update_client(*, client: AppClient, **changes: Any) -> AppClient:
    """Change an app client's settings; all of them are checked together again."""
    _unknown(changes, CLIENT_FIELDS, "client")
    values = _client_values(client)
    values.update(changes)
    clean = _clean_client(client.pool, values, has_secret=client.is_confidential)
    with transaction.atomic():
        for field in changes:
            setattr(client, field, clean[field])
        client.save()
    return client


def rotate_client_secret(*, client: AppClient) -> str:
    """Replace a confidential client's secret; returns the new plaintext, shown once. The old
    secret stops working at once. A public client stays public: make a new client instead."""
    if not client.is_confidential:
        raise _invalid(
            "This app client has no secret; create a confidential client instead.", "secret"
        )
    with transaction.atomic():
        secret = client.set_secret()
        client.save(update_fields=["secret", "secret_created_at", "updated_at"])
    return secret


def delete_client(*, client: AppClient) -> None:
    """Delete an app client; its refresh tokens and codes go with it."""
    with transaction.atomic():
        client.delete()


# --------------------------------------------------------------------------------------------
# Resource servers


def _clean_scopes(scopes: Any) -> list[dict[str, str]]:
    if not isinstance(scopes, list | tuple):
        raise _invalid("scopes must be a list.", "scopes")
    if len(scopes) > MAX_SCOPES_PER_RESOURCE_SERVER:
        raise _invalid(f"At most {MAX_SCOPES_PER_RESOURCE_SERVER} scopes.", "scopes")
    clean: list[dict[str, str]] = []
    for scope in scopes:
        if isinstance(scope, str):
            scope = {"name": scope, "description": scope}
        if not isinstance(scope, dict):
            raise _invalid("Each scope is a name or {name, description}.", "scopes")
        name = scope.get("name")
        description = scope.get("description") or name
        if not isinstance(name, str) or not _SCOPE_NAME.match(name):
            raise _invalid(
                f"Scope name {name!r} must be 1-256 printable characters without spaces, "
                "'/', '\"' or '\\'.",
                "scopes",
            )
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise _invalid("Scope descriptions are 1-256 characters.", "scopes")
        if any(existing["name"] == name for existing in clean):
            raise _invalid(f"Scope {name!r} is listed twice.", "scopes")
        clean.append({"name": name, "description": description})
    return clean


def _clean_rs_name(name: Any) -> str:
    if not isinstance(name, str) or not _RS_NAME.match(name):
        raise _invalid("name must be 1-256 letters, digits, spaces or + = , . @ - _.", "name")
    return name


def _drop_client_scopes(pool: UserPool, removed: set[str]) -> None:
    """Keep clients consistent: a scope that no longer exists is no longer allowed."""
    if not removed:
        return
    for client in AppClient.objects.filter(pool=pool).select_for_update():
        kept = [s for s in client.allowed_oauth_scopes if s not in removed]
        if kept != client.allowed_oauth_scopes:
            client.allowed_oauth_scopes = kept
            client.save(update_fields=["allowed_oauth_scopes", "updated_at"])


def create_resource_server(
    *, pool: UserPool, identifier: str, name: str, scopes: list | tuple = ()
) -> ResourceServer:
    """Declare an API whose custom scopes (`identifier/scope`) clients may be allowed."""
    if not isinstance(identifier, str) or not _RS_IDENTIFIER.match(identifier):
        raise _invalid(
            "identifier must be 1-256 printable characters without spaces, '\"' or '\\'.",
            "identifier",
        )
    name = _clean_rs_name(name)
    clean = _clean_scopes(list(scopes))
    with transaction.atomic():
        UserPool.objects.select_for_update().filter(pk=pool.pk).first()
        existing = ResourceServer.objects.filter(pool=pool)
        if existing.filter(identifier=identifier).exists():
            raise _invalid(f"A resource server {identifier!r} already exists.", "identifier")
        if existing.count() >= MAX_RESOURCE_SERVERS:
            raise LimitExceededException(
                f"A pool can have at most {MAX_RESOURCE_SERVERS} resource servers."
            )
        return ResourceServer.objects.create(
            pool=pool, identifier=identifier, name=name, scopes=clean
        )


def update_resource_server(
    *, server: ResourceServer, name: str | None = None, scopes: list | tuple | None = None
) -> ResourceServer:
    """Rename a resource server or replace its scopes (the identifier is fixed). Scopes taken
    away are also taken away from the clients that were allowed them."""
    with transaction.atomic():
        if name is not None:
            server.name = _clean_rs_name(name)
        if scopes is not None:
            before = set(server.full_scopes)
            server.scopes = _clean_scopes(list(scopes))
            _drop_client_scopes(server.pool, before - set(server.full_scopes))
        server.save()
    return server


def delete_resource_server(*, server: ResourceServer) -> None:
    """Delete a resource server; its scopes are taken away from every client."""
    with transaction.atomic():
        _drop_client_scopes(server.pool, set(server.full_scopes))
        server.delete()
