"""The report: which fix passes, on evidence. Markdown, self-contained HTML and JSON.

    python -m ctxreset.report [--results results] [--out reports] [--diff OLD.json]

Merges every results file (ctxreset.report.merge), judges each fix (ctxreset.report.verdict),
adds what each fix costs where ``nox -s bench`` measured it (ctxreset.bench.costs,
``results/bench/``) and the sweep across releases when ``results/sweep`` exists
(ctxreset.sweep.section), the "Interleavings" of ``nox -s explore`` when ``results/explore``
exists (ctxreset.explore.section: a fix's failures under any explored schedule count in its
verdict), and renders ``reports/report.{md,html,json}`` with the Jinja2
templates in ``ctxreset/report/templates``. The JSON follows
``ctxreset/report/report.schema.json``. Everything but the ``provenance`` block depends only on
the results, so the same results give the same report. ``--diff`` compares with an earlier
``report.json`` (ctxreset.report.diff) and writes ``reports/diff.md``.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ctxreset.bench.costs import Costs, read_costs
from ctxreset.catalogue import FAMILY_OF, INTERPOSITION, SHORT_NAMES
from ctxreset.explore.section import ScheduleFindings, build_interleavings, render_markdown
from ctxreset.matrix.loader import Matrix, load_matrix_for_command, matrix_hash
from ctxreset.matrix.plan import rerun_command
from ctxreset.records import Problem, read_json, write_text_atomically
from ctxreset.report import markdown
from ctxreset.report.answer import answer_block, failure_links
from ctxreset.report.findings import conflicts_that_hold, cost_note, findings
from ctxreset.report.libraries import library_verdicts, shape_view
from ctxreset.report.merge import CellRecord, Merged, merge
from ctxreset.report.pictures import cost_bars, timeline
from ctxreset.report.trust import trust_block
from ctxreset.report.verdict import BASELINE, RULE, ReportVerdict, judge
from ctxreset.sweep.section import build_sweep

SCHEMA_VERSION = 1
TEMPLATES = Path(__file__).resolve().parent / "templates"
EVIDENCE_LINES = 4
EVIDENCE_CHARS = 400
MD_FAILURES = 40
"""report.md lists this many failing-cell groups (it lands in $GITHUB_STEP_SUMMARY, 1 MiB a
step); report.html and report.json have them all."""
DEFAULT_BUDGET = 0.05  # a fix's cost per streamed run, when matrix.yaml has no bench: section


def _version_key(python: str) -> tuple[int, ...]:
    return tuple(int(part) for part in python.split("."))


def _ordered(values: set[str], order: list[str]) -> list[str]:
    return [value for value in order if value in values]


def _columns(matrix: Matrix) -> list[dict[str, str]]:
    return [
        {"python": python, "loop": loop, "target": target}
        for python in matrix.pythons
        for loop in matrix.loops
        for target in matrix.targets
    ]


def _grid_cell(matrix: Matrix, records: list[CellRecord], fix: str, target: str) -> dict[str, str]:
    if target not in matrix.fixes[fix]:
        return {"outcome": "n/a", "text": "—", "detail": f"{fix} does not apply to {target}"}
    ran = [r for r in records if r.outcome != "not run"]
    if not ran:
        reasons = sorted({r.reason for r in records})
        return {"outcome": "not run", "text": "not run", "detail": "; ".join(reasons)}
    outcomes = {r.outcome for r in ran}
    details = []
    for record in ran:
        if record.outcome == "fail":
            details.append(f"{record.cell.scenario}: {', '.join(record.failing)}")
        elif record.outcome in ("error", "timeout"):
            details.append(f"{record.cell.scenario}: {record.outcome} ({record.reason})")
    skipped = len(records) - len(ran)
    if skipped:
        details.append(f"{skipped} scenario(s) not run")
    for outcome in ("error", "timeout"):
        if outcome in outcomes:
            return {"outcome": outcome, "text": outcome, "detail": "; ".join(details)}
    if "fail" in outcomes:
        failing = {p for r in ran for p in r.failing}
        text = " ".join(SHORT_NAMES[p] for p in SHORT_NAMES if p in failing)
        return {"outcome": "fail", "text": text, "detail": "; ".join(details)}
    return {"outcome": "pass", "text": "pass", "detail": "; ".join(details)}


def _where(records: list[CellRecord], matrix: Matrix) -> str:
    pythons = sorted({r.cell.python for r in records}, key=_version_key)
    loops = _ordered({r.cell.loop for r in records}, list(matrix.loops))
    return f"py{', py'.join(pythons)} x {', '.join(loops)}"


def _evidence(record: CellRecord) -> dict[str, list[str]]:
    shown = {}
    for prop, lines in record.evidence.items():
        shown[prop] = [line[:EVIDENCE_CHARS] for line in lines[:EVIDENCE_LINES]]
        if len(lines) > EVIDENCE_LINES:
            shown[prop].append(f"... {len(lines) - EVIDENCE_LINES} more")
    if record.outcome in ("error", "timeout"):
        shown[record.outcome] = [record.reason[:EVIDENCE_CHARS]] + [
            f"{e['source']}: {e['summary']}"[:EVIDENCE_CHARS] for e in record.errors[:3]
        ]
    return shown


def _failures(merged: Merged, matrix: Matrix) -> list[dict[str, Any]]:
    """Failing cells grouped where fix, target, scenario and failing set agree."""
    groups: dict[tuple[Any, ...], list[CellRecord]] = defaultdict(list)
    for record in merged.records.values():
        if record.outcome in ("fail", "error", "timeout"):
            cell = record.cell
            groups[(cell.fix, cell.target, cell.scenario, record.outcome, record.failing)].append(
                record
            )
    fix_order, target_order = list(matrix.fixes), list(matrix.targets)
    scenario_order = list(matrix.scenarios)
    failures = []
    ordered = sorted(groups, key=lambda k: (fix_order.index(k[0]), target_order.index(k[1]),
                                            scenario_order.index(k[2]), k[3], k[4]))
    for index, key in enumerate(ordered):
        fix, target, scenario, outcome, failing = key
        records = sorted(groups[key], key=lambda r: (_version_key(r.cell.python), r.cell.loop))
        first = records[0]
        failures.append({
            "id": f"failure-{index}",
            "fix": fix,
            "target": target,
            "scenario": scenario,
            "outcome": outcome,
            "failing": list(failing),
            "cells": len(records),
            "where": _where(records, matrix),
            "evidence": _evidence(first),
            "evidence_from": str(first.cell),
            "rerun": rerun_command(first.cell),
        })
    return failures


def _provenance(merged: Merged) -> dict[str, Any]:
    interpreters: dict[str, set[str]] = defaultdict(set)
    packages: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    written = []
    for record in merged.records.values():
        prov = record.provenance
        if not prov.get("python"):
            continue
        interpreters[record.cell.python].add(
            f"{prov.get('implementation', '?')} {prov['python']} ({prov.get('executable', '?')})"
        )
        for name in ("openai-agents", "openai", "uvloop", "rloop", "pydantic", "pytest"):
            if name in prov.get("packages", {}):
                packages[record.cell.target][name].add(prov["packages"][name])
        if prov.get("written_at"):
            written.append(prov["written_at"])
    sessions = [
        {
            "python": s["session"]["python"],
            "targets": s["session"]["targets"],
            "duration_s": s["session"]["duration_s"],
            "exitstatus": s["session"]["exitstatus"],
        }
        for s in merged.sessions
    ]
    return {
        "interpreters": {p: sorted(v) for p, v in sorted(interpreters.items(),
                                                          key=lambda i: _version_key(i[0]))},
        "packages": {t: {n: sorted(v) for n, v in sorted(names.items())}
                     for t, names in sorted(packages.items())},
        "first_written": min(written) if written else None,
        "last_written": max(written) if written else None,
        "sessions": sessions,
        "sessions_total_s": round(sum(s["duration_s"] for s in sessions), 1),
    }


def _rests_on(merged: Merged, verdict: ReportVerdict) -> dict[str, Any]:
    """How many scenarios, properties, Pythons, loops and targets the verdict's cells cover."""
    ran = [r.cell for r in merged.records.values() if r.outcome != "not run"]
    return {
        "scenarios": len({c.scenario for c in ran}),
        "properties": verdict.properties_judged,
        "pythons": sorted({c.python for c in ran}),
        "loops": sorted({c.loop for c in ran}),
        "targets": sorted({c.target for c in ran}),
        "cells_run": len(ran),
        "cells_not_run": len(merged.records) - len(ran),
    }


