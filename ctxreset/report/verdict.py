"""The verdict: which fix to ship, by a rule stated in full, on the cells that ran.

Only cells that ran count; a fix with no cell run gets no verdict ("not run"), never a pass.
A cell that timed out or errored counts against its fix.

Regressions. A candidate *regresses* on a property in a cell when it fails that property and
the unpatched library (fix ``none`` on the affected target: the cell's own target, or the
fixed release's ``baseline:``) passes it in the same scenario, on the same Python and loop.
Every scenario counts, the one-task references included: a fix that breaks what the unpatched
library gets right in one task regresses there. A timeout or error regresses wherever that
baseline cell was checked.

Short of the reference. What "right" means for a usage is its one-task reference under the
unpatched library (the same usage with the consumer in the caller's task,
``ctxreset.matrix.plan.reference_of``).
A candidate that fails a property there passes, in a scenario
where the unpatched library fails it too, does not regress, but falls short of right.

The rule (``RULE``): a fix that regresses anywhere is never recommended. Among the rest, one
that passes every property in every cell is recommended; failing that, the one with the fewest
(scenario, property) pairs short of the reference, then the fewest broken pairs, then by name.
``none`` is judged like the others, as the baseline, and is never recommended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Callable, Optional, Protocol

from ctxreset.catalogue import PROPERTIES
from ctxreset.matrix.loader import Matrix
from ctxreset.matrix.plan import reference_of
from ctxreset.records import CellId
from ctxreset.report.merge import CellRecord, Merged

BASELINE = "none"
UPSTREAM = "upstream"

RULE = (
    "A fix that does worse than the unpatched library anywhere (fails a property the "
    "unpatched library passes in the same scenario, on the same Python and loop; one-task "
    "references included) regresses and is never recommended. Among the fixes that regress "
    "nowhere: one that passes every property in every cell is recommended; otherwise the one "
    "with the fewest (scenario, property) pairs short of right (failing what the unpatched "
    "library passes when the same usage runs in one task), then the fewest broken pairs, then "
    "by name."
)

Pair = tuple[str, str]  # (scenario, property or "error"/"timeout")


class Schedules(Protocol):
    """What seeded schedules showed of one fix beyond its default order
    (``ctxreset.explore.section.ScheduleFindings``)."""

    breaks: set[Pair]
    regressions: set[Pair]


SCHEDULE_TAG = " [under explored schedules]"


@dataclass
class Regression:
    cell: CellId
    problem: str  # a property, or "error"/"timeout"
    baseline: CellId  # the unpatched cell that passes it


@dataclass
class FixVerdict:
    fix: str
    targets: tuple[str, ...]
    cells_run: int = 0
    cells_failing: int = 0
    # (scenario, property or status) -> cells
    breaks: dict[Pair, list[CellRecord]] = field(default_factory=dict)
    ran_by_scenario: dict[str, list[CellRecord]] = field(default_factory=dict)
    regressions: list[Regression] = field(default_factory=list)
    short: set[Pair] = field(default_factory=set)
    """(scenario, property) pairs it fails where the scenario's one-task reference, unpatched,
    passes (and the scenario itself, unpatched, fails too: else it is a regression)."""
    repaired: set[Pair] = field(default_factory=set)
    """(scenario, property) pairs the unpatched library breaks and this fix never does."""
    schedule_breaks: set[Pair] = field(default_factory=set)
    """Pairs it fails under some explored schedule (``nox -s explore``), not in the default
    order: they count against it like any other failure."""
    schedule_regressions: set[Pair] = field(default_factory=set)
    """Pairs it fails under some explored schedule that the unpatched library, explored too,
    never fails: a regression."""

    @property
    def outcome(self) -> str:
        if self.cells_run == 0:
            return "not run"
        if self.regressions or self.schedule_regressions:
            return "regresses"
        return "fails" if self.cells_failing or self.schedule_breaks else "passes"

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
        text = (f"fails {self.cells_failing} of {self.cells_run} cells run ({judged}): "
                + "; ".join(parts))
        if not self.cells_failing:
            text = (f"passes every property in all {self.cells_run} cells run ({judged}) in the "
                    f"default order, but fails under explored schedules: " + "; ".join(parts))
        if self.regressions or self.schedule_regressions:
            text = f"REGRESSES in {self.regressed_summary()}. " + text
        return text

    def regressed_pairs(self) -> dict[str, list[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        for regression in self.regressions:
            found[regression.cell.scenario].add(regression.problem)
        for scenario, problem in self.schedule_regressions:
            found[scenario].add(problem + SCHEDULE_TAG)
        return {scenario: sorted(found[scenario]) for scenario in sorted(found)}

    def regressed_summary(self) -> str:
        return "; ".join(f"{s} ({', '.join(p)})" for s, p in self.regressed_pairs().items())

    def broken_scenarios(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for scenario, problem in sorted(self.breaks):
            where = _where(self.breaks[(scenario, problem)], self)
            found.setdefault(scenario, []).append(f"{problem}{where}")
        for scenario, problem in sorted(self.schedule_breaks - set(self.breaks)):
            found.setdefault(scenario, []).append(problem + SCHEDULE_TAG)
        return dict(sorted(found.items()))


def _where(cells: list[CellRecord], verdict: FixVerdict) -> str:
    """'' when a break shows everywhere the scenario ran, else the targets/loops/Pythons."""
    ran = verdict.ran_by_scenario.get(cells[0].cell.scenario, [])
    if len(cells) == len(ran):
        return ""
    narrowed = []
    fields: tuple[tuple[str, Callable[[CellRecord], str]], ...] = (
        ("", lambda c: c.cell.target), ("", lambda c: c.cell.loop),
        ("py", lambda c: c.cell.python))
    for label, of in fields:
        values = sorted({of(c) for c in cells})
        if values != sorted({of(c) for c in ran}):
            narrowed.append(label + "/".join(values))
    if not narrowed:
        narrowed.append(f"{len(cells)} of {len(ran)} cells")
    return f" [{', '.join(narrowed)} only]"


@dataclass
class Comparison:
    """One candidate against one released upstream version, scenario by scenario."""

    fix: str
    release: str  # the upstream target id
    better: dict[str, list[str]]  # scenario -> properties the release fails and the fix passes
    worse: dict[str, list[str]]  # scenario -> properties the fix fails and the release passes
    compared: int  # scenarios both ran

    def text(self) -> str:
        def listed(found: dict[str, list[str]]) -> str:
            return "; ".join(f"{s} ({', '.join(p)})" for s, p in found.items()) or "nothing"

        return (f"vs {self.release} on {self.compared} scenarios: better on "
                f"{listed(self.better)}; worse on {listed(self.worse)}")


@dataclass
class ReportVerdict:
    """The report's verdict over every fix: one FixVerdict each, the recommendation, the
    comparisons with released upstream versions."""

    fixes: list[FixVerdict]
    recommended: Optional[str]
    closest: Optional[FixVerdict]
    comparisons: list[Comparison] = field(default_factory=list)
    scenarios_judged: int = 0
    properties_judged: int = len(PROPERTIES)

    def statement(self, proven: Sequence[str] = ()) -> str:
        """``proven``: the conflicts (as "<scenario> and <scenario>") the cells confirmed; they
        say why no fix passes every property, not only that none did."""
        chosen = next((v for v in self.fixes if v.fix == self.recommended), None)
        if chosen is not None and chosen.outcome == "passes":
            others = [v.fix for v in self.fixes if v.outcome == "passes"
                      and v.fix not in (BASELINE, self.recommended)]
            also = f" Also passing: {', '.join(others)}." if others else ""
            return (f"Recommended: {chosen.fix}: it passes every property in every cell "
                    f"that was run, and regresses nowhere.{also}")
        if chosen is not None:
            breaks = "; ".join(f"{s} ({', '.join(p)})"
                               for s, p in chosen.broken_scenarios().items())
            why = (f" (none can: {'; '.join(proven)} conflict, as proven below)"
                   if proven else "")
            return (f"Recommended: {chosen.fix}, with what it still breaks: no fix passes every "
                    f"property{why}; {chosen.fix} regresses nowhere and falls short of the "
                    f"one-task reference on the fewest (scenario, property) pairs "
                    f"({len(chosen.short)}; it repairs {len(chosen.repaired)} the unpatched "
                    f"library breaks). "
                    f"Still broken: {breaks}.")
        if self.closest is None:
            return "No fix was run, so there is no recommendation."
        return (f"No fix is recommended: every candidate that ran regresses somewhere (does "
                f"worse than the unpatched library). Fewest regressions: {self.closest.fix}, "
                f"in {self.closest.regressed_summary()}.")


def _index(merged: Merged) -> dict[CellId, CellRecord]:
    return {record.cell: record for record in merged.records.values()}


def _baseline_cell(matrix: Matrix, cell: CellId, scenario: str) -> Optional[CellId]:
    """The unpatched cell of ``scenario`` on ``cell``'s affected target, Python and loop."""
    target = matrix.baseline_of(cell.target)
    if target is None:
        return None
    return CellId(cell.python, target, BASELINE, scenario, cell.loop)


