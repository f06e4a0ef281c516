"""Changing what Cognito freezes at creation: a plan (dry run) and its migration.

A `PoolChange` names what changes: the pool's name, its sign-in identifiers (username attributes
or alias attributes), username case sensitivity, the required standard attributes, and custom
attributes removed (values kept hidden or dropped, the operator chooses) or renamed (values
moved). `plan` reads the pool and its users and returns a frozen `Report` of what the change would
break, per user; `apply` takes the pool's row lock, plans again under it, refuses while blocking
problems remain and otherwise migrates everything in one transaction, derived data included.

What is blocking and what is not:
- Two users whose sign-in names would collide (case sensitivity turned off, an alias or a
  username attribute added) block: a name must have one holder. The operator resolves them
  (changes or unverifies one address, renames or deletes one user) and plans again.
- A user missing a newly required attribute does not block: they are asked for it at their next
  hosted-UI sign-in (`missing_required`), before tokens are issued.
- A user losing a sign-in name (an alias or username attribute removed) does not block; the
  report names them, since they must sign in by another name afterwards.
- Values of a removed custom attribute are dropped or kept hidden (`RetiredAttributeValue`),
  as chosen; the report counts them per user.

Derived data is rebuilt in the same transaction: every user's sign-in key columns and the pool's
register of sign-in names (`SignInName`), the custom-attribute search index
(`UserAttributeIndex`, whose keys follow the case rule) and the app clients' read/write attribute
lists. Any failure part-way rolls everything back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db import IntegrityError, transaction

from pool import locks, policy
from pool.errors import (
    AliasExistsException,
    CognitoError,
    InternalErrorException,
    UsernameExistsException,
)
from pool.models import (
    AppClient,
    CustomAttribute,
    RetiredAttributeValue,
    SignInName,
    User,
    UserAttributeIndex,
    UserPool,
)
from pool.models.user import SIGN_IN_KEY_FIELDS, attribute_index_rows
from pool.services import attributes as attribute_services
from pool.services import pools as pool_services
from pool.services.results import CodeDelivery, RequestContext
from pool.services.validation import boolean, invalid, string_list

KEEP = "keep"
DROP = "drop"

# Kinds of problem, as the report names them.
NAME_COLLISION = "name_collision"
MISSING_REQUIRED = "missing_required"
SIGN_IN_NAME_REMOVED = "sign_in_name_removed"
VALUE_DROPPED = "value_dropped"
VALUE_HIDDEN = "value_hidden"
VALUE_MOVED = "value_moved"
BLOCKING = frozenset({NAME_COLLISION})


@dataclass(frozen=True)
class PoolChange:
    """What to change; None (or empty) leaves a setting as it is. `remove_attributes` maps a
    custom attribute's full name to KEEP or DROP; `rename_attributes` maps old to new full
    name (`custom:a` -> `custom:b`)."""

    name: str | None = None
    username_attributes: tuple[str, ...] | None = None
    alias_attributes: tuple[str, ...] | None = None
    case_sensitive: bool | None = None
    required_attributes: tuple[str, ...] | None = None
    remove_attributes: tuple[tuple[str, str], ...] = ()
    rename_attributes: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, **values: Any) -> PoolChange:
        """A change from loose values (lists, dicts), as doors parse them."""
        clean: dict[str, Any] = {}
        for key in ("username_attributes", "alias_attributes", "required_attributes"):
            if values.get(key) is not None:
                clean[key] = tuple(string_list(values[key], key))
        if values.get("case_sensitive") is not None:
            clean["case_sensitive"] = boolean(values["case_sensitive"], "case_sensitive")
        if values.get("name") is not None:
            clean["name"] = values["name"]
        for key in ("remove_attributes", "rename_attributes"):
            given = values.get(key) or {}
            if not isinstance(given, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in given.items()
            ):
                raise invalid(f"{key} must map attribute names to names.", key)
            clean[key] = tuple(given.items())
        return cls(**clean)


@dataclass(frozen=True)
class Problem:
    """One thing the change does to one user. `attribute` is the attribute (or sign-in name
    kind) concerned; `other` the other user of a collision; `value` the colliding name."""

    kind: str
    username: str
    attribute: str
    other: str = ""
    value: str = ""

    @property
    def blocking(self) -> bool:
        return self.kind in BLOCKING

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "username": self.username,
            "attribute": self.attribute,
            "other": self.other,
            "value": self.value,
            "blocking": self.blocking,
        }


@dataclass(frozen=True)
class Report:
    """What a change would do: `changes` lists each setting as (setting, before, after);
    `problems` what it does to users, blocking ones first."""

    pool_id: str
    changes: tuple[tuple[str, Any, Any], ...]
    problems: tuple[Problem, ...] = field(default=())
    users: int = 0
    applied: bool = False

    @property
    def blocking(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.blocking)

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pool_id": self.pool_id,
            "applied": self.applied,
            "users": self.users,
            "changes": [
                {"setting": name, "before": before, "after": after}
                for name, before, after in self.changes
            ],
            "blocking": len(self.blocking),
            "problems": [p.as_dict() for p in self.problems],
        }


# --------------------------------------------------------------------------------------------
# Reading a change against a pool


def _custom_by_full_name(pool: UserPool) -> dict[str, CustomAttribute]:
    return {a.full_name: a for a in CustomAttribute.objects.filter(pool=pool)}


def _bare(name: str) -> str:
    return name.removeprefix("dev:").removeprefix("custom:")


def _settings_after(pool: UserPool, change: PoolChange) -> dict[str, Any]:
    """The pool's changed settings, checked as a new pool's are (`pools` owns those rules)."""
    wanted: dict[str, Any] = {}
    if change.name is not None:
        wanted["name"] = change.name
    if change.username_attributes is not None:
        wanted["username_attributes"] = list(change.username_attributes)
        if change.alias_attributes is None and change.username_attributes:
            wanted["alias_attributes"] = []
    if change.alias_attributes is not None:
        wanted["alias_attributes"] = list(change.alias_attributes)
        if change.username_attributes is None and change.alias_attributes:
            wanted["username_attributes"] = []
    if change.case_sensitive is not None:
        wanted["case_sensitive"] = change.case_sensitive
    if change.required_attributes is not None:
        wanted["required_attributes"] = list(change.required_attributes)
    clean = pool_services.check_settings(pool, wanted)
    return {k: clean[k] for k in wanted if clean[k] != getattr(pool, k)}


def _check_schema_change(
    pool: UserPool, change: PoolChange
) -> tuple[dict[str, str], dict[str, str]]:
    """The custom attributes to remove (full name -> KEEP/DROP) and rename (full name -> new
    full name), checked against the schema."""
    declared = _custom_by_full_name(pool)
    by_bare = {_bare(n): a for n, a in declared.items()}

    def known(name: str, field_name: str) -> CustomAttribute:
        attr = declared.get(name) or (by_bare.get(_bare(name)) if ":" in name else None)
        if attr is None:
            raise invalid(f"{name} is not a custom attribute of this pool.", field_name)
        return attr

    removes: dict[str, str] = {}
    for name, mode in change.remove_attributes:
        attr = known(name, "remove_attributes")
        if mode not in (KEEP, DROP):
            raise invalid(
                f"Say whether the values of {name} are kept or dropped.", "remove_attributes"
            )
        removes[attr.full_name] = mode
    renames: dict[str, str] = {}
    taken = set(by_bare)
    for old, new in change.rename_attributes:
        attr = known(old, "rename_attributes")
        if attr.full_name in removes:
            raise invalid(f"{old} cannot be both removed and renamed.", "rename_attributes")
        bare = _bare(new) if isinstance(new, str) else ""
        if not pool_services.CUSTOM_NAME.match(bare):
            raise invalid(
                "Custom attribute names are 1-20 characters, without spaces or ':'.",
                "rename_attributes",
            )
        if bare in taken:
            raise invalid(f"custom:{bare} already exists.", "rename_attributes")
        taken.discard(attr.name)
        taken.add(bare)
        renames[attr.full_name] = f"{'dev:' if attr.developer_only else ''}custom:{bare}"
    return removes, renames


def _future_pool(pool: UserPool, settings: dict[str, Any]) -> UserPool:
    future = UserPool(**{f.attname: getattr(pool, f.attname) for f in UserPool._meta.fields})
    for name, value in settings.items():
        setattr(future, name, value)
    return future


def _future_user(user: User, future: UserPool) -> User:
    """The user's sign-in keys as they would be in the changed pool (an unsaved copy)."""
    copy = User(**{f.attname: getattr(user, f.attname) for f in User._meta.fields})
    copy.pool = future
    copy.username_key = future.normalize(copy.username)
    for attribute in SIGN_IN_KEY_FIELDS:
        if attribute != "username":
            policy.refresh_sign_in_key(copy, attribute)
    return copy


