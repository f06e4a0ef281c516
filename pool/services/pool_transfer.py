"""Whole-pool export and import: one pool, with everything its users and apps rely on, moved to
another Cognate server (or back into this one) so that users sign in unchanged, with the same
`sub` and the same tokens' claims.

The document is JSON, `{"format": "cognate-pool", "version": 1, ...}`, described by the JSON
Schema in `pool/schemas/pool-export.schema.json` and checked against it before anything is read.
It holds the pool's settings (every column of the pool row), custom attributes, domains,
triggers, resource servers, groups, app clients (ids kept), hosted-page brandings, identity
providers, signing keys, the SAML service provider's key pair, and the users with their
attributes, status, `sub`, password hash, SRP verifier, MFA settings, authenticator apps, tracked
devices, federated links, retired attribute values and group memberships.

Secrets (client secrets, signing keys, password hashes, SRP verifiers, TOTP seeds, device
verifiers, trigger secrets, identity-provider secrets, the SAML key) are decrypted from this
server's COGNATE_ENCRYPTION_KEYS and sealed with the operator's export passphrase (`pool.sealing`:
scrypt + AES-256-GCM); the whole document carries an HMAC under the same passphrase, so a
changed file is refused. The importing server opens them with the passphrase and encrypts them
under its own keys. Nothing secret is ever written in plain text.

Signing keys travel (unless the export leaves them out): the importing server signs with the
same key, so tokens issued before the move keep verifying against its JWKS and an app that
pinned the JWKS notices nothing. An export without them gets a fresh key on first use.

Not moved: sessions, refresh tokens, codes and events (users sign in again), consumed SAML
assertion ids (replay protection for assertions that expire within minutes), the audit log.

Each table is exported column by column from the model, so a setting added to a model later
moves without a change here; an import refuses a field this server does not know. A new table
that belongs to a pool must be added here or named as staying behind (a test checks), and
scripts/pool_export_schema.py rewrites the schema after a model change (a test checks that too).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, models, transaction

from pool import clock, crypto, sealing, triggers
from pool.errors import CognitoError, InvalidParameterException
from pool.models import (
    AppClient,
    Branding,
    CustomAttribute,
    Device,
    FederatedIdentity,
    Group,
    IdentityProvider,
    ResourceServer,
    RetiredAttributeValue,
    SamlServiceProviderKey,
    SigningKey,
    TotpDevice,
    Trigger,
    User,
    UserPool,
    UserPoolDomain,
)
from pool.services import pools
from pool.services import users as user_services

FORMAT = "cognate-pool"
VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "pool-export.schema.json"

# How a secret column is held in the database: "crypto" columns hold `crypto.encrypt` text
# (decrypted for export, encrypted again on import); "plain" columns are plain in Python (an
# EncryptedTextField, or a password hash) and are only sealed in the export.
CRYPTO, PLAIN = "crypto", "plain"


@dataclass(frozen=True)
class Table:
    """How one model travels: the key it has in the document, the columns left out (the row's
    own id and its parents, which the document's nesting gives), and its secret columns."""

    key: str
    model: type[models.Model]
    skip: frozenset[str] = frozenset()
    secrets: tuple[tuple[str, str], ...] = ()

    def fields(self) -> list[models.Field]:
        left_out = {"pool", "user", *self.skip}
        return [
            f
            for f in self.model._meta.concrete_fields
            if f.name not in left_out and not isinstance(f, models.AutoField)
        ]


# config_version is this server's cache stamp for the pool (pool.selectors.pools), not data: the
# importing server makes its own.
POOL = Table("pool", UserPool, skip=frozenset({"config_version"}))
CUSTOM_ATTRIBUTES = Table("custom_attributes", CustomAttribute)
DOMAINS = Table("domains", UserPoolDomain)
TRIGGERS = Table("triggers", Trigger, secrets=(("secret", PLAIN), ("code_key", PLAIN)))
RESOURCE_SERVERS = Table("resource_servers", ResourceServer)
GROUPS = Table("groups", Group)
APP_CLIENTS = Table("app_clients", AppClient, secrets=(("secret", CRYPTO),))
IDENTITY_PROVIDERS = Table(
    "identity_providers", IdentityProvider, secrets=(("secret_details", PLAIN),)
)
SIGNING_KEYS = Table("signing_keys", SigningKey, secrets=(("private_key", CRYPTO),))
# The SAML service provider's key pair: IdPs were given its certificate.
SAML_SP_KEYS = Table("saml_sp_keys", SamlServiceProviderKey, secrets=(("private_key", CRYPTO),))
# username_key is derived from the username on save; the other sign-in keys are state (set
# while the name may be used to sign in) and travel as they are.
USERS = Table(
    "users",
    User,
    skip=frozenset({"username_key"}),
    secrets=(("password", PLAIN), ("srp_verifier", CRYPTO)),
)
TOTP_DEVICES = Table("totp_devices", TotpDevice, secrets=(("secret", CRYPTO),))
DEVICES = Table("devices", Device, secrets=(("salt", CRYPTO), ("verifier", CRYPTO)))
FEDERATED_IDENTITIES = Table("federated_identities", FederatedIdentity)
# Values of custom attributes removed from the schema with "keep values".
RETIRED_VALUES = Table("retired_values", RetiredAttributeValue)
# Hosted-page branding of the pool and its app clients (after app_clients: a row names its
# client by id). Images travel as base64; the row gets a new id on import.
BRANDINGS = Table("brandings", Branding, skip=frozenset({"id"}))

POOL_TABLES = (
    CUSTOM_ATTRIBUTES,
    DOMAINS,
    TRIGGERS,
    RESOURCE_SERVERS,
    GROUPS,
    APP_CLIENTS,
    BRANDINGS,
    IDENTITY_PROVIDERS,
    SIGNING_KEYS,
    SAML_SP_KEYS,
)
USER_TABLES = (TOTP_DEVICES, DEVICES, FEDERATED_IDENTITIES, RETIRED_VALUES)
_LOOKUP_BATCH = 500
# The document's lists, as the doors count them.
COUNTED = (*(table.key for table in POOL_TABLES), USERS.key)
# Lists added to version 1 after its first files were written: a document without one is read
# as if it were empty, so those files still import.
OPTIONAL_LISTS = frozenset({BRANDINGS.key})


@dataclass(frozen=True)
class ImportResult:
    pool_id: str
    counts: dict[str, int]


# --------------------------------------------------------------------------------------------
# Rows <-> JSON values


def _to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()  # BinaryField.clean reads it back
    return value


def _row(table: Table, obj: models.Model, sealer: sealing.Sealer) -> dict[str, Any]:
    secrets = dict(table.secrets)
    row = {}
    for f in table.fields():
        value = f.value_from_object(obj)
        kind = secrets.get(f.name)
        if kind == CRYPTO and value:
            value = sealer.seal(crypto.decrypt(value))
        elif kind == PLAIN:
            value = sealer.seal(value or "")
        row[f.attname] = _to_json(value)
    return row


# --------------------------------------------------------------------------------------------
# Export


def export_pool(
    *, pool: UserPool, passphrase: str, with_signing_keys: bool = True
) -> dict[str, Any]:
    """The whole pool as a sealed `cognate-pool` document (a dict ready for `json.dump`)."""
    check_passphrase(passphrase)
    sealer = sealing.Sealer.derive(passphrase)
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _to_json(clock.now()),
        "protection": sealer.protection(),
        "pool": _row(POOL, pool, sealer),
    }
    for table in POOL_TABLES:
        if table is SIGNING_KEYS and not with_signing_keys:
            document[table.key] = []
            continue
        rows = table.model.objects.filter(pool=pool).order_by("pk")
        document[table.key] = [_row(table, obj, sealer) for obj in rows]
    document["users"] = list(_user_rows(pool, sealer))
    document["mac"] = sealer.sign(document)
    return document


