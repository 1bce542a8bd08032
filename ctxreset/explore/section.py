"""The report's "Interleavings" section, and what exploration adds to the verdict.

From ``results/explore`` (``nox -s explore``): per fix, how many cells and schedules were
explored; every cell whose outcome under some seeded schedule differs from its default-order
outcome, with each differing outcome's seeds, evidence, whether it replayed, and the command
that replays it. For the verdict (``ctxreset.report.verdict.judge``'s ``schedules``), per fix:

- ``breaks``: (scenario, problem) pairs it fails under some explored schedule but not in the
  default order: a fix is judged on every schedule explored, not only the loop's own order;
- ``regressions``: of those, the pairs where the unpatched library (fix ``none`` on the
  same target, or its baseline) was explored too and never fails that problem, in the
  default order or under any seed.

A failure the default order shows too is the default-order verdict's business (the matrix
run), not counted twice here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ctxreset.explore.results import ExploredCell, ExploreResults, explore_root, load_explored
from ctxreset.matrix.loader import Matrix
from ctxreset.matrix.plan import replay_command
from ctxreset.report import markdown

HOW_TO_RUN = "nox -s explore"
BASELINE = "none"
SEEDS_SHOWN = 8

Pair = tuple[str, str]


@dataclass
class ScheduleFindings:
    """What one fix fails only under explored schedules (the verdict's input)."""

    breaks: set[Pair] = field(default_factory=set)
    regressions: set[Pair] = field(default_factory=set)


def _problems_anywhere(cell: ExploredCell) -> set[str]:
    found = set(cell.default.problems())
    for group in cell.groups:
        found |= set(group.outcome.problems())
    return found


def findings(explored: dict[str, ExploreResults], matrix: Matrix) -> dict[str, ScheduleFindings]:
    """Per fix, what it fails under explored schedules beyond its default order (the
    unpatched library's too, for the report; the verdict judges candidates only)."""
    result: dict[str, ScheduleFindings] = defaultdict(ScheduleFindings)
    for results in explored.values():
        unpatched = {(c.target, c.scenario): _problems_anywhere(c) for c in results.cells
                     if c.fix == BASELINE}
        for cell in results.cells:
            default = set(cell.default.problems())
            baseline_target = matrix.baseline_of(cell.target) if cell.target in matrix.targets \
                else None
            base = None if cell.fix == BASELINE else unpatched.get(
                (baseline_target or "", cell.scenario))
            for group in cell.groups:
                for problem in set(group.outcome.problems()) - default:
                    result[cell.fix].breaks.add((cell.scenario, problem))
                    if base is not None and problem not in base:
                        result[cell.fix].regressions.add((cell.scenario, problem))
    return dict(result)


def _cell_block(cell: ExploredCell) -> dict[str, Any]:
    default = set(cell.default.problems()) if not cell.default.passed else set()
    groups = []
    for group in sorted(cell.differing(), key=lambda g: (-len(g.seeds), g.seeds[0])):
        problems = set(group.outcome.problems()) if not group.outcome.passed else set()
        groups.append({
            "outcome": group.outcome.text(),
            "new": sorted(problems - default),
            "gone": sorted(default - problems),
            "count": len(group.seeds),
            "seeds": group.seeds[:SEEDS_SHOWN],
            "replayed": group.replayed,
            "evidence": {p: lines for p, lines in sorted(group.evidence.items())
                         if p in problems - default},
            "replay": replay_command(cell.target, cell.fix, cell.scenario, group.seeds[0]),
        })
    return {"python": cell.python, "target": cell.target, "fix": cell.fix,
            "scenario": cell.scenario, "default": cell.default.text(), "passes": cell.passes,
            "seeds": cell.seeds, "groups": groups}


def interleavings_block(explored: dict[str, ExploreResults],
                        matrix: Matrix) -> Optional[dict[str, Any]]:
    """The block for ``report.json``'s ``interleavings``; None when nothing was explored."""
    if not explored:
        return None
    fix_order, target_order = list(matrix.fixes), list(matrix.targets)
    scenario_order = list(matrix.scenarios)

    def order(cell: ExploredCell) -> tuple[int, int, int, str]:
        def at(values: list[str], value: str) -> int:
            return values.index(value) if value in values else len(values)

        return (at(fix_order, cell.fix), at(target_order, cell.target),
                at(scenario_order, cell.scenario), cell.python)

    cells = sorted((c for r in explored.values() for c in r.cells), key=order)
    per_fix: dict[str, dict[str, Any]] = {}
    for cell in cells:
        tally = per_fix.setdefault(cell.fix, {"fix": cell.fix, "cells": 0, "schedules": 0,
                                              "cells_differing": 0, "schedules_differing": 0})
        tally["cells"] += 1
        tally["schedules"] += cell.seeds
        differing = cell.differing()
        tally["cells_differing"] += bool(differing)
        tally["schedules_differing"] += sum(len(g.seeds) for g in differing)
    verdict_input = findings(explored, matrix)
    for fix, tally in per_fix.items():
        found = verdict_input.get(fix, ScheduleFindings())
        tally["breaks"] = [list(p) for p in sorted(found.breaks)]
        tally["regressions"] = [list(p) for p in sorted(found.regressions)]
    runs = [{"python": python, **{k: r.run.get(k) for k in (
        "seeds", "first_seed", "budget_s", "jobs", "cells_planned", "cells_explored", "runs",
        "duration_s", "written_at")}, "not_explored": len(r.run.get("not_explored") or []),
        "failed": r.run.get("failed") or [], "left_out": r.run.get("left_out") or {}}
        for python, r in sorted(explored.items())]
    return {
        "how_to_run": HOW_TO_RUN,
        "runs": runs,
        "fixes": list(per_fix.values()),
        "differing": [_cell_block(c) for c in cells if c.differing()],
        "unreadable": [u for r in explored.values() for u in r.unreadable],
        "stale": [s for r in explored.values() for s in r.stale],
    }


def build_interleavings(results_dir: Path, matrix: Matrix, matrix_hash: str
                        ) -> tuple[Optional[dict[str, Any]], dict[str, ScheduleFindings]]:
    """The report block and the verdict's input, from ``results_dir/explore``."""
    explored = load_explored(explore_root(results_dir), matrix_hash)
    return interleavings_block(explored, matrix), findings(explored, matrix)


def render_markdown(block: Optional[dict[str, Any]]) -> str:
    """The "Interleavings" section of report.md."""
    lines = ["## Interleavings", ""]
    if block is None:
        lines += [f"Not run. `{HOW_TO_RUN}` runs every cell of `matrix.yaml`'s `explore:` "
                  "targets under seeded schedules (asyncio with its ready callbacks in a "
                  "seeded order; not part of `nox`).", ""]
        return "\n".join(lines)
    for run in block["runs"]:
        lines.append(
            f"Python {run['python']}: {run['cells_explored']} of {run['cells_planned']} cells "
            f"explored under {run['seeds']} seeded schedules each (seeds {run['first_seed']} to "
            f"{(run['first_seed'] or 0) + (run['seeds'] or 0) - 1}), {run['runs']} runs in "
            f"{run['duration_s']} s on {run['jobs']} processes"
            + (f"; {run['not_explored']} cells not explored (budget of {run['budget_s']} s)"
               if run["not_explored"] else "") + ".")
        for scenario, why in sorted(run["left_out"].items()):
            lines.append(f"- not explored: {scenario}: {markdown.text(why)}")
        for failure in run["failed"]:
            lines.append(f"- FAILED to explore: {markdown.text(failure)}")
        lines.append("")
    lines += ["A fix is judged on every explored schedule: a failure under any of them counts "
              "in the verdict above (a property failed only under some schedule is marked "
              "there `[under explored schedules]`).", "",
              "| fix | cells | schedules | cells differing from default order | "
              "fails only under some schedules | regresses under some schedules |",
              "| --- | --- | --- | --- | --- | --- |"]
    for tally in block["fixes"]:
        breaks = "; ".join(f"{s} ({p})" for s, p in tally["breaks"]) or "nothing"
        regressions = "; ".join(f"{s} ({p})" for s, p in tally["regressions"]) or "nothing"
        lines.append(f"| {tally['fix']} | {tally['cells']} | {tally['schedules']} | "
                     f"{tally['cells_differing']} | {breaks} | {regressions} |")
    lines.append("")
    if not block["differing"]:
        lines += ["No explored schedule changed any cell's outcome.", ""]
    for cell in block["differing"]:
        lines.append(f"- **{cell['fix']}** / {cell['target']} / {cell['scenario']} "
                     f"(py{cell['python']}): default order: {cell['default']}; passes under "
                     f"{cell['passes']} of {cell['seeds']} schedules")
        for group in cell["groups"]:
            shown = ", ".join(str(s) for s in group["seeds"])
            more = f", ... ({group['count']} seeds)" if group["count"] > len(group["seeds"]) \
                else ""
            change = "; ".join(part for part in (
                f"also fails {', '.join(group['new'])}" if group["new"] else "",
                f"passes {', '.join(group['gone'])}" if group["gone"] else "") if part)
            lines.append(f"  - seeds {shown}{more}: {group['outcome']} ({change}); "
                         + ("replays" if group["replayed"] else "DID NOT REPLAY")
                         + f": {markdown.code(group['replay'])}")
            for prop, evidence in group["evidence"].items():
                for line in evidence[:2]:
                    lines.append(f"    - {prop}: {markdown.code(line)}")
    if block["unreadable"] or block["stale"]:
        lines.append("")
        for item in block["unreadable"]:
            lines.append(f"- unreadable: {markdown.text(item)}")
        if block["stale"]:
            lines.append(f"- {len(block['stale'])} stale file(s) (another matrix.yaml) ignored")
    lines.append("")
    return "\n".join(lines)
