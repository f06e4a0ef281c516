"""A pool's rules for what users may hold: the password policy, the attribute schema, sign-in
keys and the per-user caps on code-sending and code-guessing operations.

Every door and every service asks here, so a rule exists once:
- `check_password` / `describe_password_policy`: the pool's password policy, Cognito's messages.
- `validate_attributes` / `apply_attributes`: the standard + `custom:` schema, and how attribute
  values land on a `User` (columns, JSON, verified flags, sign-in keys).
- `save_user`: saves a user while keeping sign-in names unique per pool across every kind
  (username, verified email/phone, preferred_username), with Cognito's errors.
- `enforce_cap`: per-user hourly caps (ResendConfirmationCode 5/h, ...), counted in the cache;
  `enforce_name_cap` counts the calls that name a user by the name as typed, known or not.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext, ngettext

from pool import clock, crypto, locks
from pool.errors import (
    AliasExistsException,
    InvalidParameterException,
    InvalidPasswordException,
    LimitExceededException,
    NotAuthorizedException,
    UsernameExistsException,
)
from pool.models import CustomAttribute, SignInName, User, UserPool, UserStatus
from pool.models.user import COLUMN_ATTRIBUTES, SIGN_IN_KEY_FIELDS, STANDARD_ATTRIBUTES
from pool.services import counters

# ---------------------------------------------------------------------------------------------
# Passwords

PASSWORD_MAX_LENGTH = 256
# Cognito's special characters; a space counts too, except at either end.
PASSWORD_SYMBOLS = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
_POLICY_PREFIX = "Password did not conform with policy: "


def _password_error(rule: str) -> InvalidPasswordException:
    return InvalidPasswordException(_POLICY_PREFIX + rule, field="password")


def check_password(pool: UserPool, password: str) -> None:
    """Refuse a password the pool's policy does not allow, naming the first rule it breaks.

    Passwords are never truncated: anything up to 256 characters is hashed whole. Character
    classes are Cognito's: basic Latin letters, digits and its symbol set (other characters are
    allowed but count towards no class).
    """
    if not isinstance(password, str) or len(password) < max(pool.password_min_length, 1):
        raise _password_error("Password not long enough")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise _password_error(f"Password must have at most {PASSWORD_MAX_LENGTH} characters")
    if password != password.strip():
        raise _password_error("Password must not begin or end with a space")
    if pool.password_require_uppercase and not any("A" <= ch <= "Z" for ch in password):
        raise _password_error("Password must have uppercase characters")
    if pool.password_require_lowercase and not any("a" <= ch <= "z" for ch in password):
        raise _password_error("Password must have lowercase characters")
    if pool.password_require_numbers and not any("0" <= ch <= "9" for ch in password):
        raise _password_error("Password must have numeric characters")
    if pool.password_require_symbols and not any(ch in PASSWORD_SYMBOLS for ch in password):
        raise _password_error("Password must have symbol characters")


def describe_password_policy(pool: UserPool) -> list[str]:
    """The policy as short human rules, in the order `check_password` applies them, in the
    active language (the hosted pages translate them; elsewhere English)."""
    minimum = max(pool.password_min_length, 1)
    rules = [
        ngettext("At least %(count)d character", "At least %(count)d characters", minimum)
        % {"count": minimum}
    ]
    if pool.password_require_uppercase:
        rules.append(gettext("At least one uppercase letter (A-Z)"))
    if pool.password_require_lowercase:
        rules.append(gettext("At least one lowercase letter (a-z)"))
    if pool.password_require_numbers:
        rules.append(gettext("At least one number (0-9)"))
    if pool.password_require_symbols:
        rules.append(gettext("At least one special character, such as ! @ # $ % ^ & * or a space"))
    rules.append(
        gettext("At most %(count)d characters, not starting or ending with a space")
        % {"count": PASSWORD_MAX_LENGTH}
    )
    return rules


# ---------------------------------------------------------------------------------------------
# Usernames and identifiers

USERNAME_MAX_LENGTH = 128
_PHONE_RE = re.compile(r"\+[1-9][0-9]{3,14}")
_INTEGER_RE = re.compile(r"-?[0-9]{1,19}")
_BIRTHDATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def is_phone_number(value: str) -> bool:
    """E.164 as Cognito wants it: `+` and digits, no spaces or punctuation."""
    return bool(_PHONE_RE.fullmatch(value))


def check_username(username: str) -> None:
    """Cognito's username rule: 1-128 letters, marks, symbols, numbers or punctuation; no
    whitespace or control characters."""
    if not isinstance(username, str) or not 1 <= len(username) <= USERNAME_MAX_LENGTH:
        raise InvalidParameterException(
            "Username must be between 1 and 128 characters.", field="username"
        )
    if any(unicodedata.category(ch)[0] not in "LMSNP" for ch in username):
        raise InvalidParameterException(
            "Username cannot contain spaces or control characters.", field="username"
        )


# ---------------------------------------------------------------------------------------------
# Attributes

ATTRIBUTE_VALUE_MAX_LENGTH = 2048
VERIFIED_FLAGS = {"email_verified": "email", "phone_number_verified": "phone_number"}
VERIFIABLE = ("email", "phone_number")
# Attributes that can be sign-in names, and their key columns (the username's is kept by User).
_KEY_FIELDS = {kind: field for kind, field in SIGN_IN_KEY_FIELDS.items() if kind != "username"}
_SCHEMA = "Attributes did not conform to the schema: "


def _schema_error(name: str, problem: str) -> InvalidParameterException:
    return InvalidParameterException(f"{_SCHEMA}{name}: {problem}", field=name)


def custom_attributes(pool: UserPool) -> dict[str, CustomAttribute]:
    """The pool's declared custom attributes by full name (`custom:x` / `dev:custom:x`)."""
    return {attr.full_name: attr for attr in pool.custom_attributes.all()}