def _user_rows(pool: UserPool, sealer: sealing.Sealer) -> Iterable[dict[str, Any]]:
    related = {table.key: _related_name(table) for table in USER_TABLES}
    query = (
        User.objects.filter(pool=pool).order_by("pk").prefetch_related("groups", *related.values())
    )
    for user in query.iterator(chunk_size=1000):
        row = _row(USERS, user, sealer)
        row["groups"] = sorted(group.name for group in user.groups.all())
        for table in USER_TABLES:
            items = sorted(getattr(user, related[table.key]).all(), key=_pk)
            row[table.key] = [_row(table, item, sealer) for item in items]
        yield row


def _related_name(table: Table) -> str:
    """The name a user reaches this table's rows by (the `user` foreign key's related name)."""
    return table.model._meta.get_field("user").remote_field.related_name


def _pk(obj: models.Model) -> Any:
    return obj.pk


def check_passphrase(passphrase: str) -> None:
    if len(passphrase or "") < sealing.MIN_PASSPHRASE_CHARS:
        raise InvalidParameterException(
            f"The export passphrase must be at least {sealing.MIN_PASSPHRASE_CHARS} characters.",
            field="passphrase",
        )


# --------------------------------------------------------------------------------------------
# Import


@cache
def schema() -> dict[str, Any]:
    """The published JSON Schema of the document."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_document(document: Any) -> None:
    """Refuse a document that is not a `cognate-pool` export this server reads, naming where."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidParameterException(
            f'This is not a Cognate pool export (its "format" must be "{FORMAT}").',
            field="document",
        )
    if document.get("version") != VERSION:
        raise InvalidParameterException(
            f"This server reads version {VERSION} of the pool export format, not "
            f"{document.get('version')!r}.",
            field="document",
        )
    where = _nul_path(document)
    if where is not None:
        raise InvalidParameterException(
            f"The export holds a NUL character at {where or '(a key)'}: no value may.",
            field="document",
        )
    import jsonschema  # noqa: PLC0415 (about 2 MB a worker; only imports and exports need it)

    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(the document)"
        raise InvalidParameterException(
            f"The export does not match its schema at {where}: {error.message}", field="document"
        )


