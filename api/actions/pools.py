"""Admin actions on user pools: CreateUserPool, DescribeUserPool, ListUserPools,
UpdateUserPool, DeleteUserPool, over pool/services/pools.py.

The mapping between Cognito's members and the pool's settings is here, in two functions
(`pool_settings` reads a request, `describe` writes a UserPoolType); every rule about the values
is the service's. As in Cognito, a pool created here gets Cognito's API defaults for what the
request leaves out (no required attributes, nothing auto-verified, MFA off, case-sensitive
usernames), and UpdateUserPool resets what it leaves out to those defaults.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import transaction

from api import shapes, wire
from api.registry import Auth, Call, action
from pool.errors import InvalidParameterException
from pool.models import CustomAttribute, UserPool
from pool.selectors import domains as domain_selectors
from pool.services import keys, pool_changes, pools
from pool.services import triggers as trigger_config

# Cognito's defaults for a pool created through its API, where they differ from the model's.
API_POOL_DEFAULTS: dict[str, Any] = {
    "required_attributes": [],
    "auto_verified_attributes": [],
    "mfa_configuration": UserPool.Mfa.OFF,
    "case_sensitive": True,
}
# Settings UpdateUserPool may change; left out of a request, each goes back to its default.
_UPDATABLE = (
    "password_min_length",
    "password_require_uppercase",
    "password_require_lowercase",
    "password_require_numbers",
    "password_require_symbols",
    "temporary_password_validity_days",
    "deletion_protection",
    "auto_verified_attributes",
    "verification_sms_message",
    "verification_email_message",
    "verification_email_subject",
    "mfa_message",
    "mfa_configuration",
    "email_from",
    "allow_self_sign_up",
    "invitation_email_message",
    "invitation_email_subject",
    "account_recovery",
    *pools.DEVICE_SETTINGS,
)
# Members Cognate does not implement: accepted only when empty (wire.refuse_unsupported).
_UNSUPPORTED = (
    "UserAttributeUpdateSettings",
    "SmsConfiguration",
    "UserPoolTags",
    "UserPoolAddOns",
    "DcrConfiguration",
    "KeyConfiguration",
    "IssuerConfiguration",
    "AcrConfiguration",
)
# How the services' field names read in the API.
FIELD_NAMES = {
    "name": "PoolName",
    "password_min_length": "MinimumLength",
    "temporary_password_validity_days": "TemporaryPasswordValidityDays",
    "auto_verified_attributes": "AutoVerifiedAttributes",
    "alias_attributes": "AliasAttributes",
    "username_attributes": "UsernameAttributes",
    "required_attributes": "Schema",
    "verification_sms_message": "SmsVerificationMessage",
    "verification_email_message": "EmailVerificationMessage",
    "verification_email_subject": "EmailVerificationSubject",
    "mfa_message": "SmsAuthenticationMessage",
    "mfa_configuration": "MfaConfiguration",
    "mfa_methods": "MfaConfiguration",
    "email_from": "EmailConfiguration.From",
    "invitation_email_message": "InviteMessageTemplate.EmailMessage",
    "invitation_email_subject": "InviteMessageTemplate.EmailSubject",
    "account_recovery": "AccountRecoverySetting",
    "case_sensitive": "UsernameConfiguration.CaseSensitive",
    "remove_attributes": "CognateSchemaChanges.RemoveAttributes",
    "rename_attributes": "CognateSchemaChanges.RenameAttributes",
    "deletion_protection": "DeletionProtection",
    "track_devices": "DeviceConfiguration",
    "device_challenge_required_on_new_device": "DeviceConfiguration.ChallengeRequiredOnNewDevice",
    "device_only_remembered_on_user_prompt": "DeviceConfiguration.DeviceOnlyRememberedOnUserPrompt",
}

# Cognito's standard schema, in its order: name -> (data type, mutable, string/number bounds).
_STANDARD_SCHEMA: tuple[tuple[str, str], ...] = (
    ("sub", "String"),
    ("name", "String"),
    ("given_name", "String"),
    ("family_name", "String"),
    ("middle_name", "String"),
    ("nickname", "String"),
    ("preferred_username", "String"),
    ("profile", "String"),
    ("picture", "String"),
    ("website", "String"),
    ("email", "String"),
    ("email_verified", "Boolean"),
    ("gender", "String"),
    ("birthdate", "String"),
    ("zoneinfo", "String"),
    ("locale", "String"),
    ("phone_number", "String"),
    ("phone_number_verified", "Boolean"),
    ("address", "String"),
    ("updated_at", "Number"),
)
_STANDARD_TYPES = dict(_STANDARD_SCHEMA)


def _defaults() -> dict[str, Any]:
    model = UserPool()
    values = {name: getattr(model, name) for name in _UPDATABLE}
    values.update({k: v for k, v in API_POOL_DEFAULTS.items() if k in values})
    values["allow_self_sign_up"] = True
    return values


def _schema(entries: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Cognito's Schema -> (required standard attributes, custom attribute definitions)."""
    required: list[str] = []
    custom: list[dict[str, Any]] = []
    for entry in entries:
        name = entry.get("Name")
        if not name:
            raise InvalidParameterException("Each schema attribute needs a Name.", field="Schema")
        data_type = entry.get("AttributeDataType")
        if name in _STANDARD_TYPES:
            if data_type not in (None, _STANDARD_TYPES[name]):
                raise InvalidParameterException(
                    f"The type of standard attribute {name} is {_STANDARD_TYPES[name]}.",
                    field="Schema",
                )
            if entry.get("Mutable") is False and name != "sub":
                raise InvalidParameterException(
                    f"Cognate keeps standard attributes mutable: Mutable=false on {name} is not "
                    "supported.",
                    field="Schema",
                )
            if entry.get("DeveloperOnlyAttribute"):
                raise InvalidParameterException(
                    f"Standard attribute {name} cannot be developer-only.", field="Schema"
                )
            if entry.get("Required") and name != "sub":
                required.append(name)
            continue
        custom.append(custom_attribute(entry))
    return required, custom