def _problems(
    pool: UserPool,
    future: UserPool,
    users: list[User],
    removes: dict[str, str],
    renames: dict[str, str],
    required_before: list[str],
) -> tuple[list[Problem], list[User]]:
    problems: list[Problem] = []
    futures = [_future_user(user, future) for user in users]
    holders: dict[str, tuple[User, str]] = {}
    for user, after in zip(users, futures, strict=True):
        for key, kind in after.sign_in_keys().items():
            held = holders.get(key)
            if held is None:
                holders[key] = (user, kind)
                continue
            other, _ = held
            problems.append(
                Problem(NAME_COLLISION, user.username, kind, other=other.username, value=key)
            )
        for kind, column in SIGN_IN_KEY_FIELDS.items():
            if getattr(user, column) and not getattr(after, column):
                problems.append(
                    Problem(SIGN_IN_NAME_REMOVED, user.username, kind, value=getattr(user, kind))
                )
        for name in future.required_attributes or []:
            if name not in required_before and not user.get_attribute(name):
                problems.append(Problem(MISSING_REQUIRED, user.username, name))
        values = user.attributes or {}
        for name, mode in removes.items():
            if values.get(name) not in (None, ""):
                kind = VALUE_HIDDEN if mode == KEEP else VALUE_DROPPED
                problems.append(Problem(kind, user.username, name))
        for old, new in renames.items():
            if values.get(old) not in (None, ""):
                problems.append(Problem(VALUE_MOVED, user.username, old, value=new))
    problems.sort(key=lambda p: (not p.blocking, p.kind, p.username, p.attribute))
    return problems, futures


