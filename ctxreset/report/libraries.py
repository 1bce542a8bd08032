"""One verdict per library and shape: for each fix (the unpatched affected release, each
candidate, the fixed release), how many of its cells in that shape it passed, and which
properties it fails where it does not. The library of a target is the distribution its
``requirement:`` names (``minimal``: the stdlib model); the shape is ``held`` for the
held-across-a-yield scenarios (``catalogue.HELD``), ``streamed`` for the rest."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from ctxreset.catalogue import HELD, judged_on
from ctxreset.matrix.loader import Matrix
from ctxreset.matrix.plan import ruled_out
from ctxreset.report.merge import Merged

SHAPES = ("streamed", "held")
"""The two shapes of the bug, each judged on its own: a fix for one cannot be recommended for
the other (a held-shape fix patches nothing a streamed run calls)."""


def library_of(matrix: Matrix, target: str) -> str:
    requirement = matrix.targets[target].requirement
    return "minimal" if requirement is None else requirement.split("==")[0]


def shape_of(scenario: str) -> str:
    return "held" if scenario in HELD else "streamed"


def shape_view(merged: Merged, matrix: Matrix, shape: str) -> tuple[Merged, Matrix]:
    """The records and the matrix of one shape: its scenarios, the fixes judged on them, each
    on the targets that run some of them (matrix.yaml's exclusions say which). The verdict's
    rule then compares like with like: a fix with the unpatched release of its own shape."""
    scenarios = tuple(s for s in matrix.scenarios if shape_of(s) == shape)
    targets = {t for t in matrix.targets
               if any(matrix.excluded(t, s, loop, python) is None for s in scenarios
                      for loop in matrix.loops for python in matrix.pythons)}
    fixes = {}
    for fix, applies_to in matrix.fixes.items():
        if any(judged_on(fix, s) for s in scenarios):
            kept = tuple(t for t in applies_to if t in targets)
            if kept:
                fixes[fix] = kept
    records = {cell: record for cell, record in merged.records.items()
               if cell.scenario in scenarios}
    return replace(merged, records=records), replace(matrix, scenarios=scenarios, fixes=fixes)


def library_verdicts(merged: Merged, matrix: Matrix) -> list[dict[str, Any]]:
    """Per (library, shape), per fix: cells run, cells failing, the failing properties, and
    one sentence. Only cells that ran count; a fix with none is "not run". Cells matrix.yaml
    rules out (a shape a target does not have, a Python it does not install on) are left out."""
    groups: dict[tuple[str, str], dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for record in merged.records.values():
        cell = record.cell
        if ruled_out(matrix, cell):
            continue  # matrix.yaml rules it out: not part of this library's verdict
        key = (library_of(matrix, cell.target), shape_of(cell.scenario))
        groups[key][cell.fix].append(record)
    verdicts = []
    for (library, shape), by_fix in sorted(groups.items()):
        fixes = []
        for fix in matrix.fixes:
            records = by_fix.get(fix, [])
            ran = [r for r in records if r.outcome in ("pass", "fail", "error", "timeout")]
            if not records:
                continue
            failing = [r for r in ran if r.outcome != "pass"]
            properties = sorted({p for r in failing for p in r.failing}
                                | {r.outcome for r in failing if r.outcome != "fail"})
            targets = sorted({r.cell.target for r in records})
            if not ran:
                text = "not run"
            elif not failing:
                text = f"passes every property in all {len(ran)} cells"
            else:
                text = (f"fails {len(failing)} of {len(ran)} cells"
                        f" ({', '.join(properties)})")
            fixes.append({"fix": fix, "targets": targets, "cells_run": len(ran),
                          "cells_failing": len(failing), "properties": properties,
                          "text": text})
        verdicts.append({"library": library, "shape": shape, "fixes": fixes})
    return verdicts