def custom_attribute(entry: dict[str, Any]) -> dict[str, Any]:
    """A SchemaAttributeType as `pools.add_custom_attribute`'s arguments."""
    strings = entry.get("StringAttributeConstraints") or {}
    numbers = entry.get("NumberAttributeConstraints") or {}
    return {
        "name": entry.get("Name"),
        "data_type": entry.get("AttributeDataType") or CustomAttribute.DataType.STRING,
        "mutable": entry.get("Mutable", True),
        "developer_only": entry.get("DeveloperOnlyAttribute", False),
        "required": entry.get("Required", False),
        "min_length": strings.get("MinLength"),
        "max_length": strings.get("MaxLength"),
        "min_value": numbers.get("MinValue"),
        "max_value": numbers.get("MaxValue"),
    }


def pool_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The pool settings an UpdateUserPool or CreateUserPool request asks for, with Cognito's
    defaults for every updatable setting it leaves out."""
    wire.refuse_unsupported(params, _UNSUPPORTED)
    settings = _defaults()
    if "PoolName" in params:
        settings["name"] = params["PoolName"]
    if "DeletionProtection" in params:
        settings["deletion_protection"] = params["DeletionProtection"] == "ACTIVE"
    if "AutoVerifiedAttributes" in params:
        settings["auto_verified_attributes"] = params["AutoVerifiedAttributes"]
    if "MfaConfiguration" in params:
        settings["mfa_configuration"] = params["MfaConfiguration"]

    policies = params.get("Policies") or {}
    password = policies.get("PasswordPolicy") or {}
    wire.refuse_unsupported(password, ("PasswordHistorySize",), "Policies.PasswordPolicy.")
    factors = (policies.get("SignInPolicy") or {}).get("AllowedFirstAuthFactors")
    if factors not in (None, ["PASSWORD"]):
        raise InvalidParameterException(
            "Cognate signs in with PASSWORD only: AllowedFirstAuthFactors must be [PASSWORD].",
            field="AllowedFirstAuthFactors",
        )
    for member, field in (
        ("MinimumLength", "password_min_length"),
        ("RequireUppercase", "password_require_uppercase"),
        ("RequireLowercase", "password_require_lowercase"),
        ("RequireNumbers", "password_require_numbers"),
        ("RequireSymbols", "password_require_symbols"),
        ("TemporaryPasswordValidityDays", "temporary_password_validity_days"),
    ):
        if member in password:
            settings[field] = password[member]

    for member, field in (
        ("SmsVerificationMessage", "verification_sms_message"),
        ("EmailVerificationMessage", "verification_email_message"),
        ("EmailVerificationSubject", "verification_email_subject"),
        ("SmsAuthenticationMessage", "mfa_message"),
    ):
        if member in params:
            settings[field] = params[member]
    template = params.get("VerificationMessageTemplate") or {}
    if template.get("DefaultEmailOption") == "CONFIRM_WITH_LINK":
        raise InvalidParameterException(
            "Cognate confirms with a code: DefaultEmailOption CONFIRM_WITH_LINK is not supported.",
            field="DefaultEmailOption",
        )
    for member, field in (
        ("SmsMessage", "verification_sms_message"),
        ("EmailMessage", "verification_email_message"),
        ("EmailSubject", "verification_email_subject"),
    ):
        if member in template:
            settings[field] = template[member]

    email = params.get("EmailConfiguration") or {}
    wire.refuse_unsupported(
        email, ("SourceArn", "ReplyToEmailAddress", "ConfigurationSet"), "EmailConfiguration."
    )
    if "From" in email:
        settings["email_from"] = email["From"]

    admin = params.get("AdminCreateUserConfig") or {}
    if "AllowAdminCreateUserOnly" in admin:
        settings["allow_self_sign_up"] = not admin["AllowAdminCreateUserOnly"]
    if "UnusedAccountValidityDays" in admin and "TemporaryPasswordValidityDays" not in password:
        settings["temporary_password_validity_days"] = admin["UnusedAccountValidityDays"]
    invite = admin.get("InviteMessageTemplate") or {}
    wire.refuse_unsupported(invite, ("SMSMessage",), "AdminCreateUserConfig.InviteMessageTemplate.")
    if "EmailMessage" in invite:
        settings["invitation_email_message"] = invite["EmailMessage"]
    if "EmailSubject" in invite:
        settings["invitation_email_subject"] = invite["EmailSubject"]

    devices = params.get("DeviceConfiguration")
    if devices is not None:
        # Any DeviceConfiguration turns device remembering on (an empty one too).
        settings["track_devices"] = True
        settings["device_challenge_required_on_new_device"] = bool(
            devices.get("ChallengeRequiredOnNewDevice", False)
        )
        settings["device_only_remembered_on_user_prompt"] = bool(
            devices.get("DeviceOnlyRememberedOnUserPrompt", False)
        )

    recovery = (params.get("AccountRecoverySetting") or {}).get("RecoveryMechanisms")
    if recovery:
        ordered = sorted(recovery, key=lambda option: option["Priority"])
        if len({option["Priority"] for option in recovery}) != len(recovery):
            raise InvalidParameterException(
                "Recovery mechanisms need distinct priorities.", field="AccountRecoverySetting"
            )
        settings["account_recovery"] = [option["Name"] for option in ordered]
    return settings


def _schema_attributes(pool: UserPool) -> list[dict[str, Any]]:
    required = set(pool.required_attributes)
    attributes = []
    for name, data_type in _STANDARD_SCHEMA:
        entry: dict[str, Any] = {
            "Name": name,
            "AttributeDataType": data_type,
            "DeveloperOnlyAttribute": False,
            "Mutable": name != "sub",
            "Required": name == "sub" or name in required,
        }
        if data_type == "String":
            low, high = {"sub": ("1", "2048"), "birthdate": ("10", "10")}.get(name, ("0", "2048"))
            entry["StringAttributeConstraints"] = {"MinLength": low, "MaxLength": high}
        elif data_type == "Number":
            entry["NumberAttributeConstraints"] = {"MinValue": "0"}
        attributes.append(entry)
    for custom in pool.custom_attributes.all():
        entry = {
            "Name": custom.full_name,
            "AttributeDataType": custom.data_type,
            "DeveloperOnlyAttribute": custom.developer_only,
            "Mutable": custom.mutable,
            "Required": False,
        }
        if custom.data_type == CustomAttribute.DataType.STRING:
            entry["StringAttributeConstraints"] = wire.compact(
                {
                    "MinLength": None if custom.min_length is None else str(custom.min_length),
                    "MaxLength": None if custom.max_length is None else str(custom.max_length),
                }
            )
        elif custom.data_type == CustomAttribute.DataType.NUMBER:
            entry["NumberAttributeConstraints"] = wire.compact(
                {
                    "MinValue": None if custom.min_value is None else str(custom.min_value),
                    "MaxValue": None if custom.max_value is None else str(custom.max_value),
                }
            )
        attributes.append(entry)
    return attributes


def arn(pool: UserPool) -> str:
    return f"arn:aws:cognito-idp:{pool.region}:{wire.ACCOUNT_ID}:userpool/{pool.id}"


def describe(pool: UserPool) -> dict[str, Any]:
    """The pool as Cognito's UserPoolType."""
    email_configuration = {"EmailSendingAccount": "COGNITO_DEFAULT"}
    if pool.email_from:
        email_configuration["From"] = pool.email_from
    domains = domain_selectors.of_pool(pool)
    return wire.compact(
        {
            "Id": pool.id,
            "Name": pool.name,
            "Arn": arn(pool),
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": pool.password_min_length,
                    "RequireUppercase": pool.password_require_uppercase,
                    "RequireLowercase": pool.password_require_lowercase,
                    "RequireNumbers": pool.password_require_numbers,
                    "RequireSymbols": pool.password_require_symbols,
                    "TemporaryPasswordValidityDays": pool.temporary_password_validity_days,
                },
                "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]},
            },
            "DeletionProtection": "ACTIVE" if pool.deletion_protection else "INACTIVE",
            "LambdaConfig": trigger_config.lambda_config(pool),
            "LastModifiedDate": wire.epoch(pool.updated_at),
            "CreationDate": wire.epoch(pool.created_at),
            "SchemaAttributes": _schema_attributes(pool),
            "AutoVerifiedAttributes": pool.auto_verified_attributes or None,
            "AliasAttributes": pool.alias_attributes or None,
            "UsernameAttributes": pool.username_attributes or None,
            "SmsVerificationMessage": pool.verification_sms_message,
            "EmailVerificationMessage": pool.verification_email_message,
            "EmailVerificationSubject": pool.verification_email_subject,
            "VerificationMessageTemplate": {
                "SmsMessage": pool.verification_sms_message,
                "EmailMessage": pool.verification_email_message,
                "EmailSubject": pool.verification_email_subject,
                "DefaultEmailOption": "CONFIRM_WITH_CODE",
            },
            "SmsAuthenticationMessage": pool.mfa_message,
            "MfaConfiguration": pool.mfa_configuration,
            "EstimatedNumberOfUsers": pool.users.count(),
            "EmailConfiguration": email_configuration,
            "AdminCreateUserConfig": {
                "AllowAdminCreateUserOnly": not pool.allow_self_sign_up,
                "UnusedAccountValidityDays": pool.temporary_password_validity_days,
                "InviteMessageTemplate": {
                    "EmailMessage": pool.invitation_email_message,
                    "EmailSubject": pool.invitation_email_subject,
                },
            },
            "UsernameConfiguration": {"CaseSensitive": pool.case_sensitive},
            "DeviceConfiguration": (
                {
                    "ChallengeRequiredOnNewDevice": pool.device_challenge_required_on_new_device,
                    "DeviceOnlyRememberedOnUserPrompt": pool.device_only_remembered_on_user_prompt,
                }
                if pool.track_devices
                else None
            ),
            "Domain": domains["prefix"].domain if "prefix" in domains else None,
            "CustomDomain": domains["custom"].domain if "custom" in domains else None,
            "AccountRecoverySetting": {
                "RecoveryMechanisms": [
                    {"Priority": index, "Name": name}
                    for index, name in enumerate(pool.account_recovery, start=1)
                ]
            },
        }
    )


