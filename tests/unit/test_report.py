"""The report merges results honestly: missing, stale and partial results never pass silently."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ctxreset.bench.measure import FixTimings, Sample, summarise
from ctxreset.catalogue import INTERPOSITION
from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix
from ctxreset.matrix.plan import planned_cells, rerun_command
from ctxreset.records import CellId, CellResult, not_run, write_atomically, write_cell
from ctxreset.report.build import build_report, main, write_report
from ctxreset.report.diff import diff_reports, render_diff
from ctxreset.report.merge import NO_RESULT, merge

HASH = "current-matrix"
SCHEMA = json.loads((Path(__file__).parents[2] / "ctxreset/report/report.schema.json").read_text())


@pytest.fixture(scope="module")
def matrix():
    return load_matrix(DEFAULT_MATRIX_PATH)


def _write(root: Path, cell: CellId, failing: tuple[str, ...] = (), matrix_hash: str = HASH):
    properties = {"no-error": {"status": "pass", "evidence": []}}
    for prop in failing:
        properties[prop] = {"status": "fail", "evidence": [f"{prop} evidence for {cell}"]}
    result = CellResult(cell.python, cell.target, cell.fix, cell.scenario, cell.loop, "checked",
                        properties=properties)
    return write_cell(root, result, {"python": cell.python + ".0", "matrix_hash": matrix_hash})


def _every_cell_of(root: Path, matrix, fix: str, failing_in: dict[str, tuple[str, ...]]):
    """Results for every planned cell of ``fix`` on 3.11 (the others stay missing)."""
    for cell in planned_cells(matrix, "3.11"):
        if cell.fix == fix and not matrix.loop_not_run(cell.loop, "3.11"):
            _write(root, cell, failing_in.get(cell.scenario, ()))


def test_missing_results_are_not_run_never_pass(tmp_path, matrix):
    cell = CellId("3.11", "minimal", "context_rerun", "other_task", "asyncio")
    _write(tmp_path, cell)
    merged = merge(tmp_path, matrix, HASH)
    assert merged.records[cell].outcome == "pass"
    other = CellId("3.11", "minimal", "context_rerun", "same_task", "asyncio")
    assert merged.records[other].outcome == "not run"
    assert merged.records[other].reason == NO_RESULT
    eager = CellId("3.9", "minimal", "none", "same_task", "asyncio-eager")
    assert "requires Python >=3.12" in merged.records[eager].reason


def test_stale_results_are_flagged_and_not_counted(tmp_path, matrix):
    cell = CellId("3.11", "minimal", "context_rerun", "other_task", "asyncio")
    path = _write(tmp_path, cell, matrix_hash="an-older-matrix")
    merged = merge(tmp_path, matrix, HASH)
    assert merged.stale == [str(path)]
    assert merged.records[cell].outcome == "not run"
    report = build_report(merged, matrix)
    assert report["stale"] == [str(path)]
    assert all(v["outcome"] == "not run" for v in report["verdict"]["fixes"])


def test_partial_and_temporary_files_are_not_results(tmp_path, matrix):
    cell = CellId("3.11", "minimal", "none", "other_task", "asyncio")
    path = _write(tmp_path, cell, ("no-error",))
    truncated = path.with_name("same_task-asyncio.json")
    truncated.write_text(path.read_text()[:40])  # a crash mid-write without the atomic rename
    (path.parent / ".other_task-asyncio.json.tmp123").write_text("{")
    merged = merge(tmp_path, matrix, HASH)
    assert merged.unreadable == [str(truncated)]
    assert merged.records[cell].outcome == "fail"
    assert merged.records[CellId("3.11", "minimal", "none", "same_task", "asyncio")].outcome == (
        "not run"
    )


def test_verdict_recommends_only_a_fix_that_passes_every_cell_run(tmp_path, matrix):
    _every_cell_of(tmp_path, matrix, "context_rerun", {})
    _every_cell_of(tmp_path, matrix, "safe_reset", {"early_break": ("no-leak",)})
    report = build_report(merge(tmp_path, matrix, HASH), matrix)
    verdict = report["verdict"]
    assert verdict["recommended"] == "context_rerun"
    outcomes = {v["fix"]: v["outcome"] for v in verdict["fixes"]}
    assert outcomes["context_rerun"] == "passes"
    assert outcomes["safe_reset"] == "fails"
    assert outcomes["streaming_trace"] == "not run"  # no cell ran: no verdict, never a pass
    assert verdict["statement"].startswith("Recommended: context_rerun")


def test_when_nothing_passes_the_rule_picks_a_fix_that_regresses_nowhere(tmp_path, matrix):
    _every_cell_of(tmp_path, matrix, "none", {"early_break": ("trace-ended-once", "no-leak"),
                                              "other_task": ("no-error", "no-leak")})
    _every_cell_of(tmp_path, matrix, "context_rerun", {"early_break": ("trace-ended-once",)})
    _every_cell_of(tmp_path, matrix, "streaming_trace", {"early_break": ("no-error",)})
    verdict = build_report(merge(tmp_path, matrix, HASH), matrix)["verdict"]
    outcomes = {v["fix"]: v["outcome"] for v in verdict["fixes"]}
    assert outcomes["streaming_trace"] == "regresses"  # unpatched passes no-error there
    assert outcomes["context_rerun"] == "fails"  # unpatched fails trace-ended-once too
    assert verdict["recommended"] == "context_rerun"
    assert verdict["statement"].startswith("Recommended: context_rerun, with what it still")
    assert "early_break (trace-ended-once)" in verdict["statement"]
    regressed = next(v for v in verdict["fixes"] if v["fix"] == "streaming_trace")
    assert regressed["regresses"] == [{"scenario": "early_break", "properties": ["no-error"]}]


def test_a_fix_that_regresses_is_never_recommended_whatever_else_it_passes(tmp_path, matrix):
    broken: dict[str, tuple[str, ...]] = {s: ("no-error", "no-leak") for s in matrix.scenarios
              if not s.endswith("_one_task") and s != "same_task"}
    _every_cell_of(tmp_path, matrix, "none", broken)
    # Passes everything but one property in one one-task reference the unpatched library gets
    # right: regresses, so it loses to a fix that still fails a property but nowhere worse.
    _every_cell_of(tmp_path, matrix, "streaming_trace",
                   {"child_task_spans_one_task": ("consumer-spans-attached",)})
    _every_cell_of(tmp_path, matrix, "safe_reset", {"other_task": ("no-leak",)})
    verdict = build_report(merge(tmp_path, matrix, HASH), matrix)["verdict"]
    assert verdict["recommended"] == "safe_reset"
    table = {row["scenario"]: {c["fix"]: c for c in row["cells"]}
             for row in verdict["scenario_table"]}
    assert table["child_task_spans_one_task"]["streaming_trace"]["outcome"] == "regresses"
    assert table["other_task"]["safe_reset"]["outcome"] == "fail"


def test_a_failure_the_one_task_reference_does_not_have_falls_short(tmp_path, matrix):
    """Unpatched fails ``released`` when consumed elsewhere but not in one task: a fix that
    still fails it elsewhere does not regress, but falls short of right, and loses to one
    that does not."""
    _every_cell_of(tmp_path, matrix, "none", {"tool_call": ("no-error", "released")})
    _every_cell_of(tmp_path, matrix, "context_rerun", {"tool_call": ("released",)})
    _every_cell_of(tmp_path, matrix, "safe_reset", {"tool_call": ("no-error",),
                                                    "max_turns": ("no-error",)})
    verdict = build_report(merge(tmp_path, matrix, HASH), matrix)["verdict"]
    fixes = {v["fix"]: v for v in verdict["fixes"]}
    assert fixes["context_rerun"]["regresses"] == []
    assert fixes["context_rerun"]["short_of_reference"] == [["tool_call", "released"]]
    assert fixes["safe_reset"]["regresses"] == [{"scenario": "max_turns",
                                                "properties": ["no-error"]}]
    assert verdict["recommended"] == "context_rerun"


def test_candidates_are_compared_with_each_released_version(tmp_path, matrix):
    _every_cell_of(tmp_path, matrix, "context_rerun", {"other_task": ("no-leak",)})
    for cell in planned_cells(matrix, "3.11", ["agents-0.0.12"]):
        if not matrix.loop_not_run(cell.loop, "3.11") and not matrix.excluded(
                cell.target, cell.scenario, cell.loop, "3.11"):
            failing = ("consumer-spans-attached",) if cell.scenario == "consumer_spans" else ()
            _write(tmp_path, cell, failing)
    verdict = build_report(merge(tmp_path, matrix, HASH), matrix)["verdict"]
    (comparison,) = [c for c in verdict["comparisons"] if c["fix"] == "context_rerun"
                     and c["release"] == "agents-0.0.12"]
    assert comparison["better"] == {"consumer_spans": ["consumer-spans-attached"]}
    assert comparison["worse"] == {"other_task": ["no-leak"]}
    assert "better on consumer_spans (consumer-spans-attached)" in comparison["text"]


def test_grid_failures_and_rerun_command(tmp_path, matrix):
    cell = CellId("3.11", "agents-0.0.11", "none", "other_task", "uvloop")
    _write(tmp_path, cell, ("no-error", "no-leak"))
    report = build_report(merge(tmp_path, matrix, HASH), matrix)
    column = report["columns"].index({"python": "3.11", "loop": "uvloop",
                                      "target": "agents-0.0.11"})
    row = next(r for r in report["grid"] if r["fix"] == "none")
    assert row["cells"][column]["outcome"] == "fail"
    assert row["cells"][column]["text"] == "error leak"
    upstream = next(r for r in report["grid"] if r["fix"] == "upstream")
    assert upstream["cells"][column]["outcome"] == "n/a"
    (failure,) = report["failures"]
    assert failure["evidence"]["no-leak"] == [f"no-leak evidence for {cell}"]
    assert failure["rerun"] == rerun_command(cell)
    assert "tests-3.11(target='agents-0.0.11')" in failure["rerun"]
    assert "[agents-0.0.11-none-other_task[uvloop]]" in failure["rerun"]


def test_report_json_follows_its_schema_and_is_deterministic(tmp_path, matrix):
    _every_cell_of(tmp_path, matrix, "none", {"other_task": ("no-error",)})
    write_cell(tmp_path, not_run(CellId("3.14", "minimal", "none", "same_task", "asyncio"),
                                 "interpreter missing"), {"python": None, "matrix_hash": HASH})
    first = build_report(merge(tmp_path, matrix, HASH), matrix)
    Draft202012Validator(SCHEMA).validate(first)
    second = build_report(merge(tmp_path, matrix, HASH), matrix)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert {"reason": "interpreter missing", "cells": 1} in first["not_run"]


def test_command_writes_three_files(tmp_path, matrix, monkeypatch):
    results, out = tmp_path / "results", tmp_path / "reports"
    results.mkdir()
    assert main(["--results", str(results), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]
    assert "No fix was run" in (out / "report.md").read_text()


def test_diff_lists_new_failures_first(tmp_path, matrix):
    a = CellId("3.11", "minimal", "context_rerun", "other_task", "asyncio")
    b = CellId("3.11", "minimal", "context_rerun", "same_task", "asyncio")
    old_root, new_root = tmp_path / "old", tmp_path / "new"
    _write(old_root, a, ("no-leak",))
    _write(old_root, b)
    _write(new_root, a)
    _write(new_root, b, ("no-error",))
    old = build_report(merge(old_root, matrix, HASH), matrix)
    new = build_report(merge(new_root, matrix, HASH), matrix)
    changes = diff_reports(old, new)
    assert [(c.section, c.cell) for c in changes] == [("new failures", str(b)), ("fixed", str(a))]
    text = render_diff(changes)
    assert text.index("New failures") < text.index("Fixed")
    assert diff_reports(new, new) == []


def test_diff_refuses_what_is_not_a_report():
    with pytest.raises(ValueError, match=r"not a report\.json"):
        diff_reports({"cells": []}, {"schema_version": 1, "cells": []})


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: chromium)")
def test_html_renders_in_headless_chromium_with_the_verdict(tmp_path, matrix):
    _every_cell_of(tmp_path / "results", matrix, "context_rerun", {"early_break": ("no-leak",)})
    report = build_report(merge(tmp_path / "results", matrix, HASH), matrix)
    html = next(p for p in write_report(report, tmp_path / "out") if p.suffix == ".html")
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", html.as_uri()],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert report["verdict"]["statement"] in done.stdout.replace("&amp;", "&")
    assert 'id="grid"' in done.stdout
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.read_text())  # self-contained


def _write_bench(results: Path, matrix, matrix_hash: str = HASH) -> Path:
    """A benchmark file as ctxreset.bench.measure writes it, from synthetic timings (3 repeats)."""
    target = "agents-0.0.11"
    timings = {fix: FixTimings([Sample(100.0, 8)] * 3, [Sample(2100.0, 208)] * 3)
               for fix in matrix.fixes_for(target)}
    timings["context_rerun"] = FixTimings([Sample(103.0, 8)] * 3, [Sample(2123.0, 208)] * 3)
    timings["streaming_trace"] = FixTimings([Sample(110.0, 8)] * 3, [Sample(2110.0, 208)] * 3)
    timings[INTERPOSITION] = FixTimings([Sample(102.0, 8)] * 3, [Sample(2102.0, 208)] * 3)
    bench = {"python": "3.11", "target": target, "loop": "asyncio", "repeats": 3, "budget": 0.05,
             "baseline": "none", "short_events": 8,
             "fixes": summarise(matrix, target, timings, 0.05)}
    path = results / "bench" / f"py3.11-{target}-asyncio.json"
    write_atomically(path, {"schema_version": 1, "bench": bench, "matrix_hash": matrix_hash})
    return path


def test_costs_from_a_bench_file_appear_beside_each_fix(tmp_path, matrix, monkeypatch):
    results, out = tmp_path / "results", tmp_path / "reports"
    _write(results, CellId("3.11", "agents-0.0.11", "context_rerun", "same_task", "asyncio"))
    monkeypatch.setattr("ctxreset.report.build.matrix_hash", lambda: HASH)
    _write_bench(results, matrix)
    assert main(["--results", str(results), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    Draft202012Validator(SCHEMA).validate(report)
    (cost,) = report["costs"]["context_rerun"]
    assert cost["per_run"]["median"] == pytest.approx(1.03)
    assert cost["per_event"]["median"] == pytest.approx(1.01)
    assert cost["within_budget"] is True
    # x1.03 at 8 events, 22.2 against 20 per run with none: within from 3 events, each repeat
    assert cost["events_to_budget"] == {"median": 3, "q1": 3, "q3": 3}
    assert report["costs"]["streaming_trace"][0]["events_to_budget"]["median"] == 18
    assert cost["text"].startswith("cost per run x1.030 (IQR 1.030-1.030), per event x1.010")
    assert "; within the 5% budget per run [py3.11 asyncio, agents-0.0.11, 3 repeats]" in cost[
        "text"]
    assert "over the 5% budget" in report["costs"]["streaming_trace"][0]["text"]
    assert report["costs"]["none"][0]["status"] == "baseline"
    (toll,) = report["costs"][INTERPOSITION]  # a reference beside the fixes, not a fix
    assert (toll["status"], toll["within_budget"]) == ("reference", None)
    assert toll["text"].startswith("cost of patching in alone (pass-through wrappers at the "
                                   "points a streamed fix patches, no fix logic): per run x1.020")
    assert report["costs"]["upstream"][0]["text"].startswith(
        "cost n/a [py3.11 asyncio, agents-0.0.11]: applies to agents-0.0.12")
    markdown, html = (out / "report.md").read_text(), (out / "report.html").read_text()
    for text in (markdown, html):
        assert cost["text"] in text
    assert "nox -s bench" in markdown


def test_without_a_bench_file_the_report_shows_no_cost_figures_and_says_so(tmp_path, matrix):
    _every_cell_of(tmp_path, matrix, "context_rerun", {})
    report = build_report(merge(tmp_path, matrix, HASH), matrix)
    assert report["costs"] == {}
    from ctxreset.report.build import render

    page = render(report, "report.md.j2").lower()
    assert "the cost of context_rerun was not measured in this run" in page
    assert "x1." not in page and "within +5%" not in page


def test_a_stale_bench_file_is_listed_and_not_shown(tmp_path, matrix):
    from ctxreset.bench.costs import read_costs

    path = _write_bench(tmp_path, matrix, matrix_hash="an-older-matrix")
    (tmp_path / "bench" / "broken.json").write_text("{")
    costs = read_costs(tmp_path / "bench", HASH)
    report = build_report(merge(tmp_path, matrix, HASH), matrix, costs)
    assert report["costs"] == {}
    assert report["stale"] == [str(path)]
    assert report["unreadable"] == [str(tmp_path / "bench" / "broken.json")]