def _scenario_table(matrix: Matrix, verdict: ReportVerdict) -> list[dict[str, Any]]:
    """Scenario x fix: "pass", the failing properties (narrowed where they do not fail
    everywhere), marked when they regress, or "not run"."""

    rows = []
    for scenario in matrix.scenarios:
        cells = []
        for fix_verdict in verdict.fixes:
            if scenario not in fix_verdict.ran_by_scenario:
                cells.append({"fix": fix_verdict.fix, "outcome": "not run", "text": "not run"})
                continue
            problems = fix_verdict.broken_scenarios().get(scenario, [])
            regressed = fix_verdict.regressed_pairs().get(scenario, [])
            outcome = "regresses" if regressed else ("fail" if problems else "pass")
            text = "; ".join(problems) or "pass"
            if regressed:
                text = f"REGRESSES ({', '.join(regressed)}): {text}"
            cells.append({"fix": fix_verdict.fix, "outcome": outcome, "text": text})
        rows.append({"scenario": scenario, "family": FAMILY_OF.get(scenario, ""),
                     "cells": cells})
    return rows


HELD_TITLE = "a token held across a yield (the held shape)"


def _schedules_of(schedules: Optional[dict[str, ScheduleFindings]],
                  view: Matrix) -> dict[str, ScheduleFindings]:
    """What explored schedules showed, kept to the scenarios of one shape's view."""
    kept = {}
    for fix, found in (schedules or {}).items():
        kept[fix] = ScheduleFindings(
            breaks={pair for pair in found.breaks if pair[0] in view.scenarios},
            regressions={pair for pair in found.regressions if pair[0] in view.scenarios})
    return kept