def _problems(record: CellRecord) -> list[str]:
    if record.outcome in ("error", "timeout"):
        return [record.outcome]
    return list(record.failing) if record.outcome == "fail" else []


def _passes(cells: dict[CellId, CellRecord], cell: Optional[CellId], problem: str) -> bool:
    """Whether the (unpatched) ``cell`` was checked and does not have ``problem``."""
    base = cells.get(cell) if cell is not None else None
    if base is None or base.status != "checked":
        return False
    return problem in ("error", "timeout") or problem not in base.failing


def _judge_against_baseline(
    matrix: Matrix, cells: dict[CellId, CellRecord], record: CellRecord, verdict: FixVerdict
) -> None:
    same = _baseline_cell(matrix, record.cell, record.cell.scenario)
    reference = reference_of(matrix, record.cell.scenario)
    reference_cell = (_baseline_cell(matrix, record.cell, reference)
                      if reference is not None else None)
    for problem in _problems(record):
        if _passes(cells, same, problem):
            assert same is not None
            verdict.regressions.append(Regression(record.cell, problem, same))
        elif _passes(cells, reference_cell, problem):
            verdict.short.add((record.cell.scenario, problem))


def _compare(fix: FixVerdict, release: FixVerdict) -> Comparison:
    def failing(verdict: FixVerdict) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {s: set() for s in verdict.ran_by_scenario}
        for scenario, problem in verdict.breaks:
            found[scenario].add(problem)
        return found

    mine, theirs = failing(fix), failing(release)
    both = sorted(set(mine) & set(theirs))
    better = {s: sorted(theirs[s] - mine[s]) for s in both if theirs[s] - mine[s]}
    worse = {s: sorted(mine[s] - theirs[s]) for s in both if mine[s] - theirs[s]}
    return Comparison(fix.fix, ", ".join(release.targets), better, worse, len(both))


