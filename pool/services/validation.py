"""Checks shared by the services that change pools, app clients and resource servers.

Each raises InvalidParameterException naming the field, so that every door shows the message next
to the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pool.errors import InvalidParameterException

# Cognito's pattern for pool and app client names (botocore model).
NAME = re.compile(r"^[\w +=,.@-]{1,128}$")


def invalid(message: str, field: str) -> InvalidParameterException:
    return InvalidParameterException(message, field=field)


def string_list(value: Any, field: str) -> list[str]:
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise invalid(f"{field} must be a list of strings.", field)
    seen: list[str] = []
    for item in value:
        if item in seen:
            raise invalid(f"{field} lists {item!r} twice.", field)
        seen.append(item)
    return seen


def subset(value: Any, allowed: Iterable[str], field: str) -> list[str]:
    items = string_list(value, field)
    allowed = tuple(allowed)
    for item in items:
        if item not in allowed:
            raise invalid(f"{field}: {item!r} is not one of {', '.join(allowed)}.", field)
    return items


def integer(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise invalid(f"{field} must be a whole number.", field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"{field} must be a whole number.", field) from None
    if str(number) != str(value).strip() and not isinstance(value, int):
        raise invalid(f"{field} must be a whole number.", field)
    if not low <= number <= high:
        raise invalid(f"{field} must be between {low} and {high}.", field)
    return number


def boolean(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    raise invalid(f"{field} must be true or false.", field)


def reject_unknown(names: Iterable[str], known: Iterable[str], what: str) -> None:
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise invalid(f"Unknown {what} setting(s): {', '.join(unknown)}.", unknown[0])
