"""The candidate report (``nox -s candidate``): scenario by scenario, where a candidate (a
checkout, a wheel, a patched release) is better, worse or the same as the comparison release.

Each scenario's cells are paired by Python and loop: the candidate's (fix ``upstream``, no
runtime patch) and the comparison release's (``none`` for the unpatched base, ``upstream``
for a fixed release). A property the candidate fails where the release passes it is *worse*
(a new failure); one the release fails and the candidate passes is *better*. A cell that
errored or timed out counts as failing everything; a pair with a cell not run is not compared
(and counted). Worse scenarios come first, each with its evidence; the exit status is 1 when
any scenario is worse.

The rule line is the report's own verdict (``ctxreset/report/verdict.py``) on the candidate's
cells against its base release unpatched: whether it regresses (then it is never
recommended), else how many (scenario, property) pairs it is short of the one-task
reference; its rank key orders candidates as the report orders fixes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional

from ctxreset.catalogue import PROPERTIES
from ctxreset.matrix.loader import Matrix, load_matrix, matrix_hash
from ctxreset.matrix.plan import rerun_command
from ctxreset.records import CellId, write_atomically, write_text_atomically
from ctxreset.report.merge import CellRecord, Merged, merge
from ctxreset.report.verdict import FixVerdict, judge

CANDIDATE_FIX = "upstream"
BROKEN = "error", "timeout"


@dataclass
class ScenarioComparison:
    scenario: str
    worse: dict[str, list[str]] = field(default_factory=dict)  # property -> ["py3.11 asyncio"]
    better: dict[str, list[str]] = field(default_factory=dict)
    still: set[str] = field(default_factory=set)  # properties both fail somewhere
    compared: int = 0  # cell pairs with both sides run
    not_compared: int = 0
    evidence: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.worse:
            return "worse"
        if self.better:
            return "better"
        return "same" if self.compared else "not compared"


def _failing(record: CellRecord) -> set[str]:
    if record.status in BROKEN:
        return set(PROPERTIES) | {record.status}
    return set(record.failing)


def _first_evidence(record: CellRecord, properties: Iterable[str]) -> str:
    for name in properties:
        for line in record.evidence.get(name, []):
            return f"{record.cell}: {name}: {' '.join(line.split())[:240]}"
    if record.errors:
        error = record.errors[0]
        text = error.get("message") or error.get("traceback") or json.dumps(error)
        return f"{record.cell}: {' '.join(str(text).split())[:240]}"
    return f"{record.cell}: {record.reason or record.status}"


def compare(matrix: Matrix, records: dict[CellId, CellRecord], candidate: str, against: str,
            against_fix: str) -> list[ScenarioComparison]:
    """One comparison per scenario, worse first, then better, then the same."""
    found = []
    for scenario in matrix.scenarios:
        result = ScenarioComparison(scenario)
        for (cell, record) in sorted(records.items()):
            if (cell.target, cell.fix, cell.scenario) != (candidate, CANDIDATE_FIX, scenario):
                continue
            other = records.get(CellId(cell.python, against, against_fix, scenario, cell.loop))
            if other is None or "not run" in (record.status, other.status):
                result.not_compared += 1
                continue
            result.compared += 1
            ours, theirs = _failing(record), _failing(other)
            where = f"py{cell.python} {cell.loop}"
            for name in sorted(ours - theirs):
                result.worse.setdefault(name, []).append(where)
            for name in sorted(theirs - ours):
                result.better.setdefault(name, []).append(where)
            result.still |= ours & theirs
            if ours - theirs and len(result.evidence) < 2:
                result.evidence.append(_first_evidence(record, sorted(ours - theirs)))
                result.evidence.append(f"re-run: {rerun_command(cell)}")
            elif theirs - ours and not result.evidence:
                result.evidence.append(f"{against_fix} on {against}: "
                                       + _first_evidence(other, sorted(theirs - ours)))
        found.append(result)
    order = {"worse": 0, "better": 1, "same": 2, "not compared": 3}
    return sorted(found, key=lambda c: (order[c.verdict], matrix.scenarios.index(c.scenario)))


def ranking(merged: Merged, matrix: Matrix, candidate: str) -> FixVerdict:
    """The report's own verdict (``ctxreset/report/verdict.py``) on the candidate alone: its
    cells against its base release's unpatched cells and one-task references."""
    baseline = matrix.baseline_of(candidate)
    mine = {cell: record for cell, record in merged.records.items()
            if cell.target == candidate or (cell.target, cell.fix) == (baseline, "none")}
    verdict = judge(replace(merged, records=mine), matrix)
    return next(v for v in verdict.fixes if v.fix == CANDIDATE_FIX)


def rank_key(verdict: FixVerdict) -> tuple[int, int, int]:
    """How the report's rule orders fixes: a regressing one after every other (the fewest
    regressed pairs first), then the fewest pairs short of the reference, then broken."""
    regressed = {(r.cell.scenario, r.problem) for r in verdict.regressions}
    return len(regressed), len(verdict.short), len(verdict.breaks)


