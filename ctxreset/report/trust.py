""""How far to trust this verdict": what it rests on and what was not run, in a few lines.

Counts come from the merged records (cells that ran) against the matrix (cells planned):
scenarios and usages, properties, Pythons, loops, targets, and explored schedules when the
results record any; then each Python, loop or target that did not run at all, with why.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Callable, Optional

from ctxreset.catalogue import PROPERTIES
from ctxreset.matrix.loader import Matrix
from ctxreset.report.merge import CellRecord, Merged


def _why(records: list[CellRecord]) -> str:
    """The most common not-run reason of ``records`` (ties: the first in sorted order)."""
    counts = Counter(r.reason for r in records)
    reason, _ = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return reason


def _listed(planned: list[str], ran: set[str]) -> str:
    if not ran & set(planned):
        return f"none of {len(planned)}"
    if set(planned) <= ran:
        return f"all {len(planned)} ({', '.join(planned)})"
    names = ", ".join(p for p in planned if p in ran)
    return f"{len(ran & set(planned))} of {len(planned)} ({names})"


def trust_block(
    merged: Merged, matrix: Matrix, usages: int, schedules: Optional[int] = None
) -> dict[str, Any]:
    records = list(merged.records.values())
    ran = [r for r in records if r.outcome != "not run"]
    dimensions: tuple[tuple[str, list[str], Callable[[CellRecord], str]], ...] = (
        ("Python", list(matrix.pythons), lambda r: r.cell.python),
        ("loop", list(matrix.loops), lambda r: r.cell.loop),
        ("target", list(matrix.targets), lambda r: r.cell.target),
    )
    scenarios_ran = {r.cell.scenario for r in ran}
    lines = [
        f"{len(scenarios_ran)} of {len(matrix.scenarios)} scenarios ({usages} usages, each "
        f"with its one-task reference where it has one), {len(PROPERTIES)} properties judged "
        f"in every cell.",
    ]
    not_run = []
    missing: list[str] = []
    for name, planned, of in dimensions:
        values = {of(r) for r in ran}
        by_value: dict[str, list[CellRecord]] = defaultdict(list)
        for record in records:
            by_value[of(record)].append(record)
        lines.append(f"{name[0].upper()}{name[1:]}s: {_listed(planned, values)}.")
        absent = [value for value in planned if value not in values]
        if absent:
            missing.append(f"{name}{'s' if len(absent) > 1 else ''} {', '.join(absent)}")
        for value in absent:
            if by_value.get(value):
                not_run.append(f"{name} {value}: {_why(by_value[value])}")
    share = f" ({len(ran) / len(records):.0%})" if records else ""
    lines.append(f"{len(ran)} of {len(records)} planned cells ran{share}; "
                 f"{len(records) - len(ran)} did not (reasons under Not run).")
    if schedules is None:
        lines.append("Schedules: each cell ran once, in the order its event loop chose; no "
                     "other interleavings were explored in these results.")
    else:
        lines.append(f"Schedules: {schedules} seeded schedules explored beyond each cell's "
                     f"default order (nox -s explore; see Interleavings).")
    pythons = sorted({r.cell.python for r in ran}, key=lambda p: tuple(map(int, p.split("."))))
    summary = (f"Rests on {len(scenarios_ran)} scenarios x {len(PROPERTIES)} properties, "
               f"Python {', '.join(pythons) or 'none'}: {len(ran)} of {len(records)} planned "
               f"cells ran{share}."
               + (f" Not run at all: {'; '.join(missing)}." if missing else ""))
    return {
        "summary": summary,
        "lines": lines,
        "not_run": not_run,
        "scenarios": len(scenarios_ran),
        "properties": len(PROPERTIES),
        "pythons": sorted({r.cell.python for r in ran}),
        "loops": [loop for loop in matrix.loops if loop in {r.cell.loop for r in ran}],
        "cells_run": len(ran),
        "cells_planned": len(records),
        "schedules": schedules,
    }