@action("CreateUserPool", auth=Auth.SIGV4)
def create_user_pool(call: Call) -> dict[str, Any]:
    params = call.params
    settings = pool_settings(params)
    settings.update(
        {k: v for k, v in API_POOL_DEFAULTS.items() if k not in settings},
    )
    for member, field in (
        ("AliasAttributes", "alias_attributes"),
        ("UsernameAttributes", "username_attributes"),
    ):
        if member in params:
            settings[field] = params[member]
    if "UsernameConfiguration" in params:
        settings["case_sensitive"] = params["UsernameConfiguration"]["CaseSensitive"]
    required, custom = _schema(params.get("Schema") or [])
    settings["required_attributes"] = required
    settings["custom_attributes"] = custom
    if call.region:  # the SigV4 scope's region, as Cognito's ids carry the serving region
        settings["region"] = call.region
    with wire.in_api_terms(FIELD_NAMES):
        # Checked before the pool is made, so that a bad LambdaConfig creates nothing.
        trigger_config.parse_lambda_config(params.get("LambdaConfig"))
        with transaction.atomic():
            pool = pools.create_pool(**settings)
            trigger_config.replace_all(pool=pool, config=params.get("LambdaConfig"))
    return {"UserPool": describe(pool)}


@action("DescribeUserPool", auth=Auth.SIGV4)
def describe_user_pool(call: Call) -> dict[str, Any]:
    return {"UserPool": describe(wire.get_pool(call.params["UserPoolId"]))}