def _schedules_explored(interleavings: Optional[dict[str, Any]]) -> Optional[int]:
    """How many seeded schedules ``nox -s explore`` ran, over every fix; None: not explored."""
    if not interleavings:
        return None
    return sum(int(tally["schedules"]) for tally in interleavings["fixes"])


def _cost_rows(matrix: Matrix, costs: Costs) -> list[str]:
    """The fixes' cost bars, then the interposition toll beside them where it was timed."""
    rows = [fix for fix in matrix.fixes if fix != BASELINE]
    if INTERPOSITION in costs.by_fix:
        rows.append(INTERPOSITION)
    return rows


def build_report(
    merged: Merged, matrix: Matrix, costs: Optional[Costs] = None, *,
    sweep: Optional[dict[str, Any]] = None,
    interleavings: Optional[dict[str, Any]] = None,
    schedules: Optional[dict[str, ScheduleFindings]] = None,
) -> dict[str, Any]:
    """``costs``: the benchmark files (ctxreset.bench.costs); None or empty: the report has none.
    ``sweep``: the sweep across releases (ctxreset.sweep.section), None when never swept."""
    costs = costs or Costs()
    streamed, streamed_matrix = shape_view(merged, matrix, "streamed")
    verdict: ReportVerdict = judge(streamed, streamed_matrix,
                                   _schedules_of(schedules, streamed_matrix))
    by_column: dict[tuple[str, str, str, str], list[CellRecord]] = defaultdict(list)
    for record in merged.records.values():
        cell = record.cell
        by_column[(cell.fix, cell.python, cell.loop, cell.target)].append(record)
    columns = _columns(matrix)
    grid = []
    for fix in matrix.fixes:
        cells = []
        for column in columns:
            records = by_column[(fix, column["python"], column["loop"], column["target"])]
            cells.append(_grid_cell(matrix, records, fix, column["target"]))
        grid.append({"fix": fix, "cells": cells})

    not_run: dict[str, int] = defaultdict(int)
    for record in merged.records.values():
        if record.outcome == "not run":
            not_run[record.reason] += 1
    counts: dict[str, int] = defaultdict(int)
    for record in merged.records.values():
        counts[record.outcome] += 1
    failures = _failures(merged, matrix)
    links = failure_links(failures)
    budget = matrix.bench.budget if matrix.bench else DEFAULT_BUDGET
    proven = conflicts_that_hold(verdict)
    answer = answer_block(streamed, streamed_matrix, verdict, failures=links,
                          cost=cost_note(verdict, costs, budget), proven=proven)
    answers = [answer]
    held, held_matrix = shape_view(merged, matrix, "held")
    other_shapes = []
    if held.records:
        held_verdict = judge(held, held_matrix, _schedules_of(schedules, held_matrix))
        other_shapes.append({"shape": HELD_TITLE, "statement": held_verdict.statement()})
        answers.append(answer_block(held, held_matrix, held_verdict, key="held",
                                    title=HELD_TITLE, failures=links))

    return {
        "schema_version": SCHEMA_VERSION,
        "matrix_hash": merged.matrix_hash,
        "verdict": {
            "statement": verdict.statement(proven),
            "rule": RULE,
            "recommended": verdict.recommended,
            "closest": verdict.closest.fix if verdict.closest else None,
            "rests_on": _rests_on(streamed, verdict),
            "other_shapes": other_shapes,
            "fixes": [
                {
                    "fix": v.fix,
                    "outcome": v.outcome,
                    "targets": list(v.targets),
                    "cells_run": v.cells_run,
                    "cells_failing": v.cells_failing,
                    "summary": v.summary(),
                    "regresses": [{"scenario": s, "properties": p}
                                  for s, p in v.regressed_pairs().items()],
                    "repaired": len(v.repaired),
                    "short_of_reference": [list(pair) for pair in sorted(v.short)],
                }
                for v in verdict.fixes
            ],
            "comparisons": [
                {"fix": c.fix, "release": c.release, "better": c.better, "worse": c.worse,
                 "compared": c.compared, "text": c.text()}
                for c in verdict.comparisons
            ],
            "scenario_table": _scenario_table(streamed_matrix, verdict),
            "findings": findings(verdict, costs),
        },
        "counts": {k: counts[k] for k in ("pass", "fail", "error", "timeout", "not run")},
        "columns": columns,
        "grid": grid,
        "failures": failures,
        "answers": answers,
        "trust": trust_block(merged, matrix, answer["usages"],
                             schedules=_schedules_explored(interleavings)),
        "pictures": {
            "timeline": timeline(sweep),
            "costs": cost_bars(costs.by_fix, _cost_rows(matrix, costs), budget),
        },
        "not_run": [{"reason": r, "cells": n} for r, n in sorted(not_run.items())],
        "stale": merged.stale + costs.stale,
        "unreadable": merged.unreadable + costs.unreadable,
        "unreadable_reasons": dict(merged.problems),
        "costs": costs.by_fix,
        "cells": [
            {
                "python": r.cell.python,
                "target": r.cell.target,
                "fix": r.cell.fix,
                "scenario": r.cell.scenario,
                "loop": r.cell.loop,
                "outcome": r.outcome,
                "failing": list(r.failing),
                "reason": r.reason,
            }
            for r in sorted(merged.records.values(), key=lambda r: r.cell)
        ],
        "legend": SHORT_NAMES,
        "provenance": _provenance(merged),
        "sweep": sweep,
        "interleavings": interleavings,
        "libraries": library_verdicts(merged, matrix),
    }