def judge(merged: Merged, matrix: Matrix,
          schedules: Optional[Mapping[str, Schedules]] = None) -> ReportVerdict:
    """``schedules``: per fix, what explored schedules showed (``nox -s explore``); a failure
    under any of them counts."""
    cells = _index(merged)
    verdicts = []
    for fix, targets in matrix.fixes.items():
        verdict = _tally(merged, fix, targets)
        found = (schedules or {}).get(fix)
        if found is not None and fix != BASELINE:
            verdict.schedule_breaks = set(found.breaks)
            verdict.schedule_regressions = set(found.regressions)
        if fix != BASELINE:
            for records in verdict.ran_by_scenario.values():
                for record in records:
                    _judge_against_baseline(matrix, cells, record, verdict)
        verdicts.append(verdict)

    unpatched = next((v for v in verdicts if v.fix == BASELINE), None)
    broken_unpatched = set(unpatched.breaks) if unpatched else set()
    for verdict in verdicts:
        if verdict.fix != BASELINE:
            verdict.repaired = {pair for pair in broken_unpatched
                                if pair[0] in verdict.ran_by_scenario
                                and pair not in verdict.breaks}

    candidates = [v for v in verdicts if v.fix != BASELINE and v.outcome != "not run"]
    eligible = [v for v in candidates if v.outcome != "regresses"]
    recommended = None
    if eligible:
        best = min(eligible, key=lambda v: (v.outcome != "passes", len(v.short),
                                            len(set(v.breaks) | v.schedule_breaks), v.fix))
        recommended = best.fix
    closest = None
    if not eligible and candidates:
        closest = min(candidates, key=lambda v: (len({(r.cell.scenario, r.problem)
                                                       for r in v.regressions}
                                                      | v.schedule_regressions), v.fix))

    comparisons = []
    for release_target in matrix.fixes.get(UPSTREAM, ()):
        release = _tally(merged, UPSTREAM, (release_target,))
        affected = matrix.baseline_of(release_target)
        if not release.cells_run or affected is None:
            continue
        for verdict in candidates:
            if verdict.fix == UPSTREAM:
                continue
            mine = _tally(merged, verdict.fix, (affected,))
            if mine.cells_run:
                comparisons.append(_compare(mine, release))
    scenarios = {record.cell.scenario for record in merged.records.values()
                 if record.outcome != "not run"}
    return ReportVerdict(verdicts, recommended, closest, comparisons, len(scenarios))


def _tally(merged: Merged, fix: str, targets: tuple[str, ...]) -> FixVerdict:
    """What ``fix``'s cells on ``targets`` ran and broke (cells not run left out). One target
    at a time, it compares a candidate on the affected release with a released version."""
    tally = FixVerdict(fix, targets)
    mine = [record for record in merged.records.values() if record.cell.fix == fix
            and record.cell.target in targets and record.outcome != "not run"]
    for record in sorted(mine, key=lambda r: r.cell):
        tally.cells_run += 1
        tally.ran_by_scenario.setdefault(record.cell.scenario, []).append(record)
        problems = _problems(record)
        if problems:
            tally.cells_failing += 1
        for problem in problems:
            tally.breaks.setdefault((record.cell.scenario, problem), []).append(record)
    return tally
