"""Loads and validates ``matrix.yaml``: targets, loops, scenarios, fixes and expectations.

A bad file raises ``MatrixError`` whose message is one line naming the key, the bad value and
the allowed values; command-line entry points print it and exit 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from harness.checker import PROPERTIES
from harness.loops import LOOP_FACTORIES
from repro.scenarios import SCENARIOS

MATRIX_PATH = Path(__file__).resolve().parent.parent / "matrix.yaml"
TOP_LEVEL_KEYS = ("targets", "pythons", "loops", "scenarios", "fixes", "expectations")
RULE_KEYS = ("targets", "fix", "scenario", "fails", "reproduces", "loops", "pythons")


class MatrixError(ValueError):
    """matrix.yaml is malformed; the message is one line."""


@dataclass(frozen=True)
class Expectation:
    fails: frozenset[str]
    reproduces: Optional[str]  # regex an error must match, or None


@dataclass(frozen=True)
class Matrix:
    targets: dict[str, Optional[str]]  # id -> pip requirement
    pythons: tuple[str, ...]
    loops: tuple[str, ...]
    scenarios: tuple[str, ...]
    fixes: dict[str, tuple[str, ...]]  # fix -> target ids it applies to
    rules: tuple[dict[str, Any], ...]

    def target_id(self, label: str) -> str:
        """``minimal`` or ``openai-agents==X`` -> the matrix's target id."""
        for target, requirement in self.targets.items():
            if label in (target, requirement):
                return target
        raise MatrixError(f"targets: no target installs {label!r}; known: {_names(self.targets)}")

    def fixes_for(self, target: str) -> tuple[str, ...]:
        return tuple(fix for fix, targets in self.fixes.items() if target in targets)

    def expectation(
        self, target: str, fix: str, scenario: str, loop: str, python: str
    ) -> Expectation:
        """The failing properties expected of one cell (empty: it must pass everything)."""
        short_python = ".".join(python.split(".")[:2])
        for rule in self.rules:
            if (
                target in rule["targets"]
                and rule["fix"] == fix
                and rule["scenario"] == scenario
                and loop in rule.get("loops", [loop])
                and short_python in rule.get("pythons", [short_python])
            ):
                return Expectation(frozenset(rule["fails"]), rule.get("reproduces"))
        return Expectation(frozenset(), None)


def _names(values: Any) -> str:
    return ", ".join(str(v) for v in values)


def _require(condition: bool, key: str, value: Any, allowed: Any) -> None:
    if not condition:
        raise MatrixError(f"matrix.yaml: {key}: bad value {value!r}; allowed: {_names(allowed)}")


def _check_keys(mapping: Any, key: str, allowed: tuple[str, ...]) -> None:
    _require(isinstance(mapping, dict), key, type(mapping).__name__, ["a mapping"])
    for name in mapping:
        _require(name in allowed, f"{key}.{name}" if key else str(name), name, allowed)


def parse_matrix(data: Any) -> Matrix:
    _check_keys(data, "", TOP_LEVEL_KEYS)
    for key in TOP_LEVEL_KEYS:
        _require(key in data, key, "missing", ["a value"])

    targets: dict[str, Optional[str]] = {}
    _require(isinstance(data["targets"], dict), "targets", data["targets"], ["a mapping"])
    for target, spec in data["targets"].items():
        _check_keys(spec, f"targets.{target}", ("requirement",))
        requirement = spec.get("requirement")
        _require(
            requirement is None or re.fullmatch(r"openai-agents==\d+(\.\d+){1,2}", requirement),
            f"targets.{target}.requirement", requirement, ["openai-agents==X.Y.Z", "null"],
        )
        targets[target] = requirement

    pythons = tuple(data["pythons"] or ())
    for index, python in enumerate(pythons):
        _require(
            isinstance(python, str) and re.fullmatch(r"3\.\d+", python) is not None,
            f"pythons[{index}]", python, ["a quoted CPython version such as '3.12'"],
        )
    loops = tuple(data["loops"] or ())
    for index, loop in enumerate(loops):
        _require(loop in LOOP_FACTORIES, f"loops[{index}]", loop, LOOP_FACTORIES)
    scenarios = tuple(data["scenarios"] or ())
    for index, scenario in enumerate(scenarios):
        _require(scenario in SCENARIOS, f"scenarios[{index}]", scenario, SCENARIOS)

    from fixes import FIXES

    fixes: dict[str, tuple[str, ...]] = {}
    _require(isinstance(data["fixes"], dict), "fixes", data["fixes"], ["a mapping"])
    for fix, spec in data["fixes"].items():
        _require(fix in FIXES, "fixes", fix, FIXES)
        _check_keys(spec, f"fixes.{fix}", ("applies_to",))
        for index, target in enumerate(spec.get("applies_to") or ()):
            _require(target in targets, f"fixes.{fix}.applies_to[{index}]", target, targets)
        fixes[fix] = tuple(spec.get("applies_to") or ())

    rules = tuple(data["expectations"] or ())
    for index, rule in enumerate(rules):
        key = f"expectations[{index}]"
        _check_keys(rule, key, RULE_KEYS)
        for required in ("targets", "fix", "scenario", "fails"):
            _require(required in rule, f"{key}.{required}", "missing", ["a value"])
        for target in rule["targets"]:
            _require(target in targets, f"{key}.targets", target, targets)
        _require(rule["fix"] in fixes, f"{key}.fix", rule["fix"], fixes)
        _require(rule["scenario"] in scenarios, f"{key}.scenario", rule["scenario"], scenarios)
        for prop in rule["fails"]:
            _require(prop in PROPERTIES, f"{key}.fails", prop, PROPERTIES)
        for loop in rule.get("loops", ()):
            _require(loop in LOOP_FACTORIES, f"{key}.loops", loop, LOOP_FACTORIES)
    return Matrix(targets, pythons, loops, scenarios, fixes, rules)


def load_matrix(path: Path = MATRIX_PATH) -> Matrix:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        message = " ".join(str(exc).split())
        raise MatrixError(f"{path.name}: cannot read: {message}") from exc
    return parse_matrix(data)
