"""Requests checked against Cognito's own service model (botocore's, vendored in
api/cognito-idp-2016-04-18.json by scripts/vendor_cognito_model.py).

Cognito answers a request that breaks its model with InvalidParameterException and messages
such as "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint:
Member must not be null". This module says the same for required members, JSON types, lengths,
ranges, enums and the patterns Python's `re` can read (those written with Java's `\\p{..}`
classes are left to the services, which check the values they use).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from pool.errors import InvalidParameterException

MODEL_PATH = Path(__file__).resolve().parent / "cognito-idp-2016-04-18.json"
_VALUE_PREVIEW = 100
# Patterns of the model that Cognito itself does not hold requests to. DomainType's pattern has
# no dots, yet Cognito takes a custom domain's full host name there (auth.example.com, its own
# documented example): pool/services/domains.py checks prefixes and host names instead.
UNENFORCED_PATTERNS = frozenset({"DomainType"})
# Structures whose ArnType members name a trigger: where Cognito takes a Lambda ARN, Cognate takes
# a webhook URL or python:dotted.path (pool/services/triggers.py checks them), so only the type
# and the maximum length of the model apply.
TRIGGER_TARGET_PARENTS = frozenset({"LambdaConfigType", "PreTokenGenerationVersionConfigType"})
TRIGGER_TARGET_MAX = 2048


@cache
def model() -> dict:
    return json.loads(MODEL_PATH.read_text())


def operation_names() -> frozenset[str]:
    return frozenset(model()["operations"])


def input_shape(operation: str) -> str | None:
    spec = model()["operations"][operation].get("input")
    return spec["shape"] if spec else None


def output_shape(operation: str) -> str | None:
    spec = model()["operations"][operation].get("output")
    return spec["shape"] if spec else None


@cache
def _pattern(pattern: str) -> re.Pattern | None:
    if "\\p{" in pattern:
        return None
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def _member_path(path: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def _show(value: Any, sensitive: bool) -> str:
    if sensitive:
        return "Value"
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, list):
        text = "[" + ", ".join(str(v) for v in value) + "]"
    else:
        text = str(value)
    if len(text) > _VALUE_PREVIEW:
        text = text[:_VALUE_PREVIEW] + "..."
    return f"Value '{text}'"


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "double": (int, float),
    "float": (int, float),
    "timestamp": (int, float, str),
}


def _check(shape_name: str, value: Any, path: str, errors: list[str]) -> None:
    shape = model()["shapes"][shape_name]
    kind = shape["type"]
    sensitive = bool(shape.get("sensitive"))
    where = f"at '{path}' failed to satisfy constraint: Member must"
    expected = _JSON_TYPES.get(kind, (object,))
    wrong_bool = isinstance(value, bool) and kind not in ("boolean",)
    if not isinstance(value, expected) or wrong_bool:
        errors.append(f"{_show(value, sensitive)} {where} be of type {kind}")
        return
    if kind == "structure":
        for name in shape.get("required", ()):
            if value.get(name) is None:
                errors.append(
                    f"Value null at '{_member_path(path, name)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, member in shape.get("members", {}).items():
            if value.get(name) is None:
                continue
            if shape_name in TRIGGER_TARGET_PARENTS and member["shape"] == "ArnType":
                _check_trigger_target(value[name], _member_path(path, name), errors)
            else:
                _check(member["shape"], value[name], _member_path(path, name), errors)
        return
    if kind in ("list", "map", "string", "blob"):
        size = len(value)
        if "min" in shape and size < shape["min"]:
            errors.append(
                f"{_show(value, sensitive)} {where} have length greater than or "
                f"equal to {shape['min']}"
            )
        if "max" in shape and size > shape["max"]:
            errors.append(
                f"{_show(value, sensitive)} {where} have length less than or equal "
                f"to {shape['max']}"
            )
    if kind == "list":
        for index, item in enumerate(value, start=1):
            if item is None:  # a list has no absent items: null is refused, as a member's
                errors.append(
                    f"Value null at '{path}.{index}.member' failed to satisfy constraint: "
                    "Member must not be null"
                )
                continue
            _check(shape["member"]["shape"], item, f"{path}.{index}.member", errors)
    elif kind == "map":
        for key, item in value.items():
            _check(shape["key"]["shape"], key, f"{path}.{key}.key", errors)
            if item is not None:
                _check(shape["value"]["shape"], item, f"{path}.{key}.value", errors)
    elif kind == "string":
        if "enum" in shape and value not in shape["enum"]:
            errors.append(
                f"{_show(value, sensitive)} {where} satisfy enum value set: "
                f"[{', '.join(shape['enum'])}]"
            )
        elif "pattern" in shape and shape_name not in UNENFORCED_PATTERNS:
            pattern = _pattern(shape["pattern"])
            if pattern is not None and not pattern.fullmatch(value):
                errors.append(
                    f"{_show(value, sensitive)} {where} satisfy regular expression "
                    f"pattern: {shape['pattern']}"
                )
    elif kind in ("integer", "long", "double", "float"):
        if "min" in shape and value < shape["min"]:
            errors.append(
                f"{_show(value, sensitive)} {where} have value greater than or "
                f"equal to {shape['min']}"
            )
        if "max" in shape and value > shape["max"]:
            errors.append(
                f"{_show(value, sensitive)} {where} have value less than or equal to {shape['max']}"
            )


def _check_trigger_target(value: Any, path: str, errors: list[str]) -> None:
    where = f"at '{path}' failed to satisfy constraint: Member must"
    if not isinstance(value, str):
        errors.append(f"{_show(value, False)} {where} be of type string")
    elif not 1 <= len(value) <= TRIGGER_TARGET_MAX:
        errors.append(
            f"{_show(value, False)} {where} have length less than or equal to {TRIGGER_TARGET_MAX}"
        )


def validation_errors(operation: str, params: dict[str, Any]) -> list[str]:
    """Every way `params` breaks the operation's input shape, in Cognito's words."""
    shape = input_shape(operation)
    if shape is None:
        return []
    errors: list[str] = []
    _check(shape, params, "", errors)
    return errors


def validate_borrowed(operation: str, params: dict[str, Any], members: tuple[str, ...]) -> None:
    """Check `members` of `params` against `operation`'s input shape, where another operation
    takes them beyond its model (UpdateUserPool takes CreateUserPool's AliasAttributes...)."""
    shape = model()["shapes"][input_shape(operation)]["members"]
    errors: list[str] = []
    for name in members:
        if params.get(name) is not None:
            _check(shape[name]["shape"], params[name], _member_path("", name), errors)
    _raise(errors)


def validate(operation: str, params: dict[str, Any]) -> None:
    """Raise InvalidParameterException, worded as Cognito words it, if `params` break the
    operation's input shape."""
    _raise(validation_errors(operation, params))


def without_nulls(value: Any) -> Any:
    """`value` with every structure or map member that is JSON null left out, at every depth:
    the JSON protocol's null member is an absent one (validation skips it too), so an action
    that asks `"Name" in params` never meets a None it did not expect."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def _raise(errors: list[str]) -> None:
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise InvalidParameterException(f"{count} validation {noun} detected: " + "; ".join(errors))