def rank_line(verdict: FixVerdict, baseline: Optional[str]) -> str:
    """Where the report's rule puts the candidate, and the key that orders candidates."""
    regressed = {(r.cell.scenario, r.problem) for r in verdict.regressions}
    key = f"(regressed pairs {len(regressed)}, short of the reference {len(verdict.short)}, " \
          f"broken pairs {len(verdict.breaks)}; lower ranks first)"
    if regressed:
        return (f"rule: REGRESSES: fails {len(regressed)} (scenario, property) pairs that "
                f"{baseline} unpatched passes, so never recommended; rank key {key}")
    if not verdict.breaks:
        return f"rule: regresses nowhere and passes every property; rank key {key}"
    return (f"rule: regresses nowhere; short of the one-task reference in "
            f"{len(verdict.short)} (scenario, property) pairs; rank key {key}")


def _names(where: dict[str, list[str]], compared: int) -> str:
    def places(found: list[str]) -> str:
        return f"all {compared} cells" if len(found) == compared else ", ".join(found)

    return "; ".join(f"{name} ({places(found)})" for name, found in where.items())


def lines(comparisons: list[ScenarioComparison], candidate: str, against: str,
          against_why: str, source: dict[str, Any], rank: str) -> list[str]:
    """The report's text; the first lines say where the candidate is worse, then better."""
    worse = [c for c in comparisons if c.verdict == "worse"]
    better = [c for c in comparisons if c.verdict == "better"]
    same = [c for c in comparisons if c.verdict == "same"]
    unknown = [c for c in comparisons if c.verdict == "not compared"]
    head = "REGRESSES" if worse else "no regression"
    out = [f"{candidate} vs {against}: {head}: worse on {len(worse)} scenarios, better on "
           f"{len(better)}, the same on {len(same)}"
           + (f", not compared on {len(unknown)}" if unknown else "")]
    for item in worse:
        out.append(f"  WORSE  {item.scenario}: newly fails {_names(item.worse, item.compared)}"
                   + (f"; better on {_names(item.better, item.compared)}" if item.better
                      else "")
                   + (f"; still fails {', '.join(sorted(item.still))}" if item.still else ""))
        out += [f"         evidence: {line}" for line in item.evidence]
    for item in better:
        out.append(f"  BETTER {item.scenario}: passes {_names(item.better, item.compared)}"
                   + (f"; still fails {', '.join(sorted(item.still))}" if item.still else ""))
    if same:
        out.append(f"  SAME   {', '.join(c.scenario for c in same)}")
    if unknown:
        out.append(f"  NOT COMPARED {', '.join(c.scenario for c in unknown)} (a side not run)")
    out.append(rank)
    out.append(f"compared with: {against_why}")
    described = ", ".join(f"{k}={v}" for k, v in source.items() if v is not None)
    out.append(f"judged: {described}")
    return out


def write_candidate_report(matrix_file: Path, results: Path, out: Path, candidate: str,
                           against: str, against_fix: str, against_why: str,
                           source: dict[str, Any], echo: Callable[[str], None]
                           ) -> tuple[int, tuple[int, int, int], str]:
    """Compare, print the first lines, write ``out/candidate-<id>.{md,json}``; the exit
    status (1 if worse anywhere), the rank key and the rule's line."""
    matrix = load_matrix(matrix_file)
    merged = merge(results, matrix, matrix_hash(matrix_file))
    records = merged.records
    comparisons = compare(matrix, records, candidate, against, against_fix)
    verdict = ranking(merged, matrix, candidate)
    rank = rank_line(verdict, matrix.baseline_of(candidate))
    text = lines(comparisons, candidate, against, against_why, source, rank)
    for line in text:
        echo(line)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out / f"{candidate}.md", "\n".join(
        ["# Candidate report", "", "```", *text, "```", ""]))
    write_atomically(out / f"{candidate}.json", {
        "candidate": candidate, "against": against, "against_fix": against_fix,
        "source": source, "regresses": any(c.verdict == "worse" for c in comparisons),
        "rank": {"regressed": sorted({(r.cell.scenario, r.problem)
                                      for r in verdict.regressions}),
                 "short_of_reference": sorted(verdict.short),
                 "broken": sorted(verdict.breaks)},
        "scenarios": [{"scenario": c.scenario, "verdict": c.verdict, "worse": c.worse,
                       "better": c.better, "still": sorted(c.still), "compared": c.compared,
                       "not_compared": c.not_compared, "evidence": c.evidence}
                      for c in comparisons]})
    return (1 if any(c.verdict == "worse" for c in comparisons) else 0, rank_key(verdict),
            rank)


def ranking_lines(outcomes: list[tuple[str, tuple[int, int, int], str]]) -> list[str]:
    """Several candidates in the order the report's rule puts them (best first)."""
    ordered = sorted(outcomes, key=lambda o: (o[1][0] > 0, o[1], o[0]))
    return ["Ranking (the report's rule, ctxreset/report/verdict.py; best first):",
            *(f"  {index}. {name}: {rule}" for index, (name, _, rule) in enumerate(ordered, 1))]