def _nul_path(value: Any, path: str = "") -> str | None:
    """Where the first string (key or value) holding U+0000 is, or None. PostgreSQL cannot
    store one, and no door lets one in."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return where
                stack.append((child, f"{where}/{key}".lstrip("/")))
        elif isinstance(item, list):
            stack.extend((child, f"{where}/{i}".lstrip("/")) for i, child in enumerate(item))
    return None


def read_document(text: str | bytes) -> dict[str, Any]:
    """Parse an export file's text (the doors' one way in)."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidParameterException(
            f"The export is not JSON ({exc}).", field="document"
        ) from None
    except RecursionError:
        raise InvalidParameterException(
            "The export nests deeper than any pool export does.", field="document"
        ) from None
    validate_document(document)
    return document


def import_pool(
    *, document: dict[str, Any], passphrase: str, with_domains: bool = True
) -> ImportResult:
    """Create the pool of a sealed export, in one transaction: all of it, or nothing. The pool
    keeps its id (the issuer, and so the tokens' `iss`, contain it), its clients their ids and
    its users their `sub`; secrets are encrypted under this server's keys. A pool id, client
    id, signing key, domain or `sub` that already exists here refuses the whole import."""
    validate_document(document)
    try:
        sealer = sealing.Sealer.for_document(passphrase, document["protection"])
        sealer.verify(document)
    except sealing.SealError as error:
        raise InvalidParameterException(str(error), field="passphrase") from None
    try:
        with transaction.atomic():
            pool = _import(document, sealer, with_domains=with_domains)
    except DataError:
        raise InvalidParameterException(
            "A value in the export is one this database cannot store; nothing was imported.",
            field="document",
        ) from None
    except IntegrityError:
        # Checked above, but a parallel import (or a pool, client or key made meanwhile)
        # committed first: the database's unique keys refuse the second writer.
        raise InvalidParameterException(
            "Part of this pool (its id, a client id, a signing key, a domain or a user's sub) "
            "was created on this server while the import ran; nothing was imported.",
            field="document",
        ) from None
    # Caches keyed by the pool id may remember a pool of this id deleted before the import.
    from pool.services import keys

    keys.forget(pool.pk)
    transaction.on_commit(lambda: keys.forget(pool.pk))  # when a caller's transaction commits
    counts = {key: len(document.get(key, [])) for key in COUNTED}
    if not with_domains:
        counts[DOMAINS.key] = 0
    return ImportResult(pool_id=pool.pk, counts=counts)


