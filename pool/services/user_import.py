"""Moving users in and out of a pool as CSV, in Cognito's user-import format.

The header is GetCSVHeader's columns plus the pool's `custom:` attributes (Cognito's format,
first), then `cognate:` columns for what Cognito's format cannot carry, so that an export
imported into a fresh pool (or after the users were deleted) gives back the same users:

    cognate:sub, cognate:status, cognate:enabled   the user's id, UserStatus and enabled flag
    cognate:groups                                 group names, space separated (made if missing)
    cognate:mfa, cognate:preferred_mfa             enabled MFA methods (space separated), preferred
    cognate:temporary_password_expires_at          ISO 8601, for FORCE_CHANGE_PASSWORD users
    cognate:password_hash                          the Django password hash (a secret)
    cognate:totp_secret                            the authenticator seed, base32 (a secret, only
                                                   when asked for explicitly)

A row without `cognate:status` is read as Cognito reads it: users without a hash must reset
their password (RESET_REQUIRED) and need a verified email or phone number; with a hash they are
CONFIRMED and their hash is upgraded to argon2id at their first sign-in (`passwords.verify`).
A row with it keeps its status, unless its password did not travel (RESET_REQUIRED then). A TOTP
user exported without seeds comes back without TOTP: the pool makes them set MFA up again.

Cognito's CSV dialect: no quoting; a literal comma is written `\\,`. We also write `\\\\` for a
backslash and `\\n`, `\\r` for line breaks, so every row is one line and values survive a round
trip. A value a spreadsheet would run as a formula (starting with = + - @, tab or CR, after any
number of `'`) is written with one `'` more in front (OWASP's advice), and import removes exactly
that one, so the round trip stays exact.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.db import transaction
from django.db.models import Prefetch

from pool import crypto
from pool.errors import CognitoError, InvalidParameterException
from pool.models import Group, TotpDevice, User, UserPool, UserStatus
from pool.services import groups as group_services
from pool.services import users

# GetCSVHeader's columns, in its order.
COGNITO_COLUMNS = (
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
    "cognito:mfa_enabled",
    "cognito:username",
)
SUB_COLUMN = "cognate:sub"
STATUS_COLUMN = "cognate:status"
ENABLED_COLUMN = "cognate:enabled"
GROUPS_COLUMN = "cognate:groups"
MFA_COLUMN = "cognate:mfa"
PREFERRED_MFA_COLUMN = "cognate:preferred_mfa"
EXPIRY_COLUMN = "cognate:temporary_password_expires_at"
# What Cognito's format lacks, in this order after Cognito's columns (the secrets come last).
STATE_COLUMNS = (
    SUB_COLUMN,
    STATUS_COLUMN,
    ENABLED_COLUMN,
    GROUPS_COLUMN,
    MFA_COLUMN,
    PREFERRED_MFA_COLUMN,
    EXPIRY_COLUMN,
)
HASH_COLUMN = "cognate:password_hash"
TOTP_COLUMN = "cognate:totp_secret"
# Columns that are not user attributes.
NOT_ATTRIBUTES = (
    "cognito:username",
    "cognito:mfa_enabled",
    *STATE_COLUMNS,
    HASH_COLUMN,
    TOTP_COLUMN,
)
MFA_METHODS = ("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP")
MAX_ROW_CHARS = 16_000
# A cell a spreadsheet would run as a formula, perhaps behind quotes that export added.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_US_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line in the file; the header is line 1
    reason: str


@dataclass(frozen=True)
class ImportResult:
    imported: int
    errors: tuple[RowError, ...]


def csv_header(
    pool: UserPool, *, with_password_hash: bool = True, with_totp_secret: bool = False
) -> list[str]:
    """GetCSVHeader for the pool, then the `cognate:` columns: the user's state, and the
    secrets asked for (the password hash unless told otherwise, TOTP seeds only when asked)."""
    columns = list(COGNITO_COLUMNS)
    columns += sorted(attr.full_name for attr in pool.custom_attributes.all())
    columns += STATE_COLUMNS
    if with_password_hash:
        columns.append(HASH_COLUMN)
    if with_totp_secret:
        columns.append(TOTP_COLUMN)
    return columns


def escape(value: str) -> str:
    """One value for a CSV line: commas, backslashes and line breaks escaped."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("\r", "\\r").replace("\n", "\\n")


def defuse_formula(value: str) -> str:
    """A value that a spreadsheet would run as a formula, with one `'` in front (OWASP)."""
    return "'" + value if _FORMULA.match(value) else value


def restore_formula(value: str) -> str:
    """Undo `defuse_formula`: the one `'` it added, and nothing else."""
    return value[1:] if value.startswith("'") and _FORMULA.match(value) else value


