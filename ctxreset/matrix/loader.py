"""Loads and validates ``matrix.yaml``: targets, Pythons, loops, scenarios, fixes, expectations.

A bad file raises ``MatrixError`` whose message is one line naming the key, the bad value and
the allowed values; every entry point prints it and exits 2 before anything runs.

    python -m ctxreset.matrix [PATH]     # validate only; exit 0, or the line and exit 2

``CTXRESET_MATRIX`` points every entry point (pytest, nox, the report) at another file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from ctxreset import settings
from ctxreset.catalogue import LOOPS, PROPERTIES, SCENARIOS, fix_names
from ctxreset.matrix.checks import YamlRefused, check_requirement, check_rules, read_yaml, unpinned
from ctxreset.matrix.schema import first_problem, matrix_schema
from ctxreset.matrix.sources import KINDS, Source

SHARED_DATA = ("share", "ctxreset")
"""Where a wheel installs matrix.yaml, under the install scheme's data path (pyproject's
``[tool.setuptools.data-files]``)."""


def _data_dir() -> Path:
    """The folder holding matrix.yaml: the source checkout this package was imported from
    (an editable install, or a run from the tree), else what a wheel installed."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "matrix.yaml").is_file() and (checkout / "pyproject.toml").is_file():
        return checkout
    for data in (sysconfig.get_path("data"), sysconfig.get_path("data", f"{os.name}_user")):
        shared = Path(data).joinpath(*SHARED_DATA)
        if (shared / "matrix.yaml").is_file():
            return shared
    return checkout  # neither: the error names the checkout's path


DEFAULT_MATRIX_PATH = _data_dir() / "matrix.yaml"
CONSTRAINTS = DEFAULT_MATRIX_PATH.parent / "constraints"


def matrix_path() -> Path:
    return settings.matrix_file() or DEFAULT_MATRIX_PATH


def matrix_hash(path: Optional[Path] = None) -> str:
    """What results files record of the matrix.yaml they were judged under."""
    return hashlib.sha256((path or matrix_path()).read_bytes()).hexdigest()[:16]


class MatrixError(ValueError):
    """matrix.yaml is malformed; the message is one line."""


@dataclass(frozen=True)
class Target:
    requirement: Optional[str]  # None: the stdlib model, nothing to install
    requires_python: str  # PEP 440 specifier; "" = any
    baseline: Optional[str] = None
    """For a fixed release: the affected target whose unpatched (``none``) cells it is judged
    against."""
    source: Optional[Source] = None
    """A candidate (a checkout, a wheel, a release plus a patch) instead of a release; its
    cells are judged with the ``upstream`` fix on what its base release supports."""
    base_target: Optional[str] = None
    """A candidate's base release as a target id: its Pythons, exclusions and constraints."""
    also: tuple[str, ...] = ()
    """Pinned requirements installed with it (``with:``): what its adapter needs that the
    library does not depend on (pydantic-ai's OpenTelemetry SDK for the in-memory exporter)."""

    @property
    def requirements(self) -> list[str]:
        """Everything the target installs (nothing for the stdlib model)."""
        return [*([self.requirement] if self.requirement else []), *self.also]


@dataclass(frozen=True)
class Loop:
    requirement: Optional[str]
    requires_python: str
    optional: bool


@dataclass(frozen=True)
class Sweep:
    """The ``sweep:`` section: which releases ``nox -s sweep`` runs unpatched, and where."""

    package: str
    first: str  # the oldest release swept
    last: Optional[str]  # the newest release swept; None: the newest on PyPI at sweep time
    python: str
    loop: str
    timeout: Optional[float]  # seconds per cell; None: ctxreset.run.cell's default


@dataclass(frozen=True)
class Explore:
    """The ``explore:`` section: ``nox -s explore`` runs each cell of these targets under
    ``seeds`` seeded schedules (ctxreset/explore/cli.py), within ``budget`` seconds."""

    python: str
    targets: tuple[str, ...]
    seeds: int
    budget: float
    exclude: dict[str, str]  # scenario -> why it is not explored


@dataclass(frozen=True)
class Expectation:
    fails: frozenset[str]
    reproduces: Optional[str]  # regex an error must match, or None


@dataclass(frozen=True)
class Bench:
    """``nox -s bench``: where to measure what each fix costs, and how long
    (ctxreset/bench/measure.py)."""

    python: str
    target: str
    loops: tuple[str, ...]
    repeats: int
    runs: int  # short-script runs per sample
    long_deltas: int
    long_runs: int  # long-script runs per sample
    budget: float  # 0.05: a fix should cost at most 5% over ``none`` per streamed run


