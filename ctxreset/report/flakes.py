"""Compare repeated runs of the same cells and list every cell whose outcome changed.

``nox -s flake-check`` runs the whole matrix on one interpreter N times, each run into a
directory of its own, then calls ``main``. A cell's outcome is its status plus, for a checked
cell, the exact set of failing properties; any difference between runs is a flip. Nothing is
retried: a flip means a scenario depends on scheduling or garbage collection, and must be made
deterministic.

    python -m ctxreset.report.flakes RUN_DIR [RUN_DIR ...]     # exit 1 if any cell flipped
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ctxreset.records import CellId, CellResult, Problem, cell_files, read_cell

MISSING = "missing"


def outcome(result: CellResult) -> str:
    """``pass``, ``fail: <properties>``, or the status (timeout, error, not run)."""
    if result.status != "checked":
        return result.status
    failing = sorted(result.failing)
    return f"fail: {', '.join(failing)}" if failing else "pass"


def outcomes(root: Path) -> dict[CellId, str]:
    found = {}
    for path in cell_files(root):
        try:
            result = read_cell(path).result
        except Problem:
            continue
        found[result.cell] = outcome(result)
    return found


@dataclass(frozen=True)
class FlakeSummary:
    runs: int
    cells: int
    flips: dict[CellId, Counter]  # cell -> how many runs saw each outcome


def compare(runs: list[dict[CellId, str]]) -> FlakeSummary:
    cells = sorted(set().union(*runs)) if runs else []
    flips = {}
    for cell in cells:
        seen = Counter(run.get(cell, MISSING) for run in runs)
        if len(seen) > 1:
            flips[cell] = seen
    return FlakeSummary(len(runs), len(cells), flips)


def render(summary: FlakeSummary) -> str:
    lines = [f"{summary.runs} runs x {summary.cells} cells: {len(summary.flips)} flipped"]
    for cell, seen in summary.flips.items():
        counts = "; ".join(f"{count}x {what}" for what, count in sorted(seen.items()))
        lines.append(f"  {cell}: {counts}")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    roots = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    if not roots:
        print("usage: python -m ctxreset.report.flakes RUN_DIR [RUN_DIR ...]", file=sys.stderr)
        return 2
    summary = compare([outcomes(root) for root in roots])
    print(render(summary))
    return 1 if summary.flips else 0


if __name__ == "__main__":
    sys.exit(main())