def split_line(line: str) -> list[str]:
    """Split one CSV line on unescaped commas and undo the escapes; values are trimmed."""
    fields, current, chars = [], [], iter(line)
    for ch in chars:
        if ch == "\\":
            following = next(chars, "")
            if following == "n":
                current.append("\n")
            elif following == "r":
                current.append("\r")
            elif following in (",", "\\"):
                current.append(following)
            else:  # a lone backslash stays what it was
                current.append("\\" + following)
        elif ch == ",":
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    fields.append("".join(current).strip())
    return fields


# --------------------------------------------------------------------------------------------
# Export


def _totp_secret(user: User) -> str:
    """The seed of the user's confirmed authenticator (prefetched), or ""."""
    devices = list(user.totp_devices.all())
    return crypto.decrypt(devices[0].secret) if devices else ""


def _export_value(user: User, column: str) -> str:
    if column == "cognito:username":
        return user.username
    if column == "cognito:mfa_enabled":
        return "true" if user.mfa_enabled_methods else "false"
    if column == SUB_COLUMN:
        return str(user.sub)
    if column == STATUS_COLUMN:
        return user.status
    if column == ENABLED_COLUMN:
        return "true" if user.enabled else "false"
    if column == GROUPS_COLUMN:
        return " ".join(sorted(group.name for group in user.groups.all()))
    if column == MFA_COLUMN:
        return " ".join(user.mfa_enabled_methods)
    if column == PREFERRED_MFA_COLUMN:
        return user.preferred_mfa
    if column == EXPIRY_COLUMN:
        expires = user.temporary_password_expires_at
        return expires.astimezone(dt.UTC).isoformat() if expires else ""
    if column == HASH_COLUMN:
        return user.password
    if column == TOTP_COLUMN:
        return _totp_secret(user)
    if column in ("email_verified", "phone_number_verified"):
        return "true" if getattr(user, column) else "false"
    value = user.get_attribute(column)
    if value is None:
        return ""
    value = str(value)
    if column == "birthdate" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        year, month, day = value.split("-")
        return f"{month}/{day}/{year}"
    return value


def export_rows(
    pool: UserPool, *, with_password_hashes: bool = True, with_totp_secrets: bool = False
) -> Iterator[str]:
    """The pool's users as CSV lines (header first), streamed in id order. Password hashes and
    TOTP seeds are secrets: each is written only when asked for."""
    columns = csv_header(
        pool, with_password_hash=with_password_hashes, with_totp_secret=with_totp_secrets
    )
    yield ",".join(columns)
    users = User.objects.filter(pool=pool).order_by("pk").prefetch_related("groups")
    if with_totp_secrets:
        confirmed = TotpDevice.objects.filter(confirmed=True).order_by("-created_at", "-pk")
        users = users.prefetch_related(Prefetch("totp_devices", queryset=confirmed))
    for user in users.iterator(chunk_size=2000):
        yield ",".join(escape(defuse_formula(_export_value(user, column))) for column in columns)


def export_csv(
    pool: UserPool,
    out: IO[str],
    *,
    with_password_hashes: bool = True,
    with_totp_secrets: bool = False,
) -> int:
    """Write the pool's users to `out`; returns how many users were written."""
    lines = 0
    rows = export_rows(
        pool, with_password_hashes=with_password_hashes, with_totp_secrets=with_totp_secrets
    )
    for line in rows:
        out.write(line + "\n")
        lines += 1
    return lines - 1  # the header is not a user


# --------------------------------------------------------------------------------------------
# Import


def _check_header(pool: UserPool, header: list[str]) -> None:
    known = set(csv_header(pool, with_totp_secret=True))
    unknown = [column for column in header if column not in known]
    if unknown:
        raise InvalidParameterException(
            f"Unknown CSV column(s): {', '.join(unknown)}. Columns are those of GetCSVHeader, "
            f"the pool's custom attributes and {', '.join([*STATE_COLUMNS, HASH_COLUMN])}, "
            f"{TOTP_COLUMN}.",
            field="header",
        )
    for required in ("cognito:username", "cognito:mfa_enabled"):
        if required not in header:
            raise InvalidParameterException(
                f"The CSV header must include {required}.", field="header"
            )
    duplicates = {column for column in header if header.count(column) > 1}
    if duplicates:
        raise InvalidParameterException(
            f"The CSV header repeats {', '.join(sorted(duplicates))}.", field="header"
        )