def _import(document: dict[str, Any], sealer: sealing.Sealer, *, with_domains: bool) -> UserPool:
    stamps = _Stamps()
    pool_id = document["pool"]["id"]
    if UserPool.objects.filter(pk=pool_id).exists():
        raise InvalidParameterException(
            f"A user pool with id {pool_id} already exists on this server; delete it first "
            "(the id is kept: the issuer, and so every token's iss, contains it).",
            field="pool.id",
        )
    _refuse_taken(AppClient, "client_id", document[APP_CLIENTS.key], "app_clients", "client id")
    _refuse_taken(SigningKey, "kid", document[SIGNING_KEYS.key], "signing_keys", "signing key")
    if with_domains:
        _refuse_taken(UserPoolDomain, "domain", document[DOMAINS.key], "domains", "domain")
    _refuse_taken(User, "sub", document["users"], "users", "user sub")

    pool = _build(POOL, document["pool"], sealer, "pool")
    try:
        pools.check_settings(pool, {})
    except CognitoError as error:
        raise InvalidParameterException(
            f"pool/{error.field}: {error.message}", field="document"
        ) from None
    pool.save(force_insert=True)
    stamps.keep(POOL, pool, document["pool"])
    for table in POOL_TABLES:
        if table is DOMAINS and not with_domains:
            continue
        for index, row in enumerate(document.get(table.key, [])):
            obj = _build(table, row, sealer, f"{table.key}/{index}", pool=pool)
            obj.save(force_insert=True)
            stamps.keep(table, obj, row)

    triggers.forget_configuration(pool)
    groups = {group.name: group for group in Group.objects.filter(pool=pool)}
    for index, row in enumerate(document["users"]):
        where = f"users/{index}"
        nested = {key: row[key] for key in ("groups", *(t.key for t in USER_TABLES)) if key in row}
        fields = {key: value for key, value in row.items() if key not in nested}
        user = _build(USERS, fields, sealer, where, pool=pool)
        user_services.save(user)  # claims its sign-in names: a duplicate refuses the import
        stamps.keep(USERS, user, fields)
        for name in nested.get("groups", []):
            group = groups.get(name)
            if group is None:
                raise InvalidParameterException(
                    f"{where}/groups names {name!r}, which is not one of the export's groups.",
                    field="document",
                )
            user.groups.add(group)
        for table in USER_TABLES:
            for position, item in enumerate(nested.get(table.key, [])):
                parents = {"user": user}
                if any(f.name == "pool" for f in table.model._meta.concrete_fields):
                    parents["pool"] = pool
                obj = _build(table, item, sealer, f"{where}/{table.key}/{position}", **parents)
                obj.save(force_insert=True)
                stamps.keep(table, obj, item)
    stamps.restore()
    return pool


def _refuse_taken(
    model: type[models.Model], column: str, rows: list[dict], key: str, noun: str
) -> None:
    values = [row[column] for row in rows if column in row]
    if len(set(values)) != len(values):
        raise InvalidParameterException(f"The export repeats a {noun} in {key}.", field="document")
    taken = []
    for start in range(0, len(values), _LOOKUP_BATCH):  # SQLite bounds a query's parameters
        batch = values[start : start + _LOOKUP_BATCH]
        taken += model.objects.filter(**{f"{column}__in": batch}).values_list(column, flat=True)
        if taken:
            break
    if taken:
        raise InvalidParameterException(
            f"This server already has {noun} {taken[0]} (in another pool): the import would "
            "take it over. Delete it first, or import into a server without it.",
            field="document",
        )


def _build(
    table: Table, row: dict[str, Any], sealer: sealing.Sealer, where: str, **parents: Any
) -> models.Model:
    """An unsaved row from its document object: every key a known column, every value checked
    by the model field (type, length, choices), secrets opened and encrypted for this server."""
    fields = {f.attname: f for f in table.fields()}
    unknown = sorted(set(row) - set(fields))
    if unknown:
        raise InvalidParameterException(
            f"{where} has {', '.join(unknown)}, which this server does not know.",
            field="document",
        )
    secrets = dict(table.secrets)
    obj = table.model(**parents)
    for name, value in row.items():
        f = fields[name]
        kind = secrets.get(f.name)
        try:
            if kind is not None:
                plain = sealer.open(value)
                value = crypto.encrypt(plain) if kind == CRYPTO and plain else plain
            value = f.clean(value, obj)  # type, length, range, choices, null and blank
        except sealing.SealError as error:
            raise InvalidParameterException(f"{where}/{name}: {error}", field="document") from None
        except ValidationError as error:
            raise InvalidParameterException(
                f"{where}/{name}: {' '.join(error.messages)}", field="document"
            ) from None
        setattr(obj, name, value)
    return obj


class _Stamps:
    """The rows' own created/updated times (saving sets auto_now fields to now), put back once
    every row exists: one UPDATE per model and batch rather than one per row."""

    def __init__(self) -> None:
        self.pending: dict[tuple[type[models.Model], tuple[str, ...]], list] = defaultdict(list)

    def keep(self, table: Table, obj: models.Model, row: dict[str, Any]) -> None:
        names = tuple(
            f.attname
            for f in table.fields()
            if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
            and f.attname in row
        )
        for name in names:
            setattr(obj, name, table.model._meta.get_field(name).to_python(row[name]))
        if names:
            self.pending[(table.model, names)].append(obj)

    def restore(self) -> None:
        for (model, names), rows in self.pending.items():
            model.objects.bulk_update(rows, names, batch_size=500)
