"""Findings printed under the verdict: what the recommendation does not say on its own.

The rule (``ctxreset.report.verdict``) judges properties only. A maintainer choosing a fix
also needs to know, from the same results:

- whether the recommended fix is within the cost budget wherever ``nox -s bench`` measured
  it, and if not, which fixes that regress nowhere are;
- whether it is at least as good as each released upstream version on every scenario both
  ran, or where it is not;
- whether the properties can all hold at once: a fix that passes every property in every
  cell shows that no two of them conflict on this catalogue; each proven conflict
  (``ctxreset.catalogue.CONFLICTS``) is stated with its argument and checked on every pair
  of cells that ran: the same fix, target, Python and loop, one scenario of the pair
  each. A pair in which the fix broke neither side refutes the claim, and the finding says so.

Each finding is one sentence computed from the verdict and the benchmark files; nothing here
is written by hand.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from ctxreset.bench.costs import Costs
from ctxreset.catalogue import (
    CONFLICTS,
    INTERPOSITION,
    INTERPOSITION_WRAPPERS,
    ONE_TASK_SUFFIX,
    Conflict,
)
from ctxreset.report.merge import CellRecord
from ctxreset.report.verdict import BASELINE, UPSTREAM, FixVerdict, ReportVerdict


def _over_budget(entries: list[dict[str, Any]]) -> list[str]:
    """Where a fix's measured cost per run is over the budget (loop, Python)."""
    return [f"py{e['python']} {e['loop']}" for e in entries
            if e["status"] == "measured" and e["within_budget"] is False]


def _measured(entries: list[dict[str, Any]]) -> bool:
    """Whether ``nox -s bench`` measured the fix anywhere."""
    return any(e["status"] == "measured" for e in entries)


def _within_budget(entries: list[dict[str, Any]]) -> bool:
    measured = [e for e in entries if e["status"] == "measured"]
    return bool(measured) and all(e["within_budget"] for e in measured)


def _ratios(entries: list[dict[str, Any]], status: str = "measured") -> str:
    shown = []
    for entry in entries:
        ratio: Optional[dict[str, float]] = entry.get("per_run")
        if entry["status"] == status and ratio is not None:
            shown.append(f"x{ratio['median']:.3f} on py{entry['python']} {entry['loop']}")
    return ", ".join(shown)


def _events(count: Optional[int]) -> str:
    return "never" if count is None else str(count)


def _run_length(entries: list[dict[str, Any]]) -> str:
    """From how many events per run the fix is within the budget, where it is over it."""
    shown = []
    for entry in entries:
        lengths = entry["events_to_budget"]
        if entry["status"] == "measured" and entry["within_budget"] is False and lengths:
            median = lengths["median"]
            length = ("at no length" if median is None
                      else f"from {median} events a run (IQR {_events(lengths['q1'])}-"
                           f"{_events(lengths['q3'])})")
            shown.append(f"{length} on py{entry['python']} {entry['loop']}")
    if not shown:
        return ""
    return (f" Measured per run and per event, it would be within it {', '.join(shown)}"
            f" (the timed run has a few events; a longer answer spreads the cost per run).")


def cost_finding(verdict: ReportVerdict, costs: Costs) -> Optional[str]:
    chosen = verdict.recommended
    if chosen is None:
        return None
    entries = costs.by_fix.get(chosen, [])
    if not _measured(entries):
        # A verdict on properties alone must say that its cost is unknown, not stay silent.
        return (f"The cost of {chosen} was not measured in this run (`nox -s bench` times "
                f"it against the budget).")
    over = _over_budget(entries)
    if not over:
        return (f"{chosen} is within the cost budget per run wherever it was measured "
                f"({_ratios(entries)}).")
    cheap = [v.fix for v in verdict.fixes
             if v.fix not in (BASELINE, chosen) and v.outcome in ("passes", "fails")
             and _within_budget(costs.by_fix.get(v.fix, []))]
    alternatives = (f"the fixes that regress nowhere and are within it: {', '.join(cheap)}"
                    if cheap else "no fix that regresses nowhere is within it")
    floor = _ratios(costs.by_fix.get(INTERPOSITION, []), status="reference")
    toll = (f" Patching in alone, with {INTERPOSITION_WRAPPERS} and no logic, costs {floor}."
            if floor else "")
    return (f"{chosen} is over the cost budget per run on {', '.join(over)} "
            f"({_ratios(entries)}); {alternatives}.{_run_length(entries)}{toll}")


class CostNote(NamedTuple):
    """What the recommended fix costs, for the first screen's headline."""

    text: str
    over_budget: bool


def cost_note(verdict: ReportVerdict, costs: Costs, budget: float) -> Optional[CostNote]:
    """What the recommended fix costs, in a few words: a verdict on properties alone must not
    read as if the fix were free."""
    chosen = verdict.recommended
    if chosen is None:
        return None
    entries = costs.by_fix.get(chosen, [])
    if not _measured(entries):
        return CostNote("Its cost per run was not measured in this run (nox -s bench).", False)
    limit = f"{budget:.0%}"
    if _over_budget(entries):
        return CostNote(f"But it is over the {limit} cost budget per run: {_ratios(entries)}.",
                        True)
    return CostNote(f"It is within the {limit} cost budget per run: {_ratios(entries)}.", False)


