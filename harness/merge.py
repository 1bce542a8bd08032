"""Merge a results directory into one view of the matrix: every planned cell, with what is known.

Each cell matrix.yaml plans gets exactly one record: its results file if there is one and it
was written under the current matrix.yaml; otherwise "not run" with the reason (the matrix's
own constraints, or no result at all: session not run, interpreter missing, interrupted).
Files written under another matrix.yaml are *stale*: listed, never mixed into the verdict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from harness.cell import INTERRUPTED
from harness.matrix import Matrix
from harness.plan import CellId, planned_cells, ruled_out

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
        evidence={name: prop["evidence"] for name, prop in properties.items()
                  if prop["status"] == "fail"},
        errors=cell.get("errors", []),
        provenance=provenance,
    )


def load_cell_file(path: Path) -> Optional[dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("cell"), dict) else None


def merge(root: Path, matrix: Matrix, matrix_hash: str) -> Merged:
    found: dict[CellId, CellRecord] = {}
    stale, unreadable = [], []
    for path in sorted(root.glob("py*/**/*.json")):
        if path.name.startswith("."):
            continue  # a temporary file a crash left behind: never a result
        data = load_cell_file(path)
        if data is None:
            unreadable.append(str(path))
            continue
        if data.get("matrix_hash") != matrix_hash:
            stale.append(str(path))
            continue
        record = _record(data)
        found[record.cell] = record

    sessions = []
    for path in sorted((root / "sessions").glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("matrix_hash") == matrix_hash:
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
            reason = ruled_out(matrix, cell)
            if not reason:
                reason = INTERRUPTED if (python, cell.target) in interrupted else NO_RESULT
            records[cell] = CellRecord(cell, "not run", reason=reason)
    return Merged(matrix_hash, records, stale, unreadable, sessions)
