"""Groups and membership: the `cognito:groups` claim's source. Quotas are Cognito's."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import IntegrityError, transaction

from pool.errors import (
    GroupExistsException,
    InvalidParameterException,
    LimitExceededException,
)
from pool.models import Group, User, UserPool

MAX_GROUPS_PER_POOL = 10_000
MAX_GROUPS_PER_USER = 100
_ROLE_ARN = re.compile(r"^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:[\w+=/,.@-]*:[0-9]*:[\w+=,.@/-]+$")
_UNSET: Any = object()


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 128:
        raise InvalidParameterException("Group names are 1-128 characters.", field="name")
    if any(unicodedata.category(ch)[0] not in "LMSNP" for ch in name):
        raise InvalidParameterException(
            "Group names cannot contain spaces or control characters.", field="name"
        )
    return name


def _check_description(description: Any) -> str:
    if not isinstance(description, str) or len(description) > 2048:
        raise InvalidParameterException(
            "A group description is at most 2048 characters.", field="description"
        )
    return description


def _check_precedence(precedence: Any) -> int | None:
    if precedence is None or precedence == "":
        return None
    if isinstance(precedence, bool):
        raise InvalidParameterException("Precedence is a whole number.", field="precedence")
    try:
        value = int(precedence)
    except (TypeError, ValueError):
        raise InvalidParameterException(
            "Precedence is a whole number.", field="precedence"
        ) from None
    if not 0 <= value <= 2**31 - 1:
        raise InvalidParameterException(
            f"Precedence must be between 0 and {2**31 - 1}.", field="precedence"
        )
    return value


def _check_role_arn(role_arn: Any) -> str:
    if role_arn in (None, ""):
        return ""
    if not isinstance(role_arn, str) or len(role_arn) > 2048 or not _ROLE_ARN.match(role_arn):
        raise InvalidParameterException("role_arn must be an IAM role ARN.", field="role_arn")
    return role_arn


def create_group(
    *,
    pool: UserPool,
    name: str,
    description: str = "",
    precedence: int | None = None,
    role_arn: str = "",
) -> Group:
    """Create a group; its name is unique in the pool (GroupExistsException)."""
    name = _check_name(name)
    description = _check_description(description)
    precedence = _check_precedence(precedence)
    role_arn = _check_role_arn(role_arn)
    try:
        with transaction.atomic():
            # Lock the pool row so that concurrent creations cannot pass the quota together.
            UserPool.objects.select_for_update().filter(pk=pool.pk).first()
            if Group.objects.filter(pool=pool, name=name).exists():
                raise GroupExistsException(f"A group named {name} already exists.", field="name")
            if Group.objects.filter(pool=pool).count() >= MAX_GROUPS_PER_POOL:
                raise LimitExceededException(
                    f"A pool can have at most {MAX_GROUPS_PER_POOL} groups."
                )
            return Group.objects.create(
                pool=pool,
                name=name,
                description=description,
                precedence=precedence,
                role_arn=role_arn,
            )
    except IntegrityError:
        raise GroupExistsException(f"A group named {name} already exists.", field="name") from None


def update_group(
    *,
    group: Group,
    description: str = _UNSET,
    precedence: int | None = _UNSET,
    role_arn: str = _UNSET,
) -> Group:
    """Change a group's description, precedence or role; the name is fixed, as in Cognito."""
    fields = []
    if description is not _UNSET:
        group.description = _check_description(description)
        fields.append("description")
    if precedence is not _UNSET:
        group.precedence = _check_precedence(precedence)
        fields.append("precedence")
    if role_arn is not _UNSET:
        group.role_arn = _check_role_arn(role_arn)
        fields.append("role_arn")
    if fields:
        with transaction.atomic():
            group.save(update_fields=[*fields, "updated_at"])
    return group


def delete_group(*, group: Group) -> None:
    """Delete a group; its members stay, without it."""
    with transaction.atomic():
        group.delete()


def add_user_to_group(*, user: User, group: Group) -> None:
    """Make `user` a member of `group` (idempotent). A user belongs to at most 100 groups."""
    if group.pool_id != user.pool_id:
        raise InvalidParameterException("The group belongs to another pool.", field="group")
    with transaction.atomic():
        # Lock the user row so two concurrent additions cannot both pass the quota.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if user.groups.filter(pk=group.pk).exists():
            return
        if user.groups.count() >= MAX_GROUPS_PER_USER:
            raise LimitExceededException(
                f"A user can belong to at most {MAX_GROUPS_PER_USER} groups."
            )
        user.groups.add(group)


def remove_user_from_group(*, user: User, group: Group) -> None:
    """Take `user` out of `group` (idempotent)."""
    if group.pool_id != user.pool_id:
        raise InvalidParameterException("The group belongs to another pool.", field="group")
    with transaction.atomic():
        user.groups.remove(group)
