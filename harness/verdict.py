"""The verdict: for each fix, does it pass every property in every cell that was run?

Only cells that ran count. A fix with no cell run gets no verdict ("not run"), never a pass.
``none`` (the unpatched library) is judged like the others, as the baseline, but is never
recommended. A cell that timed out or errored counts against its fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from harness.merge import CellRecord, Merged

BASELINE = "none"


@dataclass
class FixVerdict:
    fix: str
    targets: tuple[str, ...]
    cells_run: int = 0
    cells_failing: int = 0
    # (scenario, property or status) -> cells
    breaks: dict[tuple[str, str], list[CellRecord]] = field(default_factory=dict)
    ran_by_scenario: dict[str, list[CellRecord]] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        if self.cells_run == 0:
            return "not run"
        return "fails" if self.cells_failing else "passes"

    def summary(self) -> str:
        """One line: what it passes, or what it breaks and where (the fix's name not included)."""
        judged = f"on {', '.join(self.targets)}"
        if self.outcome == "not run":
            return f"not run anywhere ({judged}); no verdict"
        if self.outcome == "passes":
            return f"passes every property in all {self.cells_run} cells run ({judged})"
        parts = []
        for scenario, problems in self.broken_scenarios().items():
            parts.append(f"{scenario} ({', '.join(problems)})")
        return (f"fails {self.cells_failing} of {self.cells_run} cells run ({judged}): "
                + "; ".join(parts))

    def broken_scenarios(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for scenario, problem in sorted(self.breaks):
            where = _where(self.breaks[(scenario, problem)], self)
            found.setdefault(scenario, []).append(f"{problem}{where}")
        return found


def _where(cells: list[CellRecord], verdict: FixVerdict) -> str:
    """'' when a break shows everywhere the scenario ran, else the targets/loops/Pythons."""
    ran = verdict.ran_by_scenario.get(cells[0].cell.scenario, [])
    if len(cells) == len(ran):
        return ""
    narrowed = []
    for label, of in (("", lambda c: c.cell.target), ("", lambda c: c.cell.loop),
                      ("py", lambda c: c.cell.python)):
        values = sorted({of(c) for c in cells})
        if values != sorted({of(c) for c in ran}):
            narrowed.append(label + "/".join(values))
    if not narrowed:
        narrowed.append(f"{len(cells)} of {len(ran)} cells")
    return f" [{', '.join(narrowed)} only]"


@dataclass
class Verdict:
    fixes: list[FixVerdict]
    recommended: Optional[str]
    closest: Optional[FixVerdict]

    def statement(self) -> str:
        if self.recommended:
            others = [v.fix for v in self.fixes if v.outcome == "passes"
                      and v.fix not in (BASELINE, self.recommended)]
            also = f" Also passing: {', '.join(others)}." if others else ""
            return (f"Recommended: {self.recommended}: it passes every property in every cell "
                    f"that was run.{also}")
        if self.closest is None:
            return "No fix was run, so there is no recommendation."
        breaks = "; ".join(f"{s} ({', '.join(p)})"
                           for s, p in self.closest.broken_scenarios().items())
        return (f"No fix passes every property in every cell that was run. Closest: "
                f"{self.closest.fix} (fails {self.closest.cells_failing} of "
                f"{self.closest.cells_run} cells run), which still breaks: {breaks}.")


def judge(merged: Merged, fixes: dict[str, tuple[str, ...]]) -> Verdict:
    verdicts = []
    for fix, targets in fixes.items():
        verdict = FixVerdict(fix, targets)
        for record in sorted(merged.records.values(), key=lambda r: r.cell):
            if record.cell.fix != fix or record.outcome == "not run":
                continue
            verdict.cells_run += 1
            verdict.ran_by_scenario.setdefault(record.cell.scenario, []).append(record)
            problems = list(record.failing) if record.outcome == "fail" else []
            if record.outcome in ("error", "timeout"):
                problems = [record.outcome]
            if problems:
                verdict.cells_failing += 1
            for problem in problems:
                verdict.breaks.setdefault((record.cell.scenario, problem), []).append(record)
        verdicts.append(verdict)

    candidates = [v for v in verdicts if v.fix != BASELINE and v.outcome != "not run"]
    passing = [v for v in candidates if v.outcome == "passes"]
    recommended = min(passing, key=lambda v: v.fix).fix if passing else None
    closest = None
    if not passing and candidates:
        closest = min(candidates, key=lambda v: (v.cells_failing / v.cells_run,
                                                 len(v.breaks), v.fix))
    return Verdict(verdicts, recommended, closest)
