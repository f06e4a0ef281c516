"""Pools and their schema: creating and changing them.

Every setting is checked here, once, against Cognito's rules, so that the console, the commands
and (later) the JSON API refuse the same things with the same InvalidParameterException. App
clients live in pool/services/app_clients.py, resource servers in resource_servers.py; the checks
the three share are in validation.py.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from pool.errors import LimitExceededException
from pool.models import CustomAttribute, UserPool
from pool.models.pool import (
    MFA_METHODS,
    RECOVERY_MECHANISMS,
    SIGN_IN_ATTRIBUTES,
    USERNAME_ATTRIBUTES,
)
from pool.models.user import STANDARD_ATTRIBUTES
from pool.services.validation import (
    NAME,
    boolean,
    integer,
    invalid,
    reject_unknown,
    subset,
)

# Quotas (reference §6).
MAX_CUSTOM_ATTRIBUTES = 50

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
# DeviceConfiguration (see pool.services.devices).
DEVICE_SETTINGS = (
    "track_devices",
    "device_challenge_required_on_new_device",
    "device_only_remembered_on_user_prompt",
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
    "allow_self_deletion",
    "prevent_user_existence_errors",
    "deletion_protection",
    *MESSAGE_SETTINGS,
    "auth_session_validity_minutes",
    *DEVICE_SETTINGS,
)
_BOOLEAN_SETTINGS = (
    "case_sensitive",
    "password_require_uppercase",
    "password_require_lowercase",
    "password_require_numbers",
    "password_require_symbols",
    "allow_self_sign_up",
    "allow_self_deletion",
    "prevent_user_existence_errors",
    "deletion_protection",
    *DEVICE_SETTINGS,
)
# A pool id's region part (COGNATE_DEFAULT_REGION is checked against it at start).
REGION_PATTERN = re.compile(r"^[a-z0-9-]{1,32}$")
CUSTOM_NAME = re.compile(r"^[^\s:]{1,20}$")


def _template(value: Any, field: str, *, placeholders: tuple[str, ...], limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{field} must not be empty.", field)
    if len(value) > limit:
        raise invalid(f"{field} must be at most {limit} characters.", field)
    for placeholder in placeholders:
        if placeholder not in value:
            raise invalid(f"{field} must contain {placeholder}.", field)
    return value


# --------------------------------------------------------------------------------------------
# Pools


def _clean_pool_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Check a full set of pool settings against each other; return the cleaned values."""
    clean = dict(values)
    name = values["name"]
    if not isinstance(name, str) or not NAME.match(name):
        raise invalid(
            "name must be 1-128 letters, digits, spaces or + = , . @ - _ characters.", "name"
        )
    region = values["region"]
    if not isinstance(region, str) or not REGION_PATTERN.match(region):
        raise invalid("region must be 1-32 lower-case letters, digits or hyphens.", "region")

    username_attrs = subset(
        values["username_attributes"], USERNAME_ATTRIBUTES, "username_attributes"
    )
    alias_attrs = subset(values["alias_attributes"], SIGN_IN_ATTRIBUTES, "alias_attributes")
    if username_attrs and alias_attrs:
        raise invalid(
            "username_attributes and alias_attributes are exclusive: choose one.",
            "alias_attributes",
        )
    clean["username_attributes"], clean["alias_attributes"] = username_attrs, alias_attrs

    required = subset(values["required_attributes"], STANDARD_ATTRIBUTES, "required_attributes")
    if "preferred_username" in alias_attrs and "preferred_username" in required:
        raise invalid(
            "preferred_username cannot be both an alias attribute and a required attribute.",
            "required_attributes",
        )
    clean["required_attributes"] = required
    clean["auto_verified_attributes"] = subset(
        values["auto_verified_attributes"], USERNAME_ATTRIBUTES, "auto_verified_attributes"
    )

    for field in _BOOLEAN_SETTINGS:
        clean[field] = boolean(values[field], field)
    clean["password_min_length"] = integer(
        values["password_min_length"], "password_min_length", 6, 99
    )
    days = integer(
        values["temporary_password_validity_days"], "temporary_password_validity_days", 0, 365
    )
    clean["temporary_password_validity_days"] = days or 7

    mfa = values["mfa_configuration"]
    if mfa not in UserPool.Mfa.values:
        raise invalid("mfa_configuration must be OFF, OPTIONAL or ON.", "mfa_configuration")
    methods = subset(values["mfa_methods"], MFA_METHODS, "mfa_methods")
    if mfa != UserPool.Mfa.OFF and not methods:
        raise invalid(
            "An MFA configuration other than OFF needs at least one method.", "mfa_methods"
        )
    clean["mfa_methods"] = methods

    recovery = subset(values["account_recovery"], RECOVERY_MECHANISMS, "account_recovery")
    if not 1 <= len(recovery) <= 2:
        raise invalid(
            "account_recovery needs one or two mechanisms, in priority order.", "account_recovery"
        )
    if "admin_only" in recovery and len(recovery) > 1:
        raise invalid(
            "admin_only recovery cannot be combined with another mechanism.", "account_recovery"
        )
    clean["account_recovery"] = recovery

    clean["auth_session_validity_minutes"] = integer(
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
            raise invalid("email_from must be an email address.", "email_from") from None
    clean["email_from"] = email_from
    return clean


def _current_settings(pool: UserPool) -> dict[str, Any]:
    return {name: getattr(pool, name) for name in POOL_SETTINGS}


def create_pool(*, name: str, **settings: Any) -> UserPool:
    """Create a pool from validated settings (model defaults for the rest), its custom
    attributes (`custom_attributes=[{name, data_type, ...}]`) and its first signing key."""
    custom = settings.pop("custom_attributes", [])
    reject_unknown(settings, POOL_SETTINGS, "pool")
    values = _current_settings(UserPool())
    values.update(settings, name=name)
    clean = _clean_pool_settings(values)
    if not isinstance(custom, list | tuple):
        raise invalid("custom_attributes must be a list.", "custom_attributes")
    with transaction.atomic():
        pool = UserPool.objects.create(**clean)
        for definition in custom:
            if not isinstance(definition, dict):
                raise invalid("Each custom attribute must be a mapping.", "custom_attributes")
            add_custom_attribute(pool=pool, **definition)
        from pool.services import keys

        keys.rotate(pool=pool)
    return pool


def check_settings(pool: UserPool, changes: dict[str, Any]) -> dict[str, Any]:
    """The pool's settings with `changes`, checked together as a new pool's are (for
    pool_changes, which changes the settings `update_pool` keeps fixed)."""
    values = _current_settings(pool)
    values.update(changes)
    return _clean_pool_settings(values)


def update_pool(*, pool: UserPool, **changes: Any) -> UserPool:
    """Change the settings Cognito lets change after creation; the sign-in identifiers, case
    sensitivity, required attributes and the custom schema change only through
    pool/services/pool_changes.py, which plans and migrates the users with them."""
    reject_unknown(changes, (*POOL_SETTINGS, "custom_attributes"), "pool")
    for field in FROZEN_SETTINGS:
        if field not in changes:
            continue
        current = (
            [a.name for a in pool.custom_attributes.all()]
            if field == "custom_attributes"
            else getattr(pool, field)
        )
        if changes[field] != current:
            raise invalid(f"{field} cannot be changed after the pool is created.", field)
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
        raise invalid(
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
    """Declare `custom:<name>`. Custom attributes are never required and, once added, their
    definition never changes; pool/services/pool_changes.py renames or removes them."""
    if required:
        raise invalid("Custom attributes cannot be required.", "required")
    if isinstance(name, str):
        name = name.removeprefix("dev:").removeprefix("custom:")
    if not isinstance(name, str) or not CUSTOM_NAME.match(name):
        raise invalid("Custom attribute names are 1-20 characters, without spaces or ':'.", "name")
    if data_type not in CustomAttribute.DataType.values:
        raise invalid(
            f"data_type must be one of {', '.join(CustomAttribute.DataType.values)}.", "data_type"
        )
    mutable = boolean(mutable, "mutable")
    developer_only = boolean(developer_only, "developer_only")
    bounds: dict[str, int | None] = {}
    if data_type == CustomAttribute.DataType.STRING:
        if min_value is not None or max_value is not None:
            raise invalid("String attributes take min_length/max_length, not values.", "min_value")
        for field, value in (("min_length", min_length), ("max_length", max_length)):
            bounds[field] = None if value in (None, "") else integer(value, field, 0, 2048)
        low, high = bounds["min_length"], bounds["max_length"]
    elif data_type == CustomAttribute.DataType.NUMBER:
        if min_length is not None or max_length is not None:
            raise invalid("Number attributes take min_value/max_value, not lengths.", "min_length")
        for field, value in (("min_value", min_value), ("max_value", max_value)):
            bounds[field] = (
                None if value in (None, "") else integer(value, field, -(2**63), 2**63 - 1)
            )
        low, high = bounds["min_value"], bounds["max_value"]
    else:
        if any(v is not None for v in (min_length, max_length, min_value, max_value)):
            raise invalid(f"{data_type} attributes take no length or value limits.", "data_type")
        low = high = None
    if low is not None and high is not None and low > high:
        raise invalid("The minimum must not exceed the maximum.", "min_length")

    with transaction.atomic():
        # Lock the pool row so two concurrent additions cannot both pass the quota check.
        UserPool.objects.select_for_update().filter(pk=pool.pk).first()
        existing = CustomAttribute.objects.filter(pool=pool)
        if existing.count() >= MAX_CUSTOM_ATTRIBUTES:
            raise LimitExceededException(
                f"A pool can have at most {MAX_CUSTOM_ATTRIBUTES} custom attributes."
            )
        if existing.filter(name=name).exists():
            raise invalid(f"custom:{name} already exists and cannot be changed.", "name")
        return CustomAttribute.objects.create(
            pool=pool,
            name=name,
            data_type=data_type,
            mutable=mutable,
            developer_only=developer_only,
            **bounds,
        )


def add_custom_attributes(*, pool: UserPool, definitions: list[dict[str, Any]]) -> None:
    """AddCustomAttributes: declare several custom attributes, all or none (each checked as
    `add_custom_attribute` checks it)."""
    if not isinstance(definitions, list | tuple) or not definitions:
        raise invalid("Give at least one custom attribute.", "custom_attributes")
    with transaction.atomic():
        for definition in definitions:
            if not isinstance(definition, dict):
                raise invalid("Each custom attribute must be a mapping.", "custom_attributes")
            add_custom_attribute(pool=pool, **definition)


def pool_attribute_names(pool: UserPool) -> list[str]:
    """Every attribute a client may be allowed to read or write in this pool."""
    names = list(STANDARD_ATTRIBUTES)
    names += [a.full_name for a in CustomAttribute.objects.filter(pool=pool)]
    return names
