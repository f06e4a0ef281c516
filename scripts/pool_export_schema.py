"""Write pool/schemas/pool-export.schema.json, the published JSON Schema of a whole-pool export
(pool/services/pool_transfer.py), from the models the export reads column by column.

    .venv/bin/python scripts/pool_export_schema.py

Run after adding a column to a model the export carries, so that the schema describes it (the
schema admits columns it does not list, and an importing server refuses one it does not know).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import models  # noqa: E402

from pool import sealing  # noqa: E402
from pool.services import pool_transfer as transfer  # noqa: E402

# Columns each record must have: what an importer cannot default.
REQUIRED = {
    "pool": ["id", "name"],
    "custom_attributes": ["name"],
    "domains": ["domain", "kind"],
    "triggers": ["kind", "transport", "target"],
    "resource_servers": ["identifier", "name"],
    "groups": ["name"],
    "app_clients": ["client_id", "name"],
    "brandings": [],
    "identity_providers": ["provider_name", "provider_type"],
    "signing_keys": ["kid", "private_key", "public_jwk", "status"],
    "saml_sp_keys": ["private_key", "certificate"],
    "users": ["username", "sub", "status"],
    "totp_devices": ["secret"],
    "devices": ["key", "group_key"],
    "federated_identities": ["provider_name", "subject"],
    "retired_values": ["name", "value"],
}
PATTERNS = {
    ("pool", "id"): r"^[\w-]+_[0-9a-zA-Z]+$",
    ("app_clients", "client_id"): r"^[A-Za-z0-9]+$",
}
DEFS = {
    "sealed": {
        "description": "A secret sealed with the export passphrase: 'sealed:' then "
        "base64url(nonce | AES-256-GCM ciphertext | tag); '' when there is none.",
        "type": "string",
        "pattern": "^(sealed:[A-Za-z0-9_-]+)?$",
    },
    "datetime": {
        "description": "ISO 8601 with its UTC offset.",
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
    },
    "uuid": {
        "type": "string",
        "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    },
}


def column(table: transfer.Table, field: models.Field) -> dict:
    if field.name in dict(table.secrets):
        return {"$ref": "#/$defs/sealed"}
    if isinstance(field, models.DateTimeField):
        stamp = {"$ref": "#/$defs/datetime"}
        return {"anyOf": [stamp, {"type": "null"}]} if field.null else stamp
    if isinstance(field, models.UUIDField):
        return {"$ref": "#/$defs/uuid"}
    if isinstance(field, models.BooleanField):
        schema: dict = {"type": "boolean"}
    elif isinstance(field, models.IntegerField):
        schema = {"type": "integer"}
        if isinstance(field, models.PositiveIntegerField | models.PositiveSmallIntegerField):
            schema["minimum"] = 0
    elif isinstance(field, models.JSONField):
        default = field.default() if callable(field.default) else field.default
        schema = {"type": "array"} if isinstance(default, list) else {"type": "object"}
    else:
        schema = {"type": "string"}
        if field.max_length:
            schema["maxLength"] = field.max_length
        if field.choices:
            schema["enum"] = [value for value, _ in field.choices]
    if field.null:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"].append(None)
    return schema


def record(table: transfer.Table, extra: dict | None = None) -> dict:
    properties = {field.attname: column(table, field) for field in table.fields()}
    for (key, name), pattern in PATTERNS.items():
        if key == table.key:
            properties[name]["pattern"] = pattern
    properties.update(extra or {})
    return {
        "type": "object",
        "required": REQUIRED[table.key],
        "properties": properties,
        "additionalProperties": True,
    }


def build() -> dict:
    defs = dict(DEFS)
    for table in (transfer.POOL, *transfer.POOL_TABLES, *transfer.USER_TABLES):
        defs[table.key] = record(table)
    nested = {
        "groups": {
            "description": "Names of the pool's groups the user is in.",
            "type": "array",
            "items": {"type": "string"},
            "uniqueItems": True,
        },
        **{
            table.key: {"type": "array", "items": {"$ref": f"#/$defs/{table.key}"}}
            for table in transfer.USER_TABLES
        },
    }
    defs["users"] = record(transfer.USERS, nested)
    lists = [table.key for table in transfer.POOL_TABLES]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://cognate.invalid/schemas/pool-export.schema.json",
        "title": f"Cognate whole-pool export, version {transfer.VERSION}",
        "description": "One user pool with its settings, schema, clients, groups, identity "
        "providers, signing keys and users. Each record is a model row, column by column; a "
        "server refuses a column it does not know. Secrets are sealed with the export "
        "passphrase (see protection); mac is HMAC-SHA256 under the same passphrase over the "
        "document without mac, serialised with sorted keys, no spaces, UTF-8. Generated by "
        "scripts/pool_export_schema.py.",
        "type": "object",
        "required": ["format", "version", "exported_at", "protection", "pool"]
        + [key for key in lists if key not in transfer.OPTIONAL_LISTS]
        + ["users"]
        + ["mac"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": transfer.FORMAT},
            "version": {"const": transfer.VERSION},
            "exported_at": {"$ref": "#/$defs/datetime"},
            "protection": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kdf", "salt", "n", "r", "p", "cipher", "mac", "check"],
                "properties": {
                    "kdf": {"const": sealing.KDF},
                    "salt": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,}$"},
                    "n": {
                        "type": "integer",
                        "minimum": 2**sealing.MIN_LOG_N,
                        "maximum": 2**sealing.MAX_LOG_N,
                    },
                    "r": {"const": sealing.R},
                    "p": {"const": sealing.P},
                    "cipher": {"const": sealing.CIPHER},
                    "mac": {"const": sealing.MAC},
                    "check": {
                        "description": "HMAC-SHA256 of a fixed label under the passphrase's "
                        "key: tells a wrong passphrase from an altered document.",
                        "type": "string",
                        "pattern": "^[0-9a-f]{64}$",
                    },
                },
            },
            "pool": {"$ref": "#/$defs/pool"},
            **{key: {"type": "array", "items": {"$ref": f"#/$defs/{key}"}} for key in lists},
            "users": {"type": "array", "items": {"$ref": "#/$defs/users"}},
            "mac": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
        "$defs": defs,
    }


if __name__ == "__main__":
    transfer.SCHEMA_PATH.write_text(json.dumps(build(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {transfer.SCHEMA_PATH.relative_to(ROOT)}")
