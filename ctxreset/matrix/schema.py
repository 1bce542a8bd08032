"""The JSON Schema matrix.yaml must satisfy, and one-line messages for what breaks it.

The names a file may use (fixes, scenarios, loops, properties) come from the code's own
registries, and target ids from the file's ``targets`` section, so the schema is built per
file by ``matrix_schema``. ``first_problem`` turns jsonschema's errors into the one line a
user sees: the key, the bad value and the allowed values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ctxreset.catalogue import LIBRARIES

_PINNED = "^(" + "|".join(LIBRARIES) + r")==\d+(\.\d+){1,2}$"
"""A target's requirement: one library the harness has an adapter for, pinned exactly."""
_ANY_PINNED = r"^[A-Za-z0-9._-]+==\d+(\.\d+){1,2}$"
"""What a target installs besides its library (``with:``), pinned exactly."""

REQUIRED_KEYS = ("targets", "pythons", "loops", "scenarios", "fixes", "expectations")
TOP_LEVEL_KEYS = (*REQUIRED_KEYS, "exclusions", "bench", "sweep", "explore")  # in file order

_ONE_SPECIFIER = r"(==|!=|<=|>=|<|>|~=)\s*3(\.\d+)*"
_REQUIRES_PYTHON = {
    "type": "string",
    "pattern": rf"^\s*{_ONE_SPECIFIER}(\s*,\s*{_ONE_SPECIFIER})*\s*$",
    "description": "a PEP 440 specifier such as '>=3.10'",
}
_PYTHON = {
    "type": "string",
    "pattern": r"^3\.\d+$",
    "description": "a quoted CPython version such as '3.12'",
}
_REQUIREMENT = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[.*\])?\s*([=<>!~]=?.*)?(;.*)?$",
    "description": "a pip requirement such as 'uvloop==0.23.0'",
}
_LOCATION = {
    "type": "string",
    "minLength": 1,
    "description": "a path, relative to matrix.yaml or absolute",
}
_RELEASE = {
    "type": "string",
    "pattern": r"^\d+(\.\d+)*$",
    "description": "a quoted release version such as '0.0.3'",
}


def _count(minimum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "description": f"an integer >= {minimum}"}


def _bench(targets: list[str], loops: list[str]) -> dict[str, Any]:
    """The optional ``bench:`` section: what ``nox -s bench`` measures
    (ctxreset/bench/measure.py)."""
    return _closed(
        {
            "python": _PYTHON,
            "target": _enum(targets),
            "loops": {"type": "array", "minItems": 1, "items": _enum(loops), "uniqueItems": True},
            "repeats": _count(1),
            "runs": _count(1),
            "long_deltas": _count(10),  # more than the default script's 5: the slope needs it
            "long_runs": _count(1),
            "budget": {"type": "number", "minimum": 0, "description": "a fraction such as 0.05"},
        },
        required=("python", "target", "loops", "repeats", "runs", "long_deltas", "long_runs",
                  "budget"),
    )


def _explore(targets: list[str], scenarios: list[str]) -> dict[str, Any]:
    """The optional ``explore:`` section: what ``nox -s explore`` runs under seeded schedules
    (ctxreset/explore/cli.py)."""
    return _closed(
        {
            "python": _PYTHON,
            "targets": {"type": "array", "minItems": 1, "items": _enum(targets),
                        "uniqueItems": True},
            "seeds": _count(1),
            "budget": {"type": "number", "exclusiveMinimum": 0,
                       "description": "seconds for the whole run, a positive number"},
            "exclude": {
                "type": "object",
                "propertyNames": _enum(scenarios),
                "additionalProperties": {"type": "string", "minLength": 1,
                                         "description": "the reason, a non-empty string"},
            },
        },
        required=("python", "targets", "seeds", "budget"),
    )


def _enum(names: Iterable[str]) -> dict[str, Any]:
    return {"enum": list(names)}


def _some(item: dict[str, Any]) -> dict[str, Any]:
    """A non-empty list of ``item``."""
    return {"type": "array", "minItems": 1, "items": item}