def _report(
    pool: UserPool, change: PoolChange, users: list[User]
) -> tuple[Report, dict[str, Any], dict[str, str], dict[str, str], list[User]]:
    settings = _settings_after(pool, change)
    removes, renames = _check_schema_change(pool, change)
    future = _future_pool(pool, settings)
    problems, futures = _problems(
        pool, future, users, removes, renames, list(pool.required_attributes or [])
    )
    changes = [(name, getattr(pool, name), value) for name, value in settings.items()]
    changes += [(f"remove {name}", mode, None) for name, mode in removes.items()]
    changes += [(f"rename {old}", old, new) for old, new in renames.items()]
    report = Report(
        pool_id=pool.id, changes=tuple(changes), problems=tuple(problems), users=len(users)
    )
    return report, settings, removes, renames, futures


def plan(*, pool: UserPool, change: PoolChange) -> Report:
    """The dry run: what `change` would do to the pool and each of its users. Changes nothing;
    InvalidParameterException for a change that is not allowed at all."""
    users = list(User.objects.filter(pool=pool).select_related("pool").order_by("pk"))
    return _report(pool, change, users)[0]


def missing_required(user: User) -> list[str]:
    """The pool's required attributes this user has no value for (a requirement added after
    they signed up): the hosted UI asks for them after the first factor, before tokens."""
    return [name for name in user.pool.required_attributes or [] if not user.get_attribute(name)]


def provide_required(
    *, user: User, attributes: dict[str, str], context: RequestContext
) -> list[CodeDelivery]:
    """The user gives the required attributes they miss (`missing_required`), all of them and
    nothing else, checked against the schema as any update of their own (a new email or phone
    number the pool auto-verifies gets its code). Their app client's write_attributes do not
    apply: the pool, not the app, requires these."""
    if not isinstance(attributes, dict):
        raise invalid("Attributes must be name/value pairs.", "attributes")
    missing = missing_required(user)
    for name in attributes:
        if name not in missing:
            raise invalid(f"{name} is not a required attribute you are missing.", name)
    for name in missing:
        value = attributes.get(name)
        if not isinstance(value, str) or not value.strip():
            raise invalid(
                f"Attributes did not conform to the schema: {name}: The attribute is required",
                name,
            )
    return attribute_services.update_attributes(
        user=user, attributes={n: attributes[n].strip() for n in missing}, context=context
    )


# --------------------------------------------------------------------------------------------
# Applying a change


def _refuse(report: Report) -> CognitoError:
    """The error a blocked change raises: UsernameExistsException when usernames collide,
    AliasExistsException otherwise, with the report as its `report`."""
    first = report.blocking[0]
    message = (
        f"{len(report.blocking)} sign-in name collision(s) block this change, e.g. "
        f"{first.username} and {first.other} would both sign in as {first.value!r}."
    )
    if first.attribute == "username":
        error: CognitoError = UsernameExistsException(message, field="case_sensitive")
    else:
        error = AliasExistsException(message, field=first.attribute)
    error.report = report  # type: ignore[attr-defined]
    return error


