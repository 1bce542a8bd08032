"""The report's first screen: which fix to ship, and one table of usages x fixes.

Columns: the unpatched library (the reference), each candidate fix, and each released upstream
version (one column per target of the fix ``upstream``), all read from the matrix. Rows: one
per usage, grouped by family (``ctxreset.catalogue.FAMILY_OF``); a usage is a scenario and,
when the matrix runs it, its one-task reference (``ctxreset.matrix.plan.reference_of``), shown
in the same cell where its result differs. A cell reads ``pass``, the failing properties,
``REGRESSES`` with the properties the unpatched library gets right there, ``error`` or
``timeout`` (the harness's own statuses), or ``not run``. Where a property fails on some
Pythons, loops or targets only, the cell is marked ``varies`` and says where ("fails on
asyncio-eager, 3.12+ only").

``answer_block`` judges nothing itself: the judgement is ``ctxreset.report.verdict``'s; this
module lays it out. It takes the records it is given, so a report with one verdict per library
calls it once per library with that library's records and targets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ctxreset.catalogue import FAMILY_OF, PROPERTIES, SHORT_NAMES
from ctxreset.matrix.loader import Matrix
from ctxreset.matrix.plan import reference_of, rerun_command
from ctxreset.report.findings import CostNote
from ctxreset.report.merge import CellRecord, Merged
from ctxreset.report.verdict import BASELINE, UPSTREAM, FixVerdict, ReportVerdict

EVIDENCE_LINES = 3
EVIDENCE_CHARS = 300
STATUSES = ("error", "timeout")  # a cell the harness could not judge counts against its fix
SEVERITY = ("n/a", "pass", "not run", "fail", "error", "timeout", "regresses")
"""Cell outcomes from mildest to worst: a usage cell shows the worse of its two scenarios."""


@dataclass(frozen=True)
class Column:
    key: str  # unique within the table; used in element ids
    label: str
    fix: str
    targets: tuple[str, ...]
    kind: str  # "unpatched", "candidate" or "release"


def table_columns(matrix: Matrix) -> list[Column]:
    """The unpatched library, the candidates, then one column per released upstream target."""
    columns = []
    for fix, targets in matrix.fixes.items():
        if fix == UPSTREAM:
            for target in targets:
                columns.append(Column(f"release-{target}", target, fix, (target,), "release"))
        elif fix == BASELINE:
            columns.append(Column("unpatched", "unpatched", fix, targets, "unpatched"))
        else:
            columns.append(Column(f"fix-{fix}", fix, fix, targets, "candidate"))
    return columns


def usages(matrix: Matrix) -> list[tuple[str, str, Optional[str]]]:
    """(family, scenario, its one-task reference or None), in matrix order; a reference that
    belongs to a usage is not a row of its own."""
    references = {reference_of(matrix, s) for s in matrix.scenarios} - {None}
    rows = []
    for scenario in matrix.scenarios:
        if scenario in references:
            continue
        rows.append((FAMILY_OF.get(scenario, "other"), scenario, reference_of(matrix, scenario)))
    # A reference whose usage the matrix does not run is a usage of its own.
    listed = {s for _, s, _ in rows} | {r for _, _, r in rows if r}
    for scenario in matrix.scenarios:
        if scenario not in listed:
            rows.append((FAMILY_OF.get(scenario, "other"), scenario, None))
    return rows


def _python_key(python: str) -> tuple[int, ...]:
    return tuple(int(part) for part in python.split("."))


def _pythons_text(some: list[str], every: list[str]) -> str:
    """``3.12+``, ``up to 3.11`` or ``3.10, 3.12`` (``some`` a subset of ``every``)."""
    some = sorted(some, key=_python_key)
    every = sorted(every, key=_python_key)
    if len(some) > 1 and some == every[-len(some):]:
        return f"{some[0]}+"
    if len(some) > 1 and some == every[:len(some)]:
        return f"up to {some[-1]}"
    return ", ".join(some)


def where(failing: list[CellRecord], ran: list[CellRecord]) -> str:
    """'' when ``failing`` is every cell that ran, else where it is: "asyncio-eager, 3.12+"
    (the targets, loops and Pythons it is limited to), or "2 of 6 cells" when it is not
    one such block."""
    if len(failing) == len(ran):
        return ""
    dimensions: tuple[tuple[Callable[[CellRecord], str], bool], ...] = (
        (lambda r: r.cell.target, False), (lambda r: r.cell.loop, False),
        (lambda r: r.cell.python, True))
    parts = []
    inside = list(ran)
    for of, is_python in dimensions:
        some, every = sorted({of(r) for r in failing}), sorted({of(r) for r in inside})
        if some != every:
            parts.append(_pythons_text(some, every) if is_python else "/".join(some))
            inside = [r for r in inside if of(r) in some]
    if len(inside) != len(failing) or not parts:
        return f"{len(failing)} of {len(ran)} cells"
    return ", ".join(parts)


def _problems(record: CellRecord) -> tuple[str, ...]:
    if record.outcome in STATUSES:
        return (record.outcome,)
    return record.failing if record.outcome == "fail" else ()


def _order(problem: str) -> int:
    return PROPERTIES.index(problem) if problem in PROPERTIES else len(PROPERTIES)


def _short(problem: str) -> str:
    return SHORT_NAMES.get(problem, problem)


def _evidence(record: CellRecord, problem: str) -> list[str]:
    if problem in STATUSES:
        lines = [record.reason] + [f"{e['source']}: {e['summary']}" for e in record.errors]
    else:
        lines = list(record.evidence.get(problem, []))
    shown = [line[:EVIDENCE_CHARS] for line in lines[:EVIDENCE_LINES]]
    if len(lines) > EVIDENCE_LINES:
        shown.append(f"... {len(lines) - EVIDENCE_LINES} more")
    return shown


SCHEDULES = "explored schedules"
"""Where a failure seen only under ``nox -s explore``'s seeded schedules shows."""