def _boolean(value: str, column: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise InvalidParameterException(f"{column} must be true or false.")
    return lowered == "true"


def _hash(value: str) -> str:
    try:
        hasher = identify_hasher(value)
    except ValueError:
        raise InvalidParameterException(
            f"{HASH_COLUMN} is not a password hash in Django's format."
        ) from None
    path = f"{type(hasher).__module__}.{type(hasher).__name__}"
    if path not in settings.PASSWORD_HASHERS:
        raise InvalidParameterException(
            f"{HASH_COLUMN} uses {hasher.algorithm}, which this server does not accept."
        )
    return value


def _sub(value: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidParameterException(f"{SUB_COLUMN} must be a UUID.") from None


def _status(row: dict[str, str], password_hash: str) -> str:
    """The imported user's status. Cognito's rule for its own format: CONFIRMED with a
    password hash, else RESET_REQUIRED. A Cognate row keeps its status, but a user whose
    password did not travel must reset it."""
    given = row.get(STATUS_COLUMN, "")
    if not given:
        return UserStatus.CONFIRMED if password_hash else UserStatus.RESET_REQUIRED
    if given not in UserStatus.values:
        raise InvalidParameterException(
            f"{STATUS_COLUMN} must be one of {', '.join(UserStatus.values)}."
        )
    if given in (UserStatus.RESET_REQUIRED, UserStatus.EXTERNAL_PROVIDER) or password_hash:
        return given
    return UserStatus.RESET_REQUIRED


def _expiry(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidParameterException(
            f"{EXPIRY_COLUMN} must be an ISO 8601 time with its offset, e.g. "
            "2030-01-31T12:00:00+00:00."
        )
    return moment


def _totp_seed(value: str) -> str:
    try:
        seed = base64.b32decode(value, casefold=True)
    except (binascii.Error, ValueError):
        seed = b""
    if len(seed) < 10:
        raise InvalidParameterException(f"{TOTP_COLUMN} must be a base32 seed of 80 bits or more.")
    return value.upper()


def _mfa_methods(row: dict[str, str], mfa_enabled: bool) -> list[str] | None:
    """The MFA methods a Cognate row lists (None for a row in Cognito's format)."""
    if not row.get(STATUS_COLUMN):
        return None
    methods = row.get(MFA_COLUMN, "").split()
    unknown = [method for method in methods if method not in MFA_METHODS]
    if unknown:
        raise InvalidParameterException(
            f"{MFA_COLUMN} lists {', '.join(unknown)}; methods are {', '.join(MFA_METHODS)}."
        )
    if bool(methods) != mfa_enabled:
        raise InvalidParameterException(
            f"cognito:mfa_enabled must be {'true' if methods else 'false'}: {MFA_COLUMN} "
            f"lists {'methods' if methods else 'none'}."
        )
    return methods


def _apply_mfa(user: User, mfa_enabled: bool, methods: list[str] | None, totp: str) -> None:
    """Turn on the user's MFA methods. Cognito's format says only "MFA on": SMS if the user has a
    phone number, else email codes when the pool offers them. A Cognate row names its methods;
    TOTP comes back only with the authenticator's seed, otherwise the user sets it up again."""
    pool = user.pool
    if methods is None:
        if not mfa_enabled:
            return
        if user.phone_number:
            user.sms_mfa_enabled = True
        elif user.email and "EMAIL_OTP" in (pool.mfa_methods or []):
            user.email_mfa_enabled = True
        else:
            raise InvalidParameterException(
                "cognito:mfa_enabled is true but the user has no phone_number to receive codes."
            )
        return
    for method in methods:
        if method not in (pool.mfa_methods or []):
            raise InvalidParameterException(f"{method} is not enabled for this user pool.")
    if "SMS_MFA" in methods:
        if not user.phone_number:
            raise InvalidParameterException("SMS_MFA needs the user's phone_number.")
        user.sms_mfa_enabled = True
    if "EMAIL_OTP" in methods:
        if not user.email:
            raise InvalidParameterException("EMAIL_OTP needs the user's email.")
        user.email_mfa_enabled = True
    if "SOFTWARE_TOKEN_MFA" in methods and totp:
        user.software_token_mfa_enabled = True


def _import_row(pool: UserPool, row: dict[str, str]) -> None:
    username = row.get("cognito:username", "")
    if not username:
        raise InvalidParameterException("cognito:username is required.")
    mfa_text = row.get("cognito:mfa_enabled", "")
    if not mfa_text:
        raise InvalidParameterException("cognito:mfa_enabled must be true or false.")
    mfa_enabled = _boolean(mfa_text, "cognito:mfa_enabled")
    if mfa_enabled and pool.mfa_configuration == UserPool.Mfa.OFF:
        raise InvalidParameterException("cognito:mfa_enabled is true but the pool's MFA is OFF.")
    if not mfa_enabled and pool.mfa_configuration == UserPool.Mfa.ON:
        raise InvalidParameterException("cognito:mfa_enabled must be true: the pool's MFA is ON.")
    password_hash = _hash(row[HASH_COLUMN]) if row.get(HASH_COLUMN) else ""
    status = _status(row, password_hash)
    exported_sub = _sub(row.get(SUB_COLUMN, ""))
    enabled = _boolean(row[ENABLED_COLUMN], ENABLED_COLUMN) if row.get(ENABLED_COLUMN) else True
    mfa_methods = _mfa_methods(row, mfa_enabled)
    preferred_mfa = row.get(PREFERRED_MFA_COLUMN, "")
    expires = _expiry(row.get(EXPIRY_COLUMN, ""))
    totp = _totp_seed(row[TOTP_COLUMN]) if row.get(TOTP_COLUMN) else ""
    group_names = row.get(GROUPS_COLUMN, "").split()

    attributes = {
        column: value for column, value in row.items() if value and column not in NOT_ATTRIBUTES
    }
    for flag in ("email_verified", "phone_number_verified"):
        if flag in attributes:
            attributes[flag] = "true" if _boolean(attributes[flag], flag) else "false"
    # Cognito's rule: a user who must reset the password needs somewhere to receive the code.
    if status == UserStatus.RESET_REQUIRED and not any(
        attributes.get(flag) == "true" for flag in ("email_verified", "phone_number_verified")
    ):
        raise InvalidParameterException(
            "email_verified or phone_number_verified must be true, so that the user can be reached."
        )
    for flag, source in (("email_verified", "email"), ("phone_number_verified", "phone_number")):
        if attributes.get(flag) == "true" and not attributes.get(source):
            raise InvalidParameterException(f"{flag} is true but {source} is empty.")
    if match := _US_DATE.match(attributes.get("birthdate", "")):
        month, day, year = match.groups()
        attributes["birthdate"] = f"{year}-{month}-{day}"

    # The one user-creating service decides the name (in pools with username attributes the
    # username is the sub: an exported one is kept when free), checks and applies attributes.
    user = users.prepare(
        pool=pool,
        username=username,
        attributes=attributes,
        status=status,
        password_hash=password_hash,
        admin=True,
        exported_sub=True,
    )
    if exported_sub is not None and not User.objects.filter(sub=exported_sub).exists():
        # The sub is unique on the server: a copy next to its original keeps the new one.
        user.sub = exported_sub
        if pool.username_attributes:
            user.username = str(exported_sub)
    _apply_mfa(user, mfa_enabled, mfa_methods, totp)
    if preferred_mfa:
        if preferred_mfa not in MFA_METHODS:
            raise InvalidParameterException(f"{PREFERRED_MFA_COLUMN} must be one of the methods.")
        # A preference for a method that did not come back (TOTP without its seed) is dropped.
        user.preferred_mfa = preferred_mfa if preferred_mfa in user.mfa_enabled_methods else ""
    user.enabled = enabled
    if status == UserStatus.FORCE_CHANGE_PASSWORD:
        user.temporary_password_expires_at = expires
    users.save(user)
    _join_groups(user, group_names)
    if totp:
        TotpDevice.objects.create(user=user, secret=crypto.encrypt(totp), confirmed=True)


def _join_groups(user: User, names: list[str]) -> None:
    """Add the user to the named groups, making the missing ones (with the groups service's
    name rules and quota)."""
    for name in dict.fromkeys(names):
        group = Group.objects.filter(pool=user.pool, name=name).first()
        if group is None:
            group = group_services.create_group(pool=user.pool, name=name)
        group_services.add_user_to_group(user=user, group=group)


def _lines(source: IO[str] | Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(source, start=1):
        line = raw.rstrip("\r\n")
        if number == 1:
            line = line.removeprefix("\ufeff")
        yield number, line


def import_csv(pool: UserPool, source: IO[str] | Iterable[str]) -> ImportResult:
    """Create users from CSV lines. Each row is imported whole or not at all; a bad row is
    reported (line, reason) and the others go on. A bad header refuses the whole file."""
    lines = _lines(source)
    first = next(lines, None)
    if first is None or not first[1].strip():
        raise InvalidParameterException("The CSV file is empty: it needs a header line.")
    header = split_line(first[1])
    _check_header(pool, header)
    imported, errors = 0, []
    for number, line in lines:
        if not line.strip():
            continue
        if len(line) > MAX_ROW_CHARS:
            errors.append(RowError(number, f"Row is longer than {MAX_ROW_CHARS} characters."))
            continue
        values = [restore_formula(value) for value in split_line(line)]
        if len(values) != len(header):
            errors.append(
                RowError(number, f"Row has {len(values)} values; the header has {len(header)}.")
            )
            continue
        try:
            with transaction.atomic():
                _import_row(pool, dict(zip(header, values, strict=True)))
        except CognitoError as error:
            errors.append(RowError(number, error.message))
            continue
        imported += 1
    return ImportResult(imported=imported, errors=tuple(errors))