def _closed(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def matrix_schema(
    target_ids: Iterable[str],
    fixes: Iterable[str],
    scenarios: Iterable[str],
    loops: Iterable[str],
    properties: Iterable[str],
) -> dict[str, Any]:
    targets, fixes, scenarios = list(target_ids), list(fixes), list(scenarios)
    loops, properties = list(loops), list(properties)
    target = {
        "type": "string",
        "pattern": r"^[a-z][a-z0-9.-]*$",
        "description": "an id of lowercase letters, digits, '.' and '-'",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_closed(
            {
                "targets": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": target,
                    "additionalProperties": _closed(
                        {
                            "requirement": {
                                "oneOf": [
                                    {"type": "null"},
                                    {
                                        "type": "string",
                                        "pattern": _PINNED,
                                        "description": " or ".join(
                                            f"{name}==X.Y.Z" for name in LIBRARIES),
                                    },
                                ]
                            },
                            "requires_python": _REQUIRES_PYTHON,
                            "with": {
                                "type": "array",
                                "items": {"type": "string", "pattern": _ANY_PINNED,
                                          "description": "name==X.Y.Z"},
                            },
                            "baseline": {
                                **_enum(targets),
                                "description": "the affected target this release fixes; its "
                                "unpatched cells are what this one must not do worse than",
                            },
                            # A candidate (ctxreset/matrix/sources.py): instead of a release.
                            "path": _LOCATION,
                            "wheel": _LOCATION,
                            "patch": _LOCATION,
                            "base": {
                                "type": "string",
                                "pattern": r"^openai-agents==\d+(\.\d+){1,2}$",
                                "description": "the release a candidate starts from, "
                                "openai-agents==X.Y.Z (a requirement of another target)",
                            },
                        },
                    ),
                },
                "pythons": {"type": "array", "minItems": 1, "items": _PYTHON, "uniqueItems": True},
                "loops": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": _enum(loops),
                    "additionalProperties": _closed(
                        {
                            "requirement": _REQUIREMENT,
                            "requires_python": _REQUIRES_PYTHON,
                            "optional": {"type": "boolean"},
                        }
                    ),
                },
                "scenarios": {
                    "type": "array",
                    "minItems": 1,
                    "items": _enum(scenarios),
                    "uniqueItems": True,
                },
                "fixes": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": _enum(fixes),
                    "additionalProperties": _closed(
                        {"applies_to": {"type": "array", "items": _enum(targets)}},
                        required=("applies_to",),
                    ),
                },
                "expectations": {
                    "type": "array",
                    "items": _closed(
                        {
                            "targets": {"type": "array", "minItems": 1, "items": _enum(targets)},
                            "fix": _enum(fixes),
                            "scenario": _enum(scenarios),
                            "fails": {"type": "array", "items": _enum(properties)},
                            "reproduces": {"type": "string", "minLength": 1},
                            "loops": {"type": "array", "minItems": 1, "items": _enum(loops)},
                            "pythons": {"type": "array", "minItems": 1, "items": _PYTHON},
                        },
                        required=("targets", "fix", "scenario", "fails"),
                    ),
                },
                "exclusions": {
                    "type": "array",
                    "items": _closed(
                        {
                            "scenarios": _some(_enum(scenarios)),
                            "loops": _some(_enum(loops)),
                            "targets": _some(_enum(targets)),
                            "pythons": _some(_PYTHON),
                            "reason": {"type": "string", "minLength": 1},
                        },
                        required=("reason",),
                    ),
                },
                "bench": _bench(targets, loops),
                "sweep": _closed(
                    {
                        "package": {"enum": list(LIBRARIES)},
                        "from": _RELEASE,
                        "to": {"oneOf": [{"type": "null", "description": "null (the newest)"},
                                         _RELEASE]},
                        "python": _PYTHON,
                        "loop": _enum(loops),
                        "timeout": {"type": "number", "exclusiveMinimum": 0,
                                    "description": "seconds per cell, a positive number"},
                    },
                    required=("package", "from", "python", "loop"),
                ),
                "explore": _explore(targets, scenarios),
            },
            required=REQUIRED_KEYS,
        ),
    }


def _key(path: Iterable[Any]) -> str:
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _names(values: Iterable[Any]) -> str:
    return ", ".join(str(value) for value in values)


def _describe(error: ValidationError) -> str:
    """One line for one schema violation."""
    key = _key(error.absolute_path) or "(top level)"
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        extra = [name for name in error.instance if name not in schema.get("properties", {})]
        allowed = _names(schema.get("properties", {}))
        name = extra[0] if extra else "?"
        where = f"{key}.{name}" if error.absolute_path else str(name)
        return f"{where}: unknown key {name!r}; allowed: {allowed}"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        where = f"{key}.{missing}" if error.absolute_path else missing
        return f"{where}: missing; required: {_names(error.validator_value)}"
    if error.validator == "enum":
        return f"{key}: bad value {error.instance!r}; allowed: {_names(error.validator_value)}"
    if error.validator == "oneOf":
        described = [s.get("description") or s.get("type") for s in error.validator_value]
        return f"{key}: bad value {error.instance!r}; allowed: {_names(described)}"
    allowed = schema.get("description") or f"{error.validator} {error.validator_value!r}"
    return f"{key}: bad value {error.instance!r}; allowed: {allowed}"


def _order(error: ValidationError) -> tuple[int, int, str]:
    path = list(error.absolute_path)
    top = TOP_LEVEL_KEYS.index(path[0]) if path and path[0] in TOP_LEVEL_KEYS else -1
    return (top, len(path), _key(path))


def first_problem(data: Any, schema: dict[str, Any]) -> Optional[str]:
    """The first violation, in file order (targets before the sections that name targets)."""
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=_order)
    if not errors:
        return None
    return _describe(errors[0])
