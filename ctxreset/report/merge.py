"""Merge a results directory into one view of the matrix: every planned cell, with what is known.

Each cell matrix.yaml plans gets exactly one record: its results file if there is one and it
was written under the current matrix.yaml; otherwise "not run" with the reason (the matrix's
own constraints, or no result at all: session not run, interpreter missing, interrupted).
Files written under another matrix.yaml are *stale*: listed, never mixed into the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxreset.matrix.loader import Matrix
from ctxreset.matrix.plan import planned_cells, ruled_out
from ctxreset.records import (
    INTERRUPTED,
    CellFile,
    CellId,
    Problem,
    Stale,
    cell_files,
    read_cell,
    read_session,
)

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

    @classmethod
    def from_file(cls, found: CellFile) -> CellRecord:
        result = found.result
        return cls(cell=result.cell, status=result.status, failing=result.failing,
                   reason=result.reason, evidence=result.evidence, errors=result.errors,
                   provenance=found.provenance)

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


def merge(root: Path, matrix: Matrix, matrix_hash: str) -> Merged:
    found: dict[CellId, CellRecord] = {}
    invalid: dict[CellId, str] = {}
    stale, unreadable, problems = [], [], {}
    cells_of = {python: planned_cells(matrix, python) for python in matrix.pythons}
    planned = {f"py{c.python}/{c.target}/{c.fix}/{c.scenario}-{c.loop}.json": c
               for python in matrix.pythons for c in cells_of[python]}
    for path in cell_files(root):
        cell = planned.get(path.relative_to(root).as_posix())
        try:
            record = CellRecord.from_file(read_cell(path, cell, matrix_hash))
        except Stale:
            stale.append(str(path))
            continue
        except Problem as problem:
            unreadable.append(str(path))
            problems[str(path)] = str(problem)
            if cell is not None:
                invalid[cell] = invalid_reason(str(path), str(problem))
            continue
        found[record.cell] = record

    sessions = []
    for path in sorted((root / "sessions").glob("*.json")):
        try:
            sessions.append(read_session(path, matrix_hash))
        except Stale:
            continue
        except Problem as problem:
            unreadable.append(str(path))
            problems[str(path)] = str(problem)
    interrupted = {
        (session["session"]["python"], target)
        for session in sessions
        if session["session"].get("exitstatus") == PYTEST_INTERRUPTED
        for target in session["session"]["targets"]
    }

    records: dict[CellId, CellRecord] = {}
    for python in matrix.pythons:
        for cell in cells_of[python]:
            if cell in found:
                records[cell] = found[cell]
                continue
            reason = ruled_out(matrix, cell) or invalid.get(cell)
            if not reason:
                reason = INTERRUPTED if (python, cell.target) in interrupted else NO_RESULT
            records[cell] = CellRecord(cell, "not run", reason=reason)
    return Merged(matrix_hash, records, stale, unreadable, sessions, problems)