def apply(*, pool: UserPool, change: PoolChange) -> Report:
    """Plan `change` again under the pool's lock and migrate, all in one transaction: refused
    (AliasExistsException / UsernameExistsException, with the report as its `report`) while
    blocking problems remain;
    otherwise the settings, the schema, users' values and every derived row change together,
    or, on any failure, nothing does. Returns the report, `applied`."""
    try:
        with transaction.atomic():
            locks.changing_pool(pool.pk)
            locked = UserPool.objects.select_for_update().get(pk=pool.pk)
            users = list(User.objects.select_for_update().filter(pool=locked).order_by("pk"))
            for user in users:
                user.pool = locked
            report, settings, removes, renames, futures = _report(locked, change, users)
            if report.blocking:
                raise _refuse(report)
            if report.changes:
                _migrate(locked, settings, removes, renames, users, futures)
    except IntegrityError:
        raise InternalErrorException(
            "The pool's data changed in a way the plan did not foresee; nothing was changed. "
            "Plan the change again."
        ) from None
    pool.refresh_from_db()
    return replace(report, applied=True)


def _migrate(
    pool: UserPool,
    settings: dict[str, Any],
    removes: dict[str, str],
    renames: dict[str, str],
    users: list[User],
    futures: list[User],
) -> None:
    for name, value in settings.items():
        setattr(pool, name, value)
    pool.save()

    # The schema, and the app clients' attribute lists that name changed attributes.
    declared = _custom_by_full_name(pool)
    for name in removes:
        declared[name].delete()
    for old, new in renames.items():
        attr = declared[old]
        attr.name = _bare(new)
        attr.save(update_fields=["name"])
    if removes or renames:
        for client in AppClient.objects.select_for_update().filter(pool=pool):
            lists = {}
            for field_name in ("read_attributes", "write_attributes"):
                before = list(getattr(client, field_name) or [])
                after = [renames.get(n, n) for n in before if n not in removes]
                if after != before:
                    lists[field_name] = after
            if lists:
                for field_name, value in lists.items():
                    setattr(client, field_name, value)
                client.save(update_fields=list(lists))

    # Users: values moved, hidden or dropped; sign-in keys as the changed pool computes them.
    # Every key is cleared first (placeholders for the username's, which no name can equal:
    # usernames hold no whitespace), so a key moving from one user to another never meets its
    # old holder half-way.
    key_columns = [f for f in SIGN_IN_KEY_FIELDS.values() if f != "username_key"]
    SignInName.objects.filter(user__pool=pool).delete()
    for user in users:
        user.username_key = f" {user.pk}"
        for column in key_columns:
            setattr(user, column, None)
    User.objects.bulk_update(users, ["username_key", *key_columns], batch_size=500)
    retired: list[RetiredAttributeValue] = []
    for user, after in zip(users, futures, strict=True):
        user.username_key = after.username_key
        for column in key_columns:
            setattr(user, column, getattr(after, column))
        values = dict(user.attributes or {})
        for name, mode in removes.items():
            value = values.pop(name, None)
            if value not in (None, "") and mode == KEEP:
                retired.append(RetiredAttributeValue(user=user, name=name, value=str(value)))
        for old, new in renames.items():
            if old in values:
                values[new] = values.pop(old)
        user.attributes = values
    User.objects.bulk_update(users, ["username_key", *key_columns, "attributes"], batch_size=500)
    if retired:
        # A name removed before (and added again) keeps only its newest values.
        RetiredAttributeValue.objects.filter(user__pool=pool, name__in=list(removes)).delete()
        RetiredAttributeValue.objects.bulk_create(retired, batch_size=500)
    SignInName.objects.bulk_create(
        (
            SignInName(pool_id=pool.pk, key=key, user=user, kind=kind)
            for user in users
            for key, kind in user.sign_in_keys().items()
        ),
        batch_size=500,
    )
    UserAttributeIndex.objects.filter(pool=pool).delete()
    UserAttributeIndex.objects.bulk_create(
        (
            UserAttributeIndex(pool_id=pool.pk, user=user, name=n, value_key=k, whole=w)
            for user in users
            for n, k, w in attribute_index_rows(user)
        ),
        batch_size=500,
    )