def scenario_cell(
    records: list[CellRecord], regressed: set[str], *, applies: bool = True,
    schedules: Optional[dict[str, bool]] = None,
) -> dict[str, Any]:
    """One scenario in one column: its outcome, text, where it varies and its evidence.
    ``schedules``: what the fix fails here only under explored schedules (property ->
    whether that regresses), which counts like any other failure."""
    if not applies or not records:
        return {"outcome": "n/a", "text": "—", "where": "", "problems": [], "cells_run": 0,
                "not_run": [], "rerun": ""}
    records = sorted(records, key=lambda r: r.cell)
    ran = [r for r in records if r.outcome != "not run"]
    not_run = sorted({r.reason for r in records if r.outcome == "not run"})
    if not ran:
        return {"outcome": "not run", "text": "not run", "where": "", "problems": [],
                "cells_run": 0, "not_run": not_run, "rerun": rerun_command(records[0].cell)}
    failing: dict[str, list[CellRecord]] = defaultdict(list)
    for record in ran:
        for problem in _problems(record):
            failing[problem].append(record)
    problems: list[dict[str, Any]] = []
    for problem in sorted(failing, key=lambda p: (p not in regressed, _order(p))):
        cells = failing[problem]
        problems.append({
            "property": problem, "short": _short(problem), "regressed": problem in regressed,
            "where": where(cells, ran), "cells": len(cells),
            "evidence_from": str(cells[0].cell), "evidence": _evidence(cells[0], problem),
            "rerun": rerun_command(cells[0].cell),
        })
    for problem, regresses in sorted((schedules or {}).items(), key=lambda p: _order(p[0])):
        if problem in failing:
            continue
        problems.append({
            "property": problem, "short": _short(problem), "regressed": regresses,
            "where": SCHEDULES, "cells": 0, "evidence_from": "",
            "evidence": ["seen only under seeded schedules (nox -s explore): see Interleavings"],
            "rerun": rerun_command(ran[0].cell),
        })
        failing[problem] = []
        if regresses:
            regressed = regressed | {problem}
    if regressed & set(failing):
        outcome = "regresses"
    elif set(STATUSES) & set(failing):
        outcome = next(s for s in ("timeout", "error") if s in failing)
    else:
        outcome = "fail" if failing else "pass"
    shared = {p["where"] for p in problems}
    if len(shared) == 1 and "" not in shared:
        # One narrowing for all of it: the scenario passes everywhere else.
        text = " ".join(p["short"] for p in problems)
        varies = f"fails on {shared.pop()} only"
    else:
        text = " ".join(p["short"] + ("*" if p["where"] else "") for p in problems)
        varies = "; ".join(f"{p['short']} on {p['where']} only" for p in problems if p["where"])
    if outcome == "regresses":
        text = "REGRESSES " + text
    return {"outcome": outcome, "text": text or "pass", "where": varies, "problems": problems,
            "cells_run": len(ran), "not_run": not_run, "rerun": rerun_command(ran[0].cell)}


def _reference_shown(main: dict[str, Any], ref: Optional[dict[str, Any]]) -> bool:
    """Whether the cell also names its one-task reference: only when the reference tells
    something the usage's own result does not (it fails more, regresses or errs)."""
    if ref is None or ref["outcome"] in ("pass", "n/a", "not run"):
        return False
    if ref["outcome"] in ("regresses", "error", "timeout") and main["outcome"] != ref["outcome"]:
        return True
    ours = {p["property"] for p in main["problems"]}
    return not {p["property"] for p in ref["problems"]} <= ours


def _bare(text: str) -> str:
    return text.removeprefix("REGRESSES ")


