"""Where ``nox -s explore`` keeps its files, and reading them back.

    results/explore/py<python>/run.json                          the last run: seeds, budget,
                                                                 timings, cells left out
    results/explore/py<python>/<target>/<fix>/<scenario>.json    one cell under every seed

A cell file holds the cell's default-order outcome (the plain asyncio loop) and its outcomes
under seeds ``first_seed`` .. ``first_seed + seeds - 1``, grouped: each distinct outcome
(status and failing properties) with the seeds that gave it, its reason and evidence, and
whether re-running its first seed gave it again (``replayed``). Nothing here starts with
``py`` at the top of ``results/``, so the matrix's merge (``results/py*/**``) never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxreset.catalogue import PROPERTIES
from ctxreset.records import Problem, read_json

SCHEMA_VERSION = 1
RUN_FILE = "run.json"
KIND = "explore-cell"


def explore_root(results: Path) -> Path:
    return results / "explore"


def cell_file(root: Path, python: str, target: str, fix: str, scenario: str) -> Path:
    """``root`` is ``results/explore``; ``python`` the short version, ``3.11``."""
    return root / f"py{python}" / target / fix / f"{scenario}.json"


@dataclass(frozen=True)
class Outcome:
    """One way a cell ended: ``checked`` with its failing properties (none: a pass), or
    ``timeout``/``error`` with the reason."""

    status: str
    failing: tuple[str, ...]
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "checked" and not self.failing

    def problems(self) -> tuple[str, ...]:
        """What it fails: its properties, or its status when the cell was not checked."""
        return self.failing if self.status == "checked" else (self.status,)

    def text(self) -> str:
        if self.status != "checked":
            return self.status
        return ", ".join(self.failing) or "pass"


@dataclass
class ScheduleGroup:
    """The seeds that ended one way."""

    outcome: Outcome
    seeds: list[int]
    evidence: dict[str, list[str]] = field(default_factory=dict)
    replayed: bool = False  # its first seed, run again, ended the same way


@dataclass
class ExploredCell:
    python: str
    target: str
    fix: str
    scenario: str
    default: Outcome
    first_seed: int
    seeds: int
    groups: list[ScheduleGroup]
    duration_s: float

    @property
    def passes(self) -> int:
        return sum(len(g.seeds) for g in self.groups if g.outcome.passed)

    def outcome_of(self, seed: int) -> Outcome:
        for group in self.groups:
            if seed in group.seeds:
                return group.outcome
        raise KeyError(seed)

    def differing(self) -> list[ScheduleGroup]:
        """The groups whose outcome is not the default order's."""
        return [g for g in self.groups if g.outcome != self.default]


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    return {"status": outcome.status, "failing": list(outcome.failing), "reason": outcome.reason}


def cell_payload(cell: ExploredCell, env: dict[str, Any]) -> dict[str, Any]:
    """What ``cell_file`` holds (``env``: the provenance, ``ctxreset.records.provenance``)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "matrix_hash": env.get("matrix_hash"),
        "provenance": env,
        "cell": {"python": cell.python, "target": cell.target, "fix": cell.fix,
                 "scenario": cell.scenario, "loop": "seeded"},
        "default": _outcome_dict(cell.default),
        "first_seed": cell.first_seed,
        "seeds": cell.seeds,
        "passes": cell.passes,
        "groups": [
            {**_outcome_dict(g.outcome), "seeds": g.seeds, "evidence": g.evidence,
             "replayed": g.replayed}
            for g in cell.groups
        ],
        "duration_s": cell.duration_s,
    }


def _outcome(data: Any) -> Outcome:
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        raise Problem("an outcome without a status")
    failing = data.get("failing")
    if not isinstance(failing, list) or any(p not in PROPERTIES for p in failing):
        raise Problem(f"failing is not a list of properties: {failing!r}")
    if data["status"] not in ("checked", "timeout", "error"):
        raise Problem(f"unknown status {data['status']!r}")
    return Outcome(data["status"], tuple(failing), str(data.get("reason", "")))


def parse_cell(data: Any) -> ExploredCell:
    """An explored cell from its file's contents; ``Problem`` with the reason if malformed."""
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise Problem("not an explored cell file")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise Problem(f"schema_version {data.get('schema_version')!r}; this harness reads "
                      f"{SCHEMA_VERSION}")
    cell = data.get("cell")
    if not isinstance(cell, dict) or not all(isinstance(cell.get(k), str) for k in (
            "python", "target", "fix", "scenario")):
        raise Problem("no cell names")
    groups = []
    seen: set[int] = set()
    for group in data.get("groups") or []:
        seeds = group.get("seeds") if isinstance(group, dict) else None
        if not isinstance(seeds, list) or not all(isinstance(s, int) for s in seeds):
            raise Problem("a group without a list of seeds")
        if seen & set(seeds):
            raise Problem("a seed in two groups")
        seen |= set(seeds)
        evidence = group.get("evidence") or {}
        if not isinstance(evidence, dict):
            raise Problem("evidence is not a mapping")
        groups.append(ScheduleGroup(_outcome(group), seeds, evidence,
                                    bool(group.get("replayed"))))
    first_seed, count = data.get("first_seed"), data.get("seeds")
    if not isinstance(first_seed, int) or not isinstance(count, int) or len(seen) != count:
        raise Problem(f"{len(seen)} seeds in the groups, {count!r} announced")
    return ExploredCell(cell["python"], cell["target"], cell["fix"], cell["scenario"],
                        _outcome(data.get("default")), first_seed, count, groups,
                        float(data.get("duration_s") or 0.0))


@dataclass
class ExploreResults:
    run: dict[str, Any]  # run.json (empty when the run never finished writing it)
    cells: list[ExploredCell]
    unreadable: list[str]  # "path: reason"
    stale: list[str]  # written under another matrix.yaml


def load_explored(root: Path, matrix_hash: str) -> dict[str, ExploreResults]:
    """Every Python's explored cells under ``root`` (``results/explore``), by Python."""
    found: dict[str, ExploreResults] = {}
    for python_dir in sorted(root.glob("py*")):
        if not python_dir.is_dir():
            continue
        run: dict[str, Any] = {}
        try:
            data = read_json(python_dir / RUN_FILE)
            run = data if isinstance(data, dict) else {}
        except Problem:
            pass
        results = ExploreResults(run, [], [], [])
        for path in sorted(python_dir.glob("*/*/*.json")):
            if path.name.startswith("."):
                continue  # a temporary file an interrupted write left behind
            try:
                data = read_json(path)
                if not isinstance(data, dict) or not isinstance(data.get("matrix_hash"), str):
                    raise Problem("no matrix hash: the harness cannot vouch for it")
                if data["matrix_hash"] != matrix_hash:
                    results.stale.append(str(path))
                    continue
                results.cells.append(parse_cell(data))
            except Problem as exc:
                results.unreadable.append(f"{path}: {exc}")
        found[python_dir.name[2:]] = results
    return found
