"""A small, strict checker of raw JSON answers against botocore's output shapes: every member
known to the model, of its type, within its length, range and enum, required members present,
timestamps as epoch-second numbers."""

from __future__ import annotations

import re
from typing import Any

import botocore.session

from api.shapes import UNENFORCED_PATTERNS

_model = botocore.session.get_session().get_service_model("cognito-idp")
# Cognito itself answers these values, which break the model's own limits: SchemaAttributes
# lists `phone_number_verified` (21 characters) though the model caps names at 20; and a
# custom domain is a host name with dots, which DomainType's pattern has not (api.shapes).
KNOWN_MODEL_EXCEPTIONS = {("CustomAttributeNameType", "phone_number_verified")}


def _problems(shape, value: Any, path: str) -> list[str]:
    kind = shape.type_name
    problems: list[str] = []
    meta = shape.metadata
    if kind == "structure" and getattr(shape, "is_document_type", False):
        # A Document (ManagedLoginBranding.Settings) is free-form JSON: any object.
        return [] if isinstance(value, dict) else [f"{path}: expected a document, got {value!r}"]
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}.{name}: required, missing")
        for name, item in value.items():
            if name not in shape.members:
                problems.append(f"{path}.{name}: not a member of {shape.name}")
            else:
                problems += _problems(shape.members[name], item, f"{path}.{name}")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        problems += _length(meta, len(value), path)
        for index, item in enumerate(value):
            problems += _problems(shape.member, item, f"{path}[{index}]")
        return problems
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map"]
        for key, item in value.items():
            problems += _problems(shape.key, key, f"{path}<key>")
            problems += _problems(shape.value, item, f"{path}[{key}]")
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        if (shape.name, value) in KNOWN_MODEL_EXCEPTIONS:
            return []
        problems += _length(meta, len(value), path)
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in {shape.enum}")
        pattern = meta.get("pattern")
        if (
            pattern
            and shape.name not in UNENFORCED_PATTERNS
            and "\\p{" not in pattern
            and not re.fullmatch(pattern, value, re.DOTALL)
        ):
            problems.append(f"{path}: {value!r} does not match {pattern}")
        return problems
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: expected an integer, got {value!r}"]
        if "min" in meta and value < meta["min"] or "max" in meta and value > meta["max"]:
            problems.append(f"{path}: {value} outside [{meta.get('min')}, {meta.get('max')}]")
        return problems
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean"]
    if kind == "timestamp":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected epoch seconds, got {value!r}"]
    return []


def _length(meta: dict, size: int, path: str) -> list[str]:
    if "min" in meta and size < meta["min"] or "max" in meta and size > meta["max"]:
        return [f"{path}: length {size} outside [{meta.get('min')}, {meta.get('max')}]"]
    return []


def output_problems(operation: str, body: Any) -> list[str]:
    """Every way `body` (raw JSON) breaks `operation`'s output shape; [] if it fits."""
    shape = _model.operation_model(operation).output_shape
    if shape is None:
        return [] if body in (None, {}) else [f"{operation} has no output, got {body!r}"]
    return _problems(shape, body, operation)


def assert_fits(recorder) -> None:
    """Every successful answer the recorder saw fits its operation's output shape."""
    checked = 0
    for operation, status, body in recorder.bodies:
        if status == 200:
            problems = output_problems(operation, body)
            assert not problems, problems
            checked += 1
    assert checked, "no successful answer was recorded"
