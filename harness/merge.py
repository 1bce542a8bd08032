"""Merge a results directory into one view of the matrix: every planned cell, with what is known.

Each cell matrix.yaml plans gets exactly one record: its results file if there is one and it
was written under the current matrix.yaml; otherwise "not run" with the reason (the matrix's
own constraints, or no result at all: session not run, interpreter missing, interrupted).
Files written under another matrix.yaml are *stale*: listed, never mixed into the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from harness.cell import INTERRUPTED
from harness.matrix import Matrix
from harness.plan import CellId, planned_cells, ruled_out
from harness.result_files import CELL_FIELDS, Problem, cell_problem, read_json, session_problem

NO_RESULT = "no result: its session did not run (filtered out, interrupted or crashed)"
PYTEST_INTERRUPTED = 2  # pytest.ExitCode.INTERRUPTED


@dataclass
class CellRecord:
    cell: CellId
    status: str  # "checked", "not run", "timeout", "error"
    failing: tuple[str, ...] = ()
    reason: str = ""
    evidence: dict[str, list[str]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        """pass, fail, not run, error or timeout."""
        if self.status == "checked":
            return "fail" if self.failing else "pass"
        return self.status


@dataclass
class Merged:
    matrix_hash: str
    records: dict[CellId, CellRecord]
    stale: list[str]  # results files written under another matrix.yaml
    unreadable: list[str]  # files that are not valid results (reported, not fatal)
    sessions: list[dict[str, Any]]
    problems: dict[str, str] = field(default_factory=dict)  # unreadable path -> why


def invalid_reason(path: str, problem: str) -> str:
    """The "not run" reason of a cell whose only results file cannot be counted."""
    return f"invalid result file {path}: {problem}"


def _record(data: dict[str, Any]) -> CellRecord:
    cell = data["cell"]
    properties = cell.get("properties", {})
    failing = tuple(name for name, prop in properties.items() if prop["status"] == "fail")
    provenance = {key: value for key, value in data.items() if key not in ("cell",)}
    return CellRecord(
        cell=CellId(cell["python"], cell["target"], cell["fix"], cell["scenario"], cell["loop"]),
        status=cell["status"],
        failing=failing,
        reason=cell.get("reason", ""),
        evidence={name: prop.get("evidence", []) for name, prop in properties.items()
                  if prop["status"] == "fail"},
        errors=cell.get("errors", []),
        provenance=provenance,
    )


def load_cell_file(path: Path) -> Optional[dict[str, Any]]:
    try:
        data = read_json(path)
    except Problem:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("cell"), dict) else None


def _stale(data: Any, matrix_hash: str) -> bool:
    """Written under another matrix.yaml (a record with no hash is invalid, not stale)."""
    return isinstance(data, dict) and isinstance(data.get("matrix_hash"), str) and (
        data["matrix_hash"] != matrix_hash)


def merge(root: Path, matrix: Matrix, matrix_hash: str) -> Merged:
    found: dict[CellId, CellRecord] = {}
    invalid: dict[CellId, str] = {}
    stale, unreadable, problems = [], [], {}
    planned = {f"py{c.python}/{c.target}/{c.fix}/{c.scenario}-{c.loop}.json": c
               for python in matrix.pythons for c in planned_cells(matrix, python)}
    for path in sorted(root.glob("py*/**/*.json")):
        if path.name.startswith("."):
            continue  # a temporary file a crash left behind: never a result
        cell = planned.get(path.relative_to(root).as_posix())
        try:
            data = read_json(path)
            if _stale(data, matrix_hash):
                stale.append(str(path))
                continue
            cell_problem(data, cell and tuple(getattr(cell, f) for f in CELL_FIELDS))
        except Problem as problem:
            unreadable.append(str(path))
            problems[str(path)] = str(problem)
            if cell is not None:
                invalid[cell] = invalid_reason(str(path), str(problem))
            continue
        record = _record(data)
        found[record.cell] = record

    sessions = []
    for path in sorted((root / "sessions").glob("*.json")):
        try:
            data = read_json(path)
            if _stale(data, matrix_hash):
                continue
            session_problem(data)
        except Problem as problem:
            unreadable.append(str(path))
            problems[str(path)] = str(problem)
            continue
        sessions.append(data)
    interrupted = {
        (session["session"]["python"], target)
        for session in sessions
        if session["session"].get("exitstatus") == PYTEST_INTERRUPTED
        for target in session["session"]["targets"]
    }

    records: dict[CellId, CellRecord] = {}
    for python in matrix.pythons:
        for cell in planned_cells(matrix, python):
            if cell in found:
                records[cell] = found[cell]
                continue
            reason = ruled_out(matrix, cell) or invalid.get(cell)
            if not reason:
                reason = INTERRUPTED if (python, cell.target) in interrupted else NO_RESULT
            records[cell] = CellRecord(cell, "not run", reason=reason)
    return Merged(matrix_hash, records, stale, unreadable, sessions, problems)