def _tag(main: dict[str, Any], ref: Optional[dict[str, Any]]) -> str:
    """"REGRESSES" when the usage or its (shown) one-task reference regresses; else ''."""
    regresses = main["outcome"] == "regresses" or (ref is not None
                                                   and ref["outcome"] == "regresses")
    return "REGRESSES" if regresses else ""


def _text(main: dict[str, Any], ref: Optional[dict[str, Any]]) -> str:
    """The cell's words after its tag: the usage's, then its reference's where shown; the
    reference first when only it regresses (so the tag reads with it)."""
    if ref is None:
        return _bare(main["text"])
    if main["outcome"] == "pass":
        return f"1-task: {_bare(ref['text'])}"
    if ref["outcome"] == "regresses" and main["outcome"] != "regresses":
        return f"1-task: {_bare(ref['text'])} · own task: {_bare(main['text'])}"
    return f"{_bare(main['text'])} · 1-task: {_bare(ref['text'])}"


def _varying(families: list[dict[str, Any]], columns: list[Column]) -> list[dict[str, Any]]:
    """The cells marked varying, grouped by where they differ, then by column: [{"where",
    "columns": [{"label", "cells": [{"id", "scenario"}]}]}], in table order."""
    groups: dict[str, dict[str, list[dict[str, str]]]] = {}
    for family in families:
        for row in family["rows"]:
            for column, cell in zip(columns, row["cells"]):
                if not cell["varies"]:
                    continue
                main = cell["main"]["where"]
                ref = cell["reference"]["where"] if cell["reference"] else ""
                text = main if ref in ("", main) else (
                    f"1-task: {ref}" if not main else f"{main}; 1-task: {ref}")
                by_column = groups.setdefault(text, {})
                by_column.setdefault(column.label, []).append(
                    {"id": cell["id"], "scenario": row["scenario"]})
    return [{"where": where_text, "columns": [{"label": label, "cells": cells}
                                              for label, cells in by_column.items()]}
            for where_text, by_column in groups.items()]


def _worse(a: str, b: str) -> str:
    return a if SEVERITY.index(a) >= SEVERITY.index(b) else b


def _regressed(verdict: Optional[FixVerdict], column: Column) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    if verdict is None or column.kind == "unpatched":
        return found
    for regression in verdict.regressions:
        if regression.cell.target in column.targets:
            found[regression.cell.scenario].add(regression.problem)
    return found


def _explored(verdict: Optional[FixVerdict], column: Column) -> dict[str, dict[str, bool]]:
    """scenario -> {property: regresses} the fix fails only under explored schedules (per
    fix, not per target: a release column shows its fix's findings)."""
    found: dict[str, dict[str, bool]] = defaultdict(dict)
    if verdict is None or column.kind == "unpatched":
        return found
    for scenario, problem in verdict.schedule_breaks:
        found[scenario][problem] = (scenario, problem) in verdict.schedule_regressions
    for scenario, problem in verdict.schedule_regressions:
        found[scenario][problem] = True
    return found


def _column_summary(cells: list[dict[str, Any]], column: Column, rows: int) -> dict[str, Any]:
    regressing = sum(c["outcome"] == "regresses" for c in cells)
    failing = sum(c["outcome"] in ("fail", "error", "timeout") for c in cells)
    passing = sum(c["outcome"] == "pass" for c in cells)
    run = sum(c["outcome"] != "not run" and c["outcome"] != "n/a" for c in cells)
    if not run:
        text, outcome = "not run", "not run"
    elif regressing:
        more = f" · fails {failing}" if failing else ""
        text, outcome = f"regresses in {regressing}{more}", "regresses"
    elif failing:
        text, outcome = f"fails {failing} of {run}", "fail"
    else:
        text, outcome = f"passes all {passing}", "pass"
    return {"text": text, "outcome": outcome, "regressing": regressing, "failing": failing,
            "passing": passing, "run": run, "rows": rows}


def headline(verdict: ReportVerdict, usages_failing: dict[str, int], usages_run: int,
             cost: Optional[CostNote] = None, proven: Sequence[str] = ()) -> str:
    """The first screen's answer, in one sentence (and what the fix costs, with ``cost``): a
    fix over the cost budget is the best on properties, not one to ship as it is.
    ``proven``: the conflicts the cells confirmed ("<scenario> and <scenario>"), which say
    that no fix can pass everything."""
    chosen = next((v for v in verdict.fixes if v.fix == verdict.recommended), None)
    after = f" {cost.text}" if cost is not None else ""
    if chosen is not None and chosen.outcome == "passes":
        lead = "Closest to ship:" if cost is not None and cost.over_budget else "Ship"
        return (f"{lead} {chosen.fix}: it passes every property in all {chosen.cells_run} "
                f"cells run and regresses nowhere.{after}")
    if chosen is not None:
        none = (f"No fix can pass everything ({'; '.join(proven)} conflict)." if proven
                else "No fix passes everything.")
        return (f"{none} Least bad: {chosen.fix}: it regresses nowhere; "
                f"it still fails in {usages_failing.get(chosen.fix, 0)} of {usages_run} "
                f"usages.{after}")
    if verdict.closest is not None:
        return (f"None passes: every candidate regresses somewhere. Fewest regressions: "
                f"{verdict.closest.fix}.")
    return "No fix was run: no verdict."