@functools.lru_cache(maxsize=2)
def _environment(autoescape: bool) -> Environment:
    """One environment per escaping (HTML, Markdown) per process: it keeps each template
    compiled (compiling report.html.j2 costs more than rendering a small report with it) and
    recompiles one whose file changed."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=autoescape,
    )
    env.filters.update(code=markdown.code, text=markdown.text)
    env.globals["interleavings_markdown"] = render_markdown
    return env


def render(report: dict[str, Any], template: str) -> str:
    env = _environment(template.endswith(".html.j2"))
    return env.get_template(template).render(report=report, md_failures=MD_FAILURES)


def write_report(report: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("report.json", json.dumps(report, indent=1, sort_keys=True) + "\n"),
        ("report.md", render(report, "report.md.j2")),
        ("report.html", render(report, "report.html.j2")),
    ):
        path = out / name
        write_text_atomically(path, text)
        written.append(path)
    return written


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ctxreset.report", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--diff", type=Path, metavar="OLD.json",
                        help="an earlier report.json to compare with")
    args = parser.parse_args(argv)
    matrix = load_matrix_for_command()
    if matrix is None:
        return 2
    old = None
    if args.diff is not None:
        try:
            old = read_json(args.diff)
        except Problem as exc:
            print(f"--diff: cannot read {args.diff}: {exc}", file=sys.stderr)
            return 2
        from ctxreset.report.diff import report_problem

        problem = report_problem(old)
        if problem:
            print(f"--diff: {args.diff}: {problem}", file=sys.stderr)
            return 2
    merged = merge(args.results, matrix, matrix_hash())
    try:
        sweep = build_sweep(args.results, list(matrix.scenarios))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        where = args.results / "sweep"
        print(f"{where}: a sweep file has the wrong shape ({exc}); move it away or re-run "
              "`nox -s sweep`", file=sys.stderr)
        return 2
    interleavings, schedules = build_interleavings(args.results, matrix, merged.matrix_hash)
    report = build_report(merged, matrix, read_costs(args.results / "bench", merged.matrix_hash),
                          sweep=sweep, interleavings=interleavings, schedules=schedules)
    for path in write_report(report, args.out):
        print(f"wrote {path}")
    print(report["verdict"]["statement"])
    if report["stale"]:
        print(f"{len(report['stale'])} stale results file(s) ignored (another matrix.yaml)")
    if old is not None:
        from ctxreset.report.diff import diff_reports, render_diff

        text = render_diff(diff_reports(old, report))
        write_text_atomically(args.out / "diff.md", text)
        print(text, end="")
    return 0