@functools.lru_cache(maxsize=1024)
def short_python(version: str) -> str:
    """``3.11.7`` -> ``3.11``."""
    return ".".join(version.split(".")[:2])


@functools.lru_cache(maxsize=1024)
def _allows(specifier: str, python: str) -> bool:
    """Whether ``specifier`` (a requires-python) admits ``python``: remembered, as the merge
    asks it for every planned cell (tens of thousands) of a few distinct pairs."""
    return not specifier or SpecifierSet(specifier).contains(short_python(python))


@dataclass(frozen=True)
class Matrix:
    targets: dict[str, Target]
    pythons: tuple[str, ...]
    loops: dict[str, Loop]
    scenarios: tuple[str, ...]
    fixes: dict[str, tuple[str, ...]]  # fix -> target ids it applies to
    rules: tuple[dict[str, Any], ...]
    exclusions: tuple[dict[str, Any], ...] = ()
    bench: Optional[Bench] = None  # no ``bench:`` section: ``nox -s bench`` has nothing to do
    sweep: Optional[Sweep] = None
    explore: Optional[Explore] = None
    _exclusion_of: dict[tuple[str, str, str, str], Optional[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    """``excluded``'s answers so far: a merge asks for every planned cell, once per fix."""

    def baseline_of(self, target: str) -> Optional[str]:
        """The target whose unpatched cells ``target``'s cells are compared with: itself when
        the fix ``none`` applies to it, else its ``baseline:`` (None: no comparison)."""
        if target in self.fixes.get("none", ()):
            return target
        return self.targets[target].baseline

    def release_of(self, target: str) -> str:
        """The released target whose Pythons and exclusions apply: a candidate's base, else
        the target itself."""
        return self.targets[target].base_target or target

    def fixes_for(self, target: str) -> tuple[str, ...]:
        return tuple(fix for fix, targets in self.fixes.items() if target in targets)

    def target_not_run(self, target: str, python: str) -> Optional[str]:
        """Why ``target`` cannot run on ``python`` according to the file, or None."""
        release = self.release_of(target)
        spec = self.targets[release].requires_python
        if _allows(spec, python):
            return None
        requirement = self.targets[release].requirement or release
        return f"not installable: {requirement} requires Python {spec} (matrix.yaml)"

    def loop_not_run(self, loop: str, python: str) -> Optional[str]:
        """Why ``loop`` cannot run on ``python`` according to the file, or None."""
        spec = self.loops[loop].requires_python
        if _allows(spec, python):
            return None
        return f"loop {loop} requires Python {spec} (matrix.yaml)"

    def excluded(self, target: str, scenario: str, loop: str, python: str) -> Optional[str]:
        """Why an ``exclusions`` rule keeps this cell from running, or None."""
        key = (self.release_of(target), scenario, loop, short_python(python))
        if key not in self._exclusion_of:
            self._exclusion_of[key] = self._exclusion(*key)
        return self._exclusion_of[key]

    def _exclusion(self, target: str, scenario: str, loop: str, python: str) -> Optional[str]:
        for rule in self.exclusions:
            if (
                scenario in rule.get("scenarios", [scenario])
                and loop in rule.get("loops", [loop])
                and target in rule.get("targets", [target])
                and python in rule.get("pythons", [python])
            ):
                return f"{rule['reason']} (matrix.yaml exclusions)"
        return None

    def loop_requirements(self) -> list[str]:
        """What every test environment installs for the loops (markers keep it per-Python)."""
        found = []
        for loop in self.loops.values():
            if loop.requirement and not loop.optional:
                found.append(_with_python_marker(loop.requirement, loop.requires_python))
        return found

    def optional_loop_requirements(self) -> list[str]:
        found = []
        for loop in self.loops.values():
            if loop.requirement and loop.optional:
                found.append(_with_python_marker(loop.requirement, loop.requires_python))
        return found

    def expectation(
        self, target: str, fix: str, scenario: str, loop: str, python: str
    ) -> Expectation:
        """The failing properties expected of one cell (empty: it must pass everything)."""
        python = short_python(python)
        for rule in self.rules:
            if (
                target in rule["targets"]
                and rule["fix"] == fix
                and rule["scenario"] == scenario
                and loop in rule.get("loops", [loop])
                and python in rule.get("pythons", [python])
            ):
                return Expectation(frozenset(rule["fails"]), rule.get("reproduces"))
        return Expectation(frozenset(), None)


def _with_python_marker(requirement: str, requires_python: str) -> str:
    if not requires_python:
        return requirement
    markers = [f"python_version {spec.operator} '{spec.version}'" for spec in
               sorted(SpecifierSet(requires_python), key=str)]
    joiner = " and " if ";" in requirement else "; "
    return requirement + joiner + " and ".join(markers)


def _fail(key: str, value: Any, allowed: str) -> MatrixError:
    return MatrixError(f"matrix.yaml: {key}: bad value {value!r}; allowed: {allowed}")


def parse_matrix(data: Any, folder: Optional[Path] = None) -> Matrix:
    """The validated matrix; ``folder`` (default: matrix.yaml's) anchors relative paths."""
    target_ids = list(data["targets"]) if isinstance(data, dict) and isinstance(
        data.get("targets"), dict) else []
    schema = matrix_schema(target_ids, fix_names(), SCENARIOS, LOOPS, PROPERTIES)
    problem = first_problem(data, schema)
    if problem:
        raise MatrixError(f"matrix.yaml: {problem}")

    targets = {}
    for target_id, spec in data["targets"].items():
        targets[target_id] = _parse_target(target_id, spec, data["targets"],
                                           folder or matrix_path().parent)
    fixes = {fix: tuple(spec["applies_to"]) for fix, spec in data["fixes"].items()}
    candidates = tuple(t for t, spec in targets.items() if spec.source is not None)
    if candidates and "upstream" in fixes:  # judged like a release: no runtime patch
        fixes["upstream"] = (*fixes["upstream"],
                             *(t for t in candidates if t not in fixes["upstream"]))
    loops = {}
    for name, spec in data["loops"].items():
        loops[name] = Loop(
            spec.get("requirement"), spec.get("requires_python", ""), spec.get("optional", False)
        )
    for key, spec in [*((f"targets.{k}", t.requires_python) for k, t in targets.items()),
                      *((f"loops.{k}", loop.requires_python) for k, loop in loops.items())]:
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            raise _fail(f"{key}.requires_python", spec, "a PEP 440 specifier") from None
    for target_id, target in targets.items():
        if target.baseline is not None and target.baseline not in data["fixes"].get(
                "none", {}).get("applies_to", ()):
            raise _fail(f"targets.{target_id}.baseline", target.baseline,
                        "a target the fix 'none' applies to")
    for index, rule in enumerate(data["expectations"]):
        if rule["fix"] not in fixes:  # a catalogue fix the file's fixes: section leaves out
            raise _fail(f"expectations[{index}].fix", rule["fix"], ", ".join(fixes))
        for loop in rule.get("loops", ()):
            if loop not in loops:
                raise _fail(f"expectations[{index}].loops", loop, ", ".join(loops))
        for target in rule["targets"]:
            if target not in fixes[rule["fix"]]:
                raise _fail(f"expectations[{index}].targets", target,
                            ", ".join(fixes[rule["fix"]]))
    for name, loop in loops.items():
        if loop.requirement:
            check_requirement(f"loops.{name}.requirement", loop.requirement)
    bench = _parse_bench(data.get("bench"), data, targets, loops)
    sweep = _parse_sweep(data.get("sweep"), loops)
    explore = _parse_explore(data.get("explore"), data, targets)
    matrix = Matrix(
        targets=targets,
        pythons=tuple(data["pythons"]),
        loops=loops,
        scenarios=tuple(data["scenarios"]),
        fixes=fixes,
        rules=tuple(data["expectations"]),
        exclusions=tuple(data.get("exclusions", ())),
        bench=bench,
        sweep=sweep,
        explore=explore,
    )
    check_rules(matrix)
    return matrix


def _parse_target(target_id: str, spec: dict[str, Any], specs: dict[str, Any],
                  folder: Path) -> Target:
    """A release (``requirement``) or a candidate (``path``, ``wheel``, or ``base`` and
    ``patch``); the schema has checked the types."""
    given = [key for key in ("requirement", *KINDS) if key in spec]
    key = f"targets.{target_id}"
    if len(given) != 1:
        raise MatrixError(f"matrix.yaml: {key}: give exactly one of requirement, path, wheel, "
                          f"patch (with base); got {', '.join(given) or 'none'}")
    if given[0] == "requirement":
        if "base" in spec:
            raise _fail(f"{key}.base", spec["base"], "only with path, wheel or patch")
        return Target(spec["requirement"], spec.get("requires_python", ""),
                      spec.get("baseline"), also=tuple(spec.get("with", ())))
    releases = {s.get("requirement"): t for t, s in specs.items()
                if isinstance(s, dict) and s.get("requirement")}
    base = spec.get("base")
    if base is None or base not in releases:
        raise _fail(f"{key}.base", base, "the requirement of a released target: "
                    + ", ".join(r for r in releases if r))
    if "requires_python" in spec or "baseline" in spec:
        raise MatrixError(f"matrix.yaml: {key}: a candidate takes its Pythons and baseline "
                          "from its base release; remove requires_python/baseline")
    location = Path(spec[given[0]])
    if not location.is_absolute():
        location = folder / location
    base_target = releases[base]
    baseline = specs[base_target].get("baseline") or base_target
    return Target(None, "", baseline, Source(given[0], location, base), base_target,
                  also=tuple(specs[base_target].get("with", ())))


def _parse_bench(
    spec: Optional[dict[str, Any]], data: dict[str, Any], targets: dict[str, Target],
    loops: dict[str, Loop],
) -> Optional[Bench]:
    """The ``bench:`` section, checked against the rest of the file (the schema checked types)."""
    if spec is None:
        return None
    python = spec["python"]
    if python not in data["pythons"]:
        raise _fail("bench.python", python, ", ".join(data["pythons"]))
    target_spec = targets[spec["target"]]
    if not _allows(target_spec.requires_python, python):
        raise _fail("bench.target", spec["target"],
                    f"a target that installs on Python {python}")
    for index, loop in enumerate(spec["loops"]):
        if loop not in loops:
            raise _fail(f"bench.loops[{index}]", loop, ", ".join(loops))
        if not _allows(loops[loop].requires_python, python):
            raise _fail(f"bench.loops[{index}]", loop, f"a loop that runs on Python {python}")
    return Bench(
        python=python,
        target=spec["target"],
        loops=tuple(spec["loops"]),
        repeats=spec["repeats"],
        runs=spec["runs"],
        long_deltas=spec["long_deltas"],
        long_runs=spec["long_runs"],
        budget=float(spec["budget"]),
    )


def _parse_sweep(spec: Optional[dict[str, Any]], loops: dict[str, Loop]) -> Optional[Sweep]:
    """The schema has checked the shapes; here, what needs the rest of the file."""
    if spec is None:
        return None
    if spec["loop"] not in loops:
        raise _fail("sweep.loop", spec["loop"], ", ".join(loops))
    last = spec.get("to")
    if last is not None and Version(last) < Version(spec["from"]):
        raise _fail("sweep.to", last, f"null or a release not older than {spec['from']}")
    return Sweep(spec["package"], spec["from"], last, spec["python"], spec["loop"],
                 spec.get("timeout"))


def _parse_explore(
    spec: Optional[dict[str, Any]], data: dict[str, Any], targets: dict[str, Target],
) -> Optional[Explore]:
    """The ``explore:`` section, checked against the rest of the file (the schema checked
    types and names)."""
    if spec is None:
        return None
    python = spec["python"]
    if python not in data["pythons"]:
        raise _fail("explore.python", python, ", ".join(data["pythons"]))
    for index, target in enumerate(spec["targets"]):
        if not _allows(targets[target].requires_python, python):
            raise _fail(f"explore.targets[{index}]", target,
                        f"a target that installs on Python {python}")
    return Explore(python, tuple(spec["targets"]), spec["seeds"], float(spec["budget"]),
                   dict(spec.get("exclude", {})))


def load_matrix(path: Optional[Path] = None) -> Matrix:
    path = path or matrix_path()
    try:
        data = read_yaml(path)
    except (OSError, yaml.YAMLError, YamlRefused) as exc:
        message = " ".join(str(exc).split())
        raise MatrixError(f"{path.name}: cannot read: {message}") from exc
    return parse_matrix(data, path.parent)


def load_matrix_for_command() -> Optional[Matrix]:
    """matrix.yaml for a command-line entry point: the matrix, or None once the one-line error
    is on stderr (the command then exits 2 before anything runs)."""
    try:
        return load_matrix()
    except MatrixError as exc:
        print(exc, file=sys.stderr)
        return None


def check_pins(matrix: Matrix) -> None:
    """Refuse a requirement constraints/ does not pin exactly (ctxreset.matrix.checks)."""
    problem = unpinned(matrix, CONSTRAINTS)
    if problem:
        raise MatrixError(problem)


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else matrix_path()
    try:
        matrix = load_matrix(path)
        check_pins(matrix)
    except MatrixError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{path}: ok ({len(matrix.targets)} targets, {len(matrix.pythons)} pythons, "
          f"{len(matrix.loops)} loops, {len(matrix.scenarios)} scenarios, "
          f"{len(matrix.fixes)} fixes, {len(matrix.rules)} expectations)")
    return 0