def _is_true(value: str) -> bool:
    return value.strip().lower() == "true"


def _check_standard(name: str, value: str) -> str:
    if name in VERIFIED_FLAGS:
        if value.strip().lower() not in ("true", "false"):
            raise _schema_error(name, "The value must be true or false")
        return value.strip().lower()
    if value == "":
        return value
    if name == "email" and not is_email(value):
        raise InvalidParameterException("Invalid email address format.", field=name)
    if name == "phone_number" and not is_phone_number(value):
        raise InvalidParameterException(
            "Invalid phone number format: use + and digits, e.g. +14325551212.", field=name
        )
    if name == "updated_at" and not _INTEGER_RE.fullmatch(value):
        raise _schema_error(name, "Number expected (seconds since the epoch)")
    if name == "birthdate":
        try:
            if not _BIRTHDATE_RE.fullmatch(value):
                raise ValueError(value)
            year, month, day = (int(part) for part in value.split("-"))
            dt.date(year or 2000, month, day)  # OIDC allows year 0000 for "year withheld"
        except ValueError:
            raise _schema_error(name, "Date expected as YYYY-MM-DD") from None
    return value


def _check_custom(attr: CustomAttribute, name: str, value: str) -> str:
    kind = attr.data_type
    if kind == CustomAttribute.DataType.STRING:
        if attr.min_length is not None and len(value) < attr.min_length:
            raise _schema_error(name, f"String must be at least {attr.min_length} characters")
        if attr.max_length is not None and len(value) > attr.max_length:
            raise _schema_error(name, f"String must be no longer than {attr.max_length} characters")
        return value
    if kind == CustomAttribute.DataType.NUMBER:
        if not _INTEGER_RE.fullmatch(value.strip()):
            raise _schema_error(name, "Number expected")
        number = int(value)
        if attr.min_value is not None and number < attr.min_value:
            raise _schema_error(name, f"Number must be at least {attr.min_value}")
        if attr.max_value is not None and number > attr.max_value:
            raise _schema_error(name, f"Number must be at most {attr.max_value}")
        return str(number)
    if kind == CustomAttribute.DataType.BOOLEAN:
        if value.strip().lower() not in ("true", "false"):
            raise _schema_error(name, "Boolean expected (true or false)")
        return value.strip().lower()
    # DateTime: ISO 8601.
    try:
        dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise _schema_error(name, "DateTime expected in ISO 8601 form") from None
    return value.strip()


def unauthorized_write(name: str) -> NotAuthorizedException:
    """Cognito's answer when a user's own call (through an app client) writes an attribute the
    client may not write, or a `*_verified` flag, which only administrators set."""
    return NotAuthorizedException("A client attempted to write unauthorized attribute", field=name)


