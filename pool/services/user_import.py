"""Moving users in and out of a pool as CSV, in Cognito's user-import format.

The header is GetCSVHeader's columns plus the pool's `custom:` attributes, and one extra column,
`cognate:password_hash`, holding the user's Django password hash, so that operators can migrate
users with their passwords. Imported users without a hash must reset their password
(RESET_REQUIRED); with one they are CONFIRMED and their hash is upgraded to argon2id at their
first sign-in (`passwords.verify`).

Cognito's CSV dialect: no quoting; a literal comma is written `\\,`. We also write `\\\\` for a
backslash and `\\n` for a line break, so every row is one line and values survive a round trip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.db import transaction

from pool.errors import CognitoError, InvalidParameterException
from pool.models import User, UserPool, UserStatus
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
HASH_COLUMN = "cognate:password_hash"
MAX_ROW_CHARS = 16_000
_US_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line in the file; the header is line 1
    reason: str


@dataclass(frozen=True)
class ImportResult:
    imported: int
    errors: tuple[RowError, ...]


def csv_header(pool: UserPool, *, with_password_hash: bool = True) -> list[str]:
    """GetCSVHeader for the pool (plus the hash column unless told otherwise)."""
    columns = list(COGNITO_COLUMNS)
    columns += sorted(attr.full_name for attr in pool.custom_attributes.all())
    if with_password_hash:
        columns.append(HASH_COLUMN)
    return columns


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")


def split_line(line: str) -> list[str]:
    """Split one CSV line on unescaped commas and undo the escapes; values are trimmed."""
    fields, current, chars = [], [], iter(line)
    for ch in chars:
        if ch == "\\":
            following = next(chars, "")
            if following == "n":
                current.append("\n")
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


def _export_value(user: User, column: str, mfa_enabled: bool) -> str:
    if column == "cognito:username":
        return user.username
    if column == "cognito:mfa_enabled":
        return "true" if mfa_enabled else "false"
    if column == HASH_COLUMN:
        return user.password
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


def export_rows(pool: UserPool, *, with_password_hashes: bool = True) -> Iterator[str]:
    """The pool's users as CSV lines (header first), streamed in id order."""
    columns = csv_header(pool, with_password_hash=with_password_hashes)
    yield ",".join(columns)
    for user in User.objects.filter(pool=pool).order_by("pk").iterator(chunk_size=2000):
        mfa = bool(user.mfa_enabled_methods)
        yield ",".join(escape(_export_value(user, column, mfa)) for column in columns)


def export_csv(pool: UserPool, out: IO[str], *, with_password_hashes: bool = True) -> int:
    """Write the pool's users to `out`; returns how many users were written."""
    lines = 0
    for line in export_rows(pool, with_password_hashes=with_password_hashes):
        out.write(line + "\n")
        lines += 1
    return lines - 1  # the header is not a user


# --------------------------------------------------------------------------------------------
# Import


def _check_header(pool: UserPool, header: list[str]) -> None:
    known = set(csv_header(pool))
    unknown = [column for column in header if column not in known]
    if unknown:
        raise InvalidParameterException(
            f"Unknown CSV column(s): {', '.join(unknown)}. Columns are those of GetCSVHeader, "
            f"the pool's custom attributes and {HASH_COLUMN}.",
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

    attributes = {
        column: value
        for column, value in row.items()
        if value and column not in ("cognito:username", "cognito:mfa_enabled", HASH_COLUMN)
    }
    for flag in ("email_verified", "phone_number_verified"):
        if flag in attributes:
            attributes[flag] = "true" if _boolean(attributes[flag], flag) else "false"
    if not any(
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

    mfa = ()
    if mfa_enabled:
        if attributes.get("phone_number"):
            mfa = ("SMS_MFA",)
        elif attributes.get("email") and "EMAIL_OTP" in (pool.mfa_methods or []):
            mfa = ("EMAIL_OTP",)
        else:
            raise InvalidParameterException(
                "cognito:mfa_enabled is true but the user has no phone_number to receive codes."
            )
    users.create(
        pool=pool,
        username=username,
        attributes=attributes,
        status=UserStatus.CONFIRMED if password_hash else UserStatus.RESET_REQUIRED,
        password_hash=password_hash,
        admin=True,
        exported_sub=True,  # in pools with username attributes, an exported user's sub
        mfa=mfa,
    )


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
        values = split_line(line)
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