def answer_block(
    merged: Merged, matrix: Matrix, verdict: ReportVerdict, *, key: str = "a",
    title: Optional[str] = None, failures: Optional[FailureLinks] = None,
    cost: Optional[CostNote] = None, proven: Sequence[str] = (),
) -> dict[str, Any]:
    """The first screen for ``merged``'s records: ``key`` prefixes every element id (one
    block per library in one page), ``proven`` the conflicts the cells confirmed,
    ``failures`` maps (fix, target, scenario) to its entries
    under "Failing cells" (``failure_links``), ``cost`` is what the recommended fix costs."""
    by_cell: dict[tuple[str, str, str], list[CellRecord]] = defaultdict(list)
    for record in merged.records.values():
        by_cell[(record.cell.fix, record.cell.target, record.cell.scenario)].append(record)
    verdicts = {v.fix: v for v in verdict.fixes}
    columns = table_columns(matrix)
    regressed = {c.key: _regressed(verdicts.get(c.fix), c) for c in columns}
    explored = {c.key: _explored(verdicts.get(c.fix), c) for c in columns}
    failures = failures or {}

    def records_of(column: Column, scenario: str) -> list[CellRecord]:
        found: list[CellRecord] = []
        for target in column.targets:
            found += by_cell.get((column.fix, target, scenario), [])
        return found

    families: list[dict[str, Any]] = []
    by_column: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row_index, (family, scenario, reference) in enumerate(usages(matrix)):
        cells = []
        for column in columns:
            main = scenario_cell(records_of(column, scenario),
                                 regressed[column.key].get(scenario, set()),
                                 schedules=explored[column.key].get(scenario))
            ref = (scenario_cell(records_of(column, reference),
                                 regressed[column.key].get(reference, set()),
                                 schedules=explored[column.key].get(reference))
                   if reference else None)
            outcome = main["outcome"] if ref is None else _worse(main["outcome"], ref["outcome"])
            shown = _reference_shown(main, ref)
            cell = {
                "id": f"{key}-r{row_index}-{column.key}",
                "tag": _tag(main, ref if shown else None),
                "text": _text(main, ref if shown else None),
                "column": column.key,
                "outcome": outcome,
                "main": main,
                "reference": ref,
                "reference_shown": shown,
                "varies": bool(main["where"] or (ref and ref["where"])),
                "failures": [link for s in (scenario, reference) if s
                             for target in column.targets
                             for link in failures.get((column.fix, target, s), [])],
            }
            cells.append(cell)
            by_column[column.key].append(cell)
        row = {"scenario": scenario, "reference": reference, "cells": cells}
        if families and families[-1]["family"] == family:
            families[-1]["rows"].append(row)
        else:
            families.append({"family": family, "rows": [row]})

    rows = sum(len(f["rows"]) for f in families)
    summaries = {c.key: _column_summary(by_column[c.key], c, rows) for c in columns}
    usages_failing = {c.fix: summaries[c.key]["failing"] + summaries[c.key]["regressing"]
                      for c in columns if c.kind == "candidate"}
    usages_run = max((summaries[c.key]["run"] for c in columns), default=0)
    return {
        "key": key,
        "title": title,
        "headline": headline(verdict, usages_failing, usages_run, cost, proven),
        "recommended": verdict.recommended,
        "closest": verdict.closest.fix if verdict.closest else None,
        "columns": [
            {"key": c.key, "label": c.label, "fix": c.fix, "targets": list(c.targets),
             "kind": c.kind, "recommended": c.fix == verdict.recommended,
             "summary": summaries[c.key]}
            for c in columns
        ],
        "families": families,
        "varying": _varying(families, columns),
        "usages": rows,
    }


FailureLinks = dict[tuple[str, str, str], list[dict[str, str]]]


def failure_links(failures: Iterable[dict[str, Any]]) -> FailureLinks:
    """(fix, target, scenario) -> its entries in the report's failing cells: id and label."""
    found: FailureLinks = defaultdict(list)
    for failure in failures:
        what = ", ".join(failure["failing"]) or failure["outcome"]
        found[(failure["fix"], failure["target"], failure["scenario"])].append(
            {"id": failure["id"], "label": f"{failure['target']}: {what} ({failure['where']})"})
    return dict(found)