def validate_attributes(
    pool: UserPool,
    attributes: dict[str, str],
    *,
    creating: bool,
    client=None,
    admin: bool = False,
) -> dict[str, str]:
    """Check attribute names and values against the pool's schema and return them normalized.

    `creating` is True for sign-up and admin creation (required attributes must be present and
    immutable custom attributes may be set), False for updates. `admin` is True for operator
    and Admin* calls: only they may set `*_verified` and `dev:custom:` attributes. A client's
    `write_attributes`, when it lists any, bounds what a non-admin call may write (both refused
    as Cognito refuses them: `unauthorized_write`).
    """
    if not isinstance(attributes, dict):
        raise InvalidParameterException("Attributes must be name/value pairs.")
    declared = custom_attributes(pool)
    writable = set(client.write_attributes or []) if client is not None and not admin else set()
    clean: dict[str, str] = {}
    for name, value in attributes.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidParameterException("Attribute names and values must be strings.")
        if name == "sub":
            raise _schema_error(name, "Cannot modify the non-mutable attribute sub")
        if len(value) > ATTRIBUTE_VALUE_MAX_LENGTH:
            raise _schema_error(
                name, f"String must be no longer than {ATTRIBUTE_VALUE_MAX_LENGTH} characters"
            )
        if name in STANDARD_ATTRIBUTES:
            if name in VERIFIED_FLAGS and not admin:
                raise unauthorized_write(name)
            value = _check_standard(name, value)
        elif name in declared:
            attr = declared[name]
            if attr.developer_only and not admin:
                raise InvalidParameterException(
                    f"{name} is a developer-only attribute; only an administrator may set it.",
                    field=name,
                )
            if not attr.mutable and not creating:
                raise InvalidParameterException(
                    f"Cannot modify the non-mutable attribute {name}", field=name
                )
            value = _check_custom(attr, name, value)
        else:
            raise _schema_error(name, "Type for attribute could not be determined")
        if writable and name not in writable:
            raise unauthorized_write(name)
        clean[name] = value
    if creating:
        for name in pool.required_attributes or []:
            if not clean.get(name):
                raise _schema_error(name, "The attribute is required")
    else:
        for name in pool.required_attributes or []:
            if name in clean and clean[name] == "":
                raise _schema_error(name, "The attribute is required and cannot be emptied")
    return clean


def self_writable_attributes(pool: UserPool, client) -> list[str]:
    """The attributes a user may change on their own through `client` (the account page's
    form): the client's write_attributes (all when it lists none), less `sub`, the verified
    flags, developer-only and immutable custom attributes and `updated_at`, in schema order."""
    declared = custom_attributes(pool)
    names = [n for n in STANDARD_ATTRIBUTES if n not in VERIFIED_FLAGS]
    names += [n for n, a in declared.items() if a.mutable and not a.developer_only]
    writable = set(client.write_attributes or []) if client is not None else set()
    return [n for n in names if n not in ("sub", "updated_at") and (not writable or n in writable)]


def check_deletable(pool: UserPool, names: list[str], *, admin: bool = False, client=None) -> None:
    """Refuse deleting attributes the schema requires, unknown or immutable ones, `sub`, the
    pool's username attributes, developer-only ones for non-admins, and (deleting is writing)
    any the client's `write_attributes`, when it lists some, leave out."""
    declared = custom_attributes(pool)
    writable = set(client.write_attributes or []) if client is not None and not admin else set()
    for name in names:
        if not isinstance(name, str):
            raise InvalidParameterException("Attribute names must be strings.")
        if name == "sub":
            raise _schema_error(name, "Cannot modify the non-mutable attribute sub")
        if name in VERIFIED_FLAGS:
            raise InvalidParameterException(
                f"{name} cannot be deleted; delete {VERIFIED_FLAGS[name]} instead.", field=name
            )
        if name in declared:
            attr = declared[name]
            if attr.developer_only and not admin:
                raise InvalidParameterException(
                    f"{name} is a developer-only attribute; only an administrator may delete it.",
                    field=name,
                )
            if not attr.mutable:
                raise InvalidParameterException(
                    f"Cannot modify the non-mutable attribute {name}", field=name
                )
        elif name not in STANDARD_ATTRIBUTES:
            raise _schema_error(name, "Type for attribute could not be determined")
        if name in (pool.required_attributes or []):
            raise _schema_error(name, "The attribute is required and cannot be deleted")
        if name in (pool.username_attributes or []):
            raise InvalidParameterException(
                f"{name} is this pool's sign-in name and cannot be deleted.", field=name
            )
        if writable and name not in writable:
            raise unauthorized_write(name)


def key_field(attribute: str) -> str:
    return _KEY_FIELDS[attribute]