def upstream_finding(verdict: ReportVerdict) -> list[str]:
    chosen = verdict.recommended
    found = []
    for comparison in verdict.comparisons:
        if comparison.fix != chosen or not comparison.compared:
            continue
        if comparison.worse:
            worse = "; ".join(f"{s} ({', '.join(p)})" for s, p in comparison.worse.items())
            found.append(f"{chosen} is worse than {comparison.release} on {worse}.")
        else:
            found.append(f"{chosen} is at least as good as {comparison.release} on every one "
                         f"of the {comparison.compared} scenarios both ran.")
    return found


def conflict_finding(verdict: ReportVerdict) -> Optional[str]:
    passing = [v for v in verdict.fixes if v.fix != BASELINE and v.outcome == "passes"]
    if not passing:
        return None
    names = ", ".join(v.fix for v in passing)
    scenarios = min(len(v.ran_by_scenario) for v in passing)
    return (f"No two properties conflict on this catalogue: {names} "
            f"{'passes' if len(passing) == 1 else 'pass'} all {verdict.properties_judged} "
            f"in every cell run, on {scenarios} scenarios.")


Place = tuple[str, str, str, str]  # (fix, target, python, loop)

SHOWN_REFUTATIONS = 3
"""How many of the pairs that refute a conflict its finding names."""


def _label(verdict: FixVerdict, target: str) -> str:
    """A fix's name; a released version (fix ``upstream``) by its target."""
    return target if verdict.fix == UPSTREAM else verdict.fix


def _broken(records: list[CellRecord], needs: tuple[str, ...]) -> dict[Place, set[str]]:
    """Per place, which of ``needs`` the cell there broke (all of them if it did not finish)."""
    found: dict[Place, set[str]] = {}
    for record in records:
        cell = record.cell
        place = (cell.fix, cell.target, cell.python, cell.loop)
        if record.outcome in ("error", "timeout"):
            found[place] = set(needs)
        else:
            found[place] = {p for p in needs if p in record.failing}
    return found


class ConflictCheck(NamedTuple):
    """One conflict claim against the cells that ran."""

    conflict: Conflict
    pairs: int
    """Pairs of cells run: one fix, target, Python and loop, one scenario of the pair each."""
    breaks_first: list[str]
    """The fixes (by label) that broke the first scenario's needs in some pair."""
    breaks_second: list[str]
    refuted_by: list[str]
    """Pairs in which neither side broke: each refutes the claim."""

    @property
    def holds(self) -> bool:
        """Checked on some pair, and refuted by none."""
        return self.pairs > 0 and not self.refuted_by


def check_conflict(verdict: ReportVerdict, conflict: Conflict) -> ConflictCheck:
    pairs = 0
    first: set[str] = set()
    second: set[str] = set()
    refuted: list[str] = []
    for fix in verdict.fixes:
        for suffix in ("", ONE_TASK_SUFFIX):
            one = _broken(fix.ran_by_scenario.get(conflict.first + suffix, []),
                          conflict.first_needs)
            other = _broken(fix.ran_by_scenario.get(conflict.second + suffix, []),
                            conflict.second_needs)
            for place in sorted(set(one) & set(other)):
                pairs += 1
                label = _label(fix, place[1])
                if one[place]:
                    first.add(label)
                if other[place]:
                    second.add(label)
                if not one[place] and not other[place]:
                    where = place[1] if label == place[1] else f"{label} on {place[1]}"
                    refuted.append(f"{where} py{place[2]} {place[3]}"
                                   f"{' (one task)' if suffix else ''}")
    return ConflictCheck(conflict, pairs, sorted(first), sorted(second), refuted)


def conflict_text(found: ConflictCheck) -> str:
    conflict = found.conflict
    claim = (f"{conflict.first} needs {', '.join(conflict.first_needs)}; {conflict.second} "
             f"needs {', '.join(conflict.second_needs)}")
    if found.refuted_by:
        shown = found.refuted_by[:SHOWN_REFUTATIONS]
        more = len(found.refuted_by) - len(shown)
        return (f"The conflict claimed between {conflict.first} and {conflict.second} "
                f"({claim}) does not hold on these results: both passed for "
                f"{'; '.join(shown)}{f' and in {more} more pairs' if more else ''}.")
    if not found.pairs:
        return (f"The conflict between {conflict.first} and {conflict.second} was not "
                f"checked: no fix ran both in the same place.")
    return (f"Proven conflict: {claim}, and no fix can pass both. A fix has to decide "
            f"{conflict.decision}. Why no decision is right for both: {conflict.argument} "
            f"Checked on the {found.pairs} pairs of cells run (one fix, target, Python and "
            f"loop): every fix broke one side in each. {conflict.first} broken by: "
            f"{', '.join(found.breaks_first) or 'no fix'}; {conflict.second} broken by: "
            f"{', '.join(found.breaks_second) or 'no fix'}.")


def proven_conflicts(verdict: ReportVerdict) -> list[str]:
    """Each conflict claim, stated with its argument and checked on the cells run."""
    return [conflict_text(check_conflict(verdict, conflict)) for conflict in CONFLICTS]


def conflicts_that_hold(verdict: ReportVerdict) -> list[str]:
    """The conflicts the cells run confirm, as "<scenario> and <scenario>"."""
    return [f"{c.first} and {c.second}" for c in CONFLICTS if check_conflict(verdict, c).holds]


def findings(verdict: ReportVerdict, costs: Costs) -> list[str]:
    """The findings, in the order the report prints them."""
    found = [conflict_finding(verdict), cost_finding(verdict, costs)]
    return ([text for text in found if text] + proven_conflicts(verdict)
            + upstream_finding(verdict))
