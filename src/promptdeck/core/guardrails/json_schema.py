"""A small JSON Schema validator: the subset that answer formats need, no dependency.

Supported keywords: ``type`` (a name or a list of names: ``object``, ``array``,
``string``, ``number``, ``integer``, ``boolean``, ``null``), ``enum``, ``const``,
``properties``, ``required``, ``additionalProperties`` (boolean or schema), ``items``
(one schema), ``minItems``/``maxItems``, ``minLength``/``maxLength``, ``pattern``,
``minimum``/``maximum``, ``exclusiveMinimum``/``exclusiveMaximum`` (numbers),
``anyOf``/``oneOf``/``allOf``. Other keywords are ignored, as JSON Schema does with
unknown ones. Booleans are not numbers, and ``1.0`` counts as an integer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["SchemaError", "schema_errors"]

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}


class SchemaError(ValueError):
    """The schema itself is invalid (an unknown type name, a bad pattern)."""


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def schema_errors(instance: Any, schema: Mapping[str, Any] | bool, path: str = "$") -> list[str]:
    """Validate a JSON value against a schema.

    Args:
        instance: The parsed JSON value.
        schema: The schema (``True`` accepts anything, ``False`` nothing).
        path: Where ``instance`` sits (for messages).

    Returns:
        One message per violation, each starting with the JSON path (empty when valid).

    Raises:
        SchemaError: When the schema is invalid.
    """
    if schema is True:
        return []
    if schema is False:
        return [f"{path}: no value is allowed here"]
    if not isinstance(schema, Mapping):
        raise SchemaError(f"a schema must be an object or a boolean, not {type(schema).__name__}")
    errors: list[str] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        for name in names:
            if name not in _TYPES:
                raise SchemaError(f"unknown type {name!r} in the schema")
        if not any(_TYPES[name](instance) for name in names):
            return [f"{path}: expected {' or '.join(names)}, got {_type_name(instance)}"]
    if "enum" in schema and not any(_equal(instance, v) for v in schema["enum"]):
        errors.append(f"{path}: {instance!r} is not one of {schema['enum']!r}")
    if "const" in schema and not _equal(instance, schema["const"]):
        errors.append(f"{path}: expected {schema['const']!r}, got {instance!r}")
    if isinstance(instance, dict):
        errors += _object_errors(instance, schema, path)
    elif isinstance(instance, list):
        errors += _array_errors(instance, schema, path)
    elif isinstance(instance, str):
        errors += _string_errors(instance, schema, path)
    elif _TYPES["number"](instance):
        errors += _number_errors(instance, schema, path)
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in schema:
            results = [schema_errors(instance, sub, path) for sub in schema[keyword]]
            passed = sum(1 for r in results if not r)
            if keyword == "allOf":
                errors += [e for r in results for e in r]
            elif keyword == "anyOf" and not passed:
                errors.append(f"{path}: matches none of the anyOf schemas")
            elif keyword == "oneOf" and passed != 1:
                errors.append(f"{path}: matches {passed} of the oneOf schemas, not exactly one")
    return errors


def _type_name(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__


def _object_errors(instance: dict[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    errors = [
        f"{path}: missing required property {key!r}"
        for key in schema.get("required", [])
        if key not in instance
    ]
    properties = schema.get("properties", {})
    for key, value in instance.items():
        if key in properties:
            errors += schema_errors(value, properties[key], f"{path}.{key}")
        elif "additionalProperties" in schema:
            extra = schema["additionalProperties"]
            if extra is False:
                errors.append(f"{path}: property {key!r} is not allowed")
            else:
                errors += schema_errors(value, extra, f"{path}.{key}")
    return errors


def _array_errors(instance: list[Any], schema: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    if "minItems" in schema and len(instance) < schema["minItems"]:
        errors.append(f"{path}: expected at least {schema['minItems']} items, got {len(instance)}")
    if "maxItems" in schema and len(instance) > schema["maxItems"]:
        errors.append(f"{path}: expected at most {schema['maxItems']} items, got {len(instance)}")
    if isinstance(schema.get("items"), Mapping | bool):
        for i, item in enumerate(instance):
            errors += schema_errors(item, schema["items"], f"{path}[{i}]")
    return errors


def _string_errors(instance: str, schema: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    if "minLength" in schema and len(instance) < schema["minLength"]:
        errors.append(f"{path}: shorter than {schema['minLength']} characters")
    if "maxLength" in schema and len(instance) > schema["maxLength"]:
        errors.append(f"{path}: longer than {schema['maxLength']} characters")
    if "pattern" in schema:
        try:
            pattern = re.compile(schema["pattern"])
        except re.error as exc:
            raise SchemaError(f"invalid pattern {schema['pattern']!r}: {exc}") from exc
        if not pattern.search(instance):
            errors.append(f"{path}: {instance!r} does not match {schema['pattern']!r}")
    return errors


def _number_errors(instance: float, schema: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    if "minimum" in schema and instance < schema["minimum"]:
        errors.append(f"{path}: {instance} is less than the minimum {schema['minimum']}")
    if "maximum" in schema and instance > schema["maximum"]:
        errors.append(f"{path}: {instance} is greater than the maximum {schema['maximum']}")
    if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
        errors.append(f"{path}: {instance} is not greater than {schema['exclusiveMinimum']}")
    if "exclusiveMaximum" in schema and instance >= schema["exclusiveMaximum"]:
        errors.append(f"{path}: {instance} is not less than {schema['exclusiveMaximum']}")
    return errors