def refresh_sign_in_key(user: User, attribute: str) -> None:
    """Set or clear the user's sign-in key for `attribute` from its current value: username
    attributes always sign in; an email or phone alias once verified; a preferred_username
    alias once the account is confirmed (before that, anyone could park on a name)."""
    if attribute not in _KEY_FIELDS:
        return
    pool = user.pool
    value = getattr(user, attribute)
    if attribute == "preferred_username":
        verified = user.confirmed
    else:
        verified = getattr(user, f"{attribute}_verified")
    # A federated user signs in only through its provider: its email or phone number is no
    # sign-in name, and so never collides with (or captures) a native user's.
    usable = (
        value
        and user.status != UserStatus.EXTERNAL_PROVIDER
        and (
            attribute in (pool.username_attributes or [])
            or (attribute in (pool.alias_attributes or []) and verified)
        )
    )
    setattr(user, _KEY_FIELDS[attribute], pool.normalize(value) if usable else None)


def set_status(user: User, *, status: str = UserStatus.CONFIRMED) -> None:
    """Give the user `status`; when that confirms an UNCONFIRMED user, their preferred_username
    becomes a sign-in name now (before confirmation anyone could park on a name). No save:
    save with `save_user`, which claims the name (AliasExistsException if taken)."""
    was_unconfirmed = user.status == UserStatus.UNCONFIRMED
    user.status = status
    if was_unconfirmed and user.confirmed:
        refresh_sign_in_key(user, "preferred_username")


def apply_attributes(user: User, attributes: dict[str, str], *, touch: bool = True) -> None:
    """Write validated attributes onto the instance (no save).

    Column attributes go to their fields, the rest to `user.attributes` (an empty value removes
    it). A changed email or phone number is no longer verified, and its sign-in key follows:
    kept for username attributes, cleared for aliases until verified again. Explicit
    `*_verified` values (admin only, see `validate_attributes`) are applied after the values.
    When anything changed, the standard attribute `updated_at` becomes now (seconds since the
    epoch), as Cognito keeps it, unless the caller gave it or says not to (`touch=False`: a user
    coming from an export carries its own, or none).
    """
    before = user.attribute_map()
    extra = dict(user.attributes or {})
    for name, value in attributes.items():
        if name in VERIFIED_FLAGS:
            continue
        if name in COLUMN_ATTRIBUTES:
            if name in VERIFIABLE and getattr(user, name) != value:
                setattr(user, f"{name}_verified", False)
            setattr(user, name, value)
        elif value == "":
            extra.pop(name, None)
        else:
            extra[name] = value
    user.attributes = extra
    for flag, source in VERIFIED_FLAGS.items():
        if flag in attributes:
            setattr(user, flag, _is_true(attributes[flag]) and bool(getattr(user, source)))
    for attribute in _KEY_FIELDS:
        if attribute in attributes or f"{attribute}_verified" in attributes:
            refresh_sign_in_key(user, attribute)
    if touch and "updated_at" not in attributes and user.attribute_map() != before:
        touch_updated_at(user)


def touch_updated_at(user: User) -> None:
    """Set the standard attribute `updated_at` to now (no save); see `apply_attributes`."""
    user.attributes = {**(user.attributes or {}), "updated_at": str(clock.timestamp())}


# ---------------------------------------------------------------------------------------------
# Saving users with unique sign-in names


def _conflict_error(attribute: str, *, username_attribute: bool, creating: bool):
    label = "phone number" if attribute == "phone_number" else attribute.replace("_", " ")
    message = f"An account with the given {label} already exists."
    if username_attribute and creating:
        return UsernameExistsException(message, field=attribute)
    return AliasExistsException(message, field=attribute)


def _release_alias(holder_id: int, kind: str) -> None:
    """ForceAliasCreation: the previous holder loses the alias (and its verified flag)."""
    holder = User.objects.select_for_update().select_related("pool").get(pk=holder_id)
    field = _KEY_FIELDS[kind]
    setattr(holder, field, None)
    update = [field]
    if kind in VERIFIABLE:
        setattr(holder, f"{kind}_verified", False)
        update.append(f"{kind}_verified")
    holder.save(update_fields=[*update, "updated_at"])