@action("GetSigningCertificate", auth=Auth.SIGV4)
def get_signing_certificate(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    return {"Certificate": keys.signing_certificate(pool)}


@action("ListUserPools", auth=Auth.SIGV4)
def list_user_pools(call: Call) -> dict[str, Any]:
    rows, token = wire.page(
        UserPool.objects.all(),
        key="id",
        limit=call.params["MaxResults"],
        token=call.params.get("NextToken"),
        purpose="ListUserPools",
    )
    listed = [
        {
            "Id": pool.id,
            "Name": pool.name,
            "LambdaConfig": trigger_config.lambda_config(pool),
            "LastModifiedDate": wire.epoch(pool.updated_at),
            "CreationDate": wire.epoch(pool.created_at),
        }
        for pool in rows
    ]
    return wire.compact({"UserPools": listed, "NextToken": token})


# CreateUserPool's members that UpdateUserPool takes too (Cognito refuses changing them): given,
# each is a pool change (pool/services/pool_changes.py) that migrates the users with it; left
# out, each stays as it is. Beyond Cognito's model: CognateSchemaChanges removes and renames
# custom attributes, and CognateDryRun answers the change's report and changes nothing.
CHANGE_MEMBERS = ("AliasAttributes", "UsernameAttributes", "UsernameConfiguration", "Schema")
SCHEMA_CHANGES = "CognateSchemaChanges"
DRY_RUN = "CognateDryRun"
REPORT = "CognatePoolChange"


def _names(value: Any, member: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and isinstance(item.get("Name"), str) for item in value
    ):
        raise InvalidParameterException(
            f"{member} must be a list of objects with a Name.", field=member
        )
    for item in value:
        unknown = set(item) - {"Name", *keys}
        if unknown:
            raise InvalidParameterException(
                f"{member} does not take {', '.join(sorted(unknown))}.", field=member
            )
    return value


def pool_change(pool: UserPool, params: dict[str, Any]) -> pool_changes.PoolChange | None:
    """The pool change an UpdateUserPool request asks for, or None when it asks for none."""
    extra = params.get(SCHEMA_CHANGES)
    if not any(params.get(m) is not None for m in CHANGE_MEMBERS) and extra is None:
        return None
    shapes.validate_borrowed("CreateUserPool", params, CHANGE_MEMBERS)
    values: dict[str, Any] = {}
    if params.get("AliasAttributes") is not None:
        values["alias_attributes"] = params["AliasAttributes"]
    if params.get("UsernameAttributes") is not None:
        values["username_attributes"] = params["UsernameAttributes"]
    if params.get("UsernameConfiguration") is not None:
        values["case_sensitive"] = params["UsernameConfiguration"].get("CaseSensitive")
    if params.get("Schema") is not None:
        required, custom = _schema(params["Schema"])
        values["required_attributes"] = required
        declared = {a.full_name for a in pool.custom_attributes.all()}
        for definition in custom:
            name = definition["name"]
            if name not in declared and f"custom:{name}" not in declared:
                raise InvalidParameterException(
                    f"{name} is not in the pool's schema: add it with AddCustomAttributes.",
                    field="Schema",
                )
    if extra is not None:
        if not isinstance(extra, dict):
            raise InvalidParameterException(
                f"{SCHEMA_CHANGES} must be an object.", field=SCHEMA_CHANGES
            )
        removes = _names(extra.get("RemoveAttributes"), "RemoveAttributes", ("KeepValues",))
        renames = _names(extra.get("RenameAttributes"), "RenameAttributes", ("NewName",))
        values["remove_attributes"] = {
            item["Name"]: pool_changes.KEEP if item.get("KeepValues") is True else pool_changes.DROP
            for item in removes
        }
        values["rename_attributes"] = {item["Name"]: item.get("NewName") for item in renames}
    with wire.in_api_terms(FIELD_NAMES):
        return pool_changes.PoolChange.of(**values)


def report(result: pool_changes.Report) -> dict[str, Any]:
    """A pool change's report in the API's terms."""
    return {
        "Applied": result.applied,
        "Users": result.users,
        "Changes": [
            {"Setting": FIELD_NAMES.get(name, name), "Before": before, "After": after}
            for name, before, after in result.changes
        ],
        "Problems": [
            wire.compact(
                {
                    "Kind": p.kind,
                    "Username": p.username,
                    "Attribute": p.attribute,
                    "Other": p.other or None,
                    "Value": p.value or None,
                    "Blocking": p.blocking,
                }
            )
            for p in result.problems
        ],
    }


@action("UpdateUserPool", auth=Auth.SIGV4)
def update_user_pool(call: Call) -> dict[str, Any]:
    """Cognito's UpdateUserPool, and (see CHANGE_MEMBERS) the changes Cognito refuses."""
    pool = wire.get_pool(call.params["UserPoolId"])
    change = pool_change(pool, call.params)
    if call.params.get(DRY_RUN) is True:
        planned_change = change or pool_changes.PoolChange()
        if call.params.get("PoolName") is not None:
            planned_change = dataclasses.replace(planned_change, name=call.params["PoolName"])
        with wire.in_api_terms(FIELD_NAMES):
            planned = pool_changes.plan(pool=pool, change=planned_change)
        return {REPORT: report(planned)}
    if call.params.get(DRY_RUN) not in (None, False):
        raise InvalidParameterException(f"{DRY_RUN} must be true or false.", field=DRY_RUN)
    changes = pool_settings(call.params)
    applied = None
    with wire.in_api_terms(FIELD_NAMES):
        # UpdateUserPool replaces the whole LambdaConfig, as in Cognito: an omitted one clears it.
        trigger_config.parse_lambda_config(call.params.get("LambdaConfig"))
        with transaction.atomic():
            if change is not None:
                applied = pool_changes.apply(pool=pool, change=change)
            pools.update_pool(pool=pool, **changes)
            trigger_config.replace_all(pool=pool, config=call.params.get("LambdaConfig"))
    return {REPORT: report(applied)} if applied is not None else {}


@action("DeleteUserPool", auth=Auth.SIGV4)
def delete_user_pool(call: Call) -> dict[str, Any]:
    pool = wire.get_pool(call.params["UserPoolId"])
    with wire.in_api_terms(FIELD_NAMES):
        pools.delete_pool(pool=pool)
    return {}


# Field names of `pools.add_custom_attribute`, as AddCustomAttributes names them.
CUSTOM_ATTRIBUTE_FIELDS = {
    "name": "Name",
    "data_type": "AttributeDataType",
    "mutable": "Mutable",
    "developer_only": "DeveloperOnlyAttribute",
    "required": "Required",
    "min_length": "StringAttributeConstraints.MinLength",
    "max_length": "StringAttributeConstraints.MaxLength",
    "min_value": "NumberAttributeConstraints.MinValue",
    "max_value": "NumberAttributeConstraints.MaxValue",
    "custom_attributes": "CustomAttributes",
}


@action("AddCustomAttributes", auth=Auth.SIGV4)
def add_custom_attributes(call: Call) -> dict[str, Any]:
    """Each name becomes `custom:<name>` (a `custom:` prefix given is the same name), as in
    Cognito; standard attribute names are custom names here too."""
    pool = wire.get_pool(call.params["UserPoolId"])
    definitions = [custom_attribute(entry) for entry in call.params["CustomAttributes"]]
    with wire.in_api_terms(CUSTOM_ATTRIBUTE_FIELDS):
        pools.add_custom_attributes(pool=pool, definitions=definitions)
    return {}