def claim_sign_in_keys(user: User, *, force_alias: bool = False) -> None:
    """Make sure no other user of the pool signs in with any of this user's names, whichever
    kind of name the other holds it as (`SignInName` is the register of all of them).

    Call inside a transaction, before saving. A taken username is UsernameExistsException; a
    taken username attribute is UsernameExistsException on creation and AliasExistsException
    after; a taken alias is AliasExistsException unless `force_alias` and the other user holds
    it as the same alias: then it moves here and the previous holder's attribute is no longer
    verified (Cognito's ForceAliasCreation). A username, or a name held as another kind (a
    preferred_username equal to someone's verified email), is never moved.
    """
    creating = user.pk is None
    pool = user.pool
    user.username_key = pool.normalize(user.username)
    wanted = user.sign_in_keys()
    taken = SignInName.objects.filter(pool_id=user.pool_id, key__in=list(wanted))
    if not creating:
        taken = taken.exclude(user_id=user.pk)
    holders = {row.key: row for row in taken}
    fixed = {"username", *(pool.username_attributes or [])}
    for key, kind in wanted.items():
        holder = holders.get(key)
        if holder is None:
            continue
        if kind == "username":
            raise UsernameExistsException("User already exists", field="username")
        if force_alias and kind not in fixed and holder.kind == kind:
            _release_alias(holder.user_id, holder.kind)
            continue
        raise _conflict_error(
            kind, username_attribute=kind in (pool.username_attributes or []), creating=creating
        )


SIGN_IN_RULES = ("username_attributes", "alias_attributes", "case_sensitive")


def follow_sign_in_rules(user: User) -> None:
    """Give a new user's keys the pool's sign-in rules as they are now, not as the caller read
    them: a pool change (pool/services/pool_changes.py) may have committed since. Call inside
    the transaction that saves the user, after `locks.creating_users`, which waits for a pool
    change in progress."""
    pool = user.pool
    current = UserPool.objects.filter(pk=pool.pk).values(*SIGN_IN_RULES).first()
    if current is None or all(getattr(pool, k) == v for k, v in current.items()):
        return
    for name, value in current.items():
        setattr(pool, name, value)
    for attribute in _KEY_FIELDS:
        refresh_sign_in_key(user, attribute)


def save_user(user: User, *, force_alias: bool = False, update_fields=None) -> None:
    """Save the user with its sign-in names claimed (see `claim_sign_in_keys`), a new user's
    under the pool's current sign-in rules (`follow_sign_in_rules`). A concurrent claim that
    slips between check and write is caught by the register's unique key and reported the same
    way."""
    try:
        with transaction.atomic():
            if user.pk is None:
                locks.creating_users(user.pool_id)
                follow_sign_in_rules(user)
            claim_sign_in_keys(user, force_alias=force_alias)
            user.save(update_fields=update_fields)
    except IntegrityError:
        # The other writer has committed by now: the same check names the taken key.
        claim_sign_in_keys(user)
        raise UsernameExistsException("User already exists", field="username") from None


# ---------------------------------------------------------------------------------------------
# Per-user caps


CAPS = {
    # operation: (attempts, window in seconds)
    "resend_confirmation_code": (5, 3600),
    "confirm_sign_up": (15, 3600),
    "forgot_password": (5, 3600),
    "confirm_forgot_password": (10, 3600),
    "change_password": (5, 3600),
    "send_attribute_verification_code": (5, 3600),
    "verify_attribute": (15, 3600),
}


def enforce_cap(operation: str, subject: str) -> None:
    """Count one `operation` by `subject` (a user's pk or sub) in the shared cache and raise
    LimitExceededException past the cap. Counted before anything is checked or sent, in one
    atomic step (pool.services.counters), so a burst of parallel calls cannot get more than the
    cap between them. Fixed windows on the domain clock, so tests can move to the next window
    with `clock.advance`."""
    limit, window = CAPS[operation]
    bucket = clock.timestamp() // window
    key = f"cap:{operation}:{crypto.digest(str(subject))[:32]}:{bucket}"
    if not counters.within(key, limit=limit, timeout=window):
        raise LimitExceededException()


def enforce_name_cap(operation: str, pool: UserPool, name: object) -> None:
    """Count one `operation` against a sign-in name as typed (normalised the pool's way), before
    anyone looks the name up. A name that belongs to nobody reaches the cap at the same count as
    a user's name, so in pools that hide user existence the cap tells nobody who exists. Each of
    a user's sign-in names (username, verified alias) has its own count: counting them together
    would tell which names belong to the same user."""
    typed = name if isinstance(name, str) else ""
    enforce_cap(operation, f"{pool.pk}:{pool.normalize(typed)}")
