"""report.html looked at as a page: the first screen answers "which fix?" at 1400x900 in
headless Chromium, a click opens a cell's evidence, the HTML's ids and anchors hold, and
report.md stays far below $GITHUB_STEP_SUMMARY's 1 MiB."""

from __future__ import annotations

import json
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ctxreset.catalogue import HELD_FIXES, ONE_TASK_SUFFIX, SHORT_NAMES
from ctxreset.explore.section import ScheduleFindings
from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix
from ctxreset.matrix.plan import planned_cells
from ctxreset.records import CellId, CellResult, write_cell
from ctxreset.report.answer import scenario_cell, where
from ctxreset.report.build import build_report, render, write_report
from ctxreset.report.merge import CellRecord, merge
from ctxreset.report.pictures import cost_bars, timeline
from ctxreset.report.screenshot import Page, find_chromium
from ctxreset.sweep.analysis import CellOutcome, ReleaseOutcome, runs, summarize

ROOT = Path(__file__).parents[2]
HASH = "current-matrix"
SCHEMA = json.loads((ROOT / "ctxreset/report/report.schema.json").read_text())
CHROMIUM = find_chromium() or ""
needs_chromium = pytest.mark.skipif(not CHROMIUM,
                                    reason="Chromium is not installed (Debian: chromium)")
STEP_SUMMARY_BOUND = 256 * 1024
"""report.md's bound for a three-Python run of every cell: a quarter of the 1 MiB a step's
summary may hold."""


@pytest.fixture(scope="module")
def matrix():
    return load_matrix(DEFAULT_MATRIX_PATH)


SHAPED = ("none", "context_rerun", "safe_reset", "streaming_trace")
"""The fixes _failing gives a shape; every other fix in matrix.yaml passes everything."""


def _passing(matrix) -> list[str]:
    """The streamed shape's fixes that pass every cell of the synthetic run, by name (the
    tie-break order); the held shape's fixes are judged in a block of their own."""
    return sorted(fix for fix in matrix.fixes if fix not in SHAPED and fix not in HELD_FIXES)


def _failing(cell: CellId) -> tuple[str, ...]:
    """A synthetic run with every kind of cell: the bug unpatched, a fix that regresses, one
    that falls short, one that varies by loop, and one that passes everything."""
    own_task = not cell.scenario.endswith(ONE_TASK_SUFFIX) and cell.scenario != "same_task"
    if cell.fix == "none":
        return ("no-error", "no-leak") if own_task and cell.scenario != "early_break" else ()
    if cell.fix == "context_rerun" and cell.scenario == "early_break":
        return ("no-error",)  # the unpatched library passes it there: regresses
    if cell.fix == "safe_reset" and own_task and cell.scenario != "early_break":
        return ("no-leak",)
    if cell.fix == "streaming_trace" and cell.scenario == "other_task" and (
            cell.loop == "asyncio-eager"):
        return ("released",)
    return ()


def _write_run(root: Path, matrix, pythons: tuple[str, ...]) -> None:
    for python in pythons:
        for cell in planned_cells(matrix, python):
            if matrix.loop_not_run(cell.loop, python) or matrix.target_not_run(cell.target,
                                                                               python):
                continue
            failing = _failing(cell)
            properties = {"no-error": {"status": "pass", "evidence": []}}
            for prop in failing:
                properties[prop] = {"status": "fail",
                                    "evidence": [f"{prop} evidence for {cell}"]}
            result = CellResult(cell.python, cell.target, cell.fix, cell.scenario, cell.loop,
                                "checked", properties=properties)
            write_cell(root, result, {"python": python + ".0", "matrix_hash": HASH})


@pytest.fixture(scope="module")
def page_report(tmp_path_factory, matrix):
    root = tmp_path_factory.mktemp("page")
    _write_run(root / "results", matrix, ("3.11", "3.12", "3.13"))
    report = build_report(merge(root / "results", matrix, HASH), matrix)
    paths = {p.suffix: p for p in write_report(report, root / "reports")}
    return report, paths


# --- what the first screen says --------------------------------------------------------------

def test_the_answer_names_the_fix_and_the_usages_that_break_the_others(page_report, matrix):
    report, _ = page_report
    Draft202012Validator(SCHEMA).validate(report)
    answer = report["answers"][0]  # the streamed shape; the held shape's comes after
    labels = [c["label"] for c in answer["columns"]]
    assert labels[0] == "unpatched" and labels[-2:] == ["agents-0.0.12", "agents-newest"]
    cells = {(row["scenario"], c["column"]): c for f in answer["families"]
             for row in f["rows"] for c in row["cells"]}
    assert cells[("early_break", "fix-context_rerun")]["outcome"] == "regresses"
    assert cells[("early_break", "fix-context_rerun")]["tag"] == "REGRESSES"
    assert cells[("other_task", "fix-safe_reset")]["text"] == "leak"
    varying = cells[("other_task", "fix-streaming_trace")]
    assert varying["varies"] and varying["main"]["where"] == "fails on asyncio-eager only"
    assert varying["outcome"] == "regresses"  # the unpatched library releases it there
    # ...and the first screen says where, under the table.
    assert {"where": "fails on asyncio-eager only", "columns": [
        {"label": "streaming_trace", "cells": [{"id": varying["id"], "scenario": "other_task"}]}
    ]} in answer["varying"]
    # One-task references are part of their usage's row, not rows of their own.
    assert ("tool_call_one_task", "unpatched") not in cells
    assert cells[("tool_call", "unpatched")]["reference"]["outcome"] == "pass"
    # The recommendation: a fix that passes everything (every fix but the shaped ones does;
    # the first by name wins), never one that regresses.
    first = _passing(matrix)[0]
    assert answer["recommended"] == first
    # Each shape is judged on its own: the held shape's fixes pass every cell here too, but
    # are recommended only in the held shape's block, never for the streamed run.
    held = report["answers"][1]
    assert held["key"] == "held" and held["recommended"] in HELD_FIXES
    assert {c["fix"] for c in answer["columns"]}.isdisjoint(HELD_FIXES)
    assert answer["headline"].startswith(f"Ship {first}: it passes every property")
    header = next(c for c in answer["columns"] if c["recommended"])
    assert header["label"] == first and header["summary"]["text"].startswith("passes all")


def test_where_names_the_loops_and_pythons_a_failure_is_limited_to():
    def record(python: str, loop: str, target: str = "minimal") -> CellRecord:
        return CellRecord(CellId(python, target, "x", "s", loop), "checked")

    ran = [record(p, loop) for p in ("3.10", "3.11", "3.12", "3.13")
           for loop in ("asyncio", "uvloop")]
    assert where(ran, ran) == ""
    assert where([r for r in ran if r.cell.loop == "uvloop"], ran) == "uvloop"
    assert where([r for r in ran if r.cell.python in ("3.12", "3.13")], ran) == "3.12+"
    assert where([r for r in ran if r.cell.python in ("3.10", "3.11")], ran) == "up to 3.11"
    assert where([r for r in ran if r.cell.python in ("3.12", "3.13")
                  and r.cell.loop == "uvloop"], ran) == "uvloop, 3.12+"
    scattered = [ran[0], ran[-1]]  # not one block of loops x Pythons
    assert where(scattered, ran) == "2 of 8 cells"


def test_a_cell_not_run_anywhere_is_never_a_pass():
    record = CellRecord(CellId("3.11", "minimal", "x", "s", "asyncio"), "not run",
                        reason="interpreter missing")
    cell = scenario_cell([record], set())
    assert (cell["outcome"], cell["text"], cell["not_run"]) == (
        "not run", "not run", ["interpreter missing"])


def test_cost_is_not_measured_without_bench_results_and_bars_against_the_budget():
    empty = cost_bars({}, ["context_rerun"], 0.05)
    assert not empty["measured"] and empty["rows"][0]["text"] == "not measured"
    entry = {"python": "3.11", "loop": "asyncio", "target": "t", "status": "measured",
             "per_run": {"median": 1.08, "q1": 1.06, "q3": 1.10, "low": 1.0, "high": 1.2},
             "within_budget": False, "text": ""}
    bars = cost_bars({"context_rerun": [entry]}, ["context_rerun"], 0.05)
    (row,) = bars["rows"]
    assert bars["measured"] and row["text"].startswith("+8.0% (IQR +6.0 to +10.0); over")
    assert row["q1_x"] < row["median_x"] < row["q3_x"]
    assert bars["zero_x"] < bars["budget_x"] < row["median_x"]
    # the interposition toll is a reference: drawn, not judged against the budget
    toll = {**entry, "status": "reference", "within_budget": None,
            "per_run": {"median": 1.02, "q1": 1.01, "q3": 1.03, "low": 1.0, "high": 1.1}}
    bars = cost_bars({"context_rerun": [entry], "interposition": [toll]},
                     ["context_rerun", "interposition"], 0.05)
    assert [r["reference"] for r in bars["rows"]] == [False, True]
    assert bars["rows"][1]["text"] == "+2.0% (IQR +1.0 to +3.0); toll of patching in"


def test_the_sweep_timeline_has_a_band_per_outcome_and_marks_breaks_and_heals():
    def ran(version: str, **cells: CellOutcome) -> ReleaseOutcome:
        return ReleaseOutcome(version, "ran", cells=cells)

    ok, broken = CellOutcome("pass"), CellOutcome("fail", ("no-leak",))
    releases = [ran("0.1.0", a=ok, b=broken), ran("0.2.0", a=broken, b=broken),
                ReleaseOutcome("0.3.0", "not installable", "no solution"),
                ran("0.4.0", a=ok, b=ok)]
    histories = [{"scenario": h.scenario, "transitions": [
        {"version": t.version, "kind": t.kind, "failing": list(t.problems)}
        for t in h.transitions]} for h in summarize(releases, ["a", "b"])]
    picture = timeline({"scenarios": ["a", "b"], "runs": runs(releases, ["a", "b"], SHORT_NAMES),
                        "histories": histories})
    assert picture is not None
    bands = [(b["title"].split(",")[0], b["cls"], b["w"]) for b in picture["bands"]]
    step = picture["bands"][0]["w"]
    assert bands == [("a", "pass", step), ("a", "fail", step), ("a", "not-run", step),
                     ("a", "pass", step), ("b", "fail", 2 * step), ("b", "not-run", step),
                     ("b", "pass", step)]
    marks = [(m["title"]) for m in picture["marks"]]
    assert marks == ["a broke in 0.2.0 (no-leak)", "a healed in 0.4.0", "b healed in 0.4.0"]
    assert [label["text"] for label in picture["labels"]] == ["0.1.0", "0.2.0", "0.3.0",
                                                               "0.4.0"]
    assert timeline(None) is None


def test_a_failure_only_under_explored_schedules_shows_in_its_cell(page_report, matrix):
    _, paths = page_report
    merged = merge(paths[".html"].parent.parent / "results", matrix, HASH)
    passing = _passing(matrix)
    regressed, broken, winner = passing[0], passing[1:-1], passing[-1]
    found = {regressed: ScheduleFindings(breaks={("handoff", "no-leak")},
                                         regressions={("handoff", "no-leak")})}
    found.update({fix: ScheduleFindings(breaks={("tool_call", "released")}) for fix in broken})
    report = build_report(merged, matrix, schedules=found)
    answer = report["answers"][0]  # the streamed shape; the held shape's comes after
    cells = {(row["scenario"], c["column"]): c for f in answer["families"]
             for row in f["rows"] for c in row["cells"]}
    regressing = cells[("handoff", f"fix-{regressed}")]
    assert (regressing["outcome"], regressing["tag"], regressing["text"]) == (
        "regresses", "REGRESSES", "leak")
    assert regressing["main"]["where"] == "fails on explored schedules only"
    failing = cells[("tool_call", f"fix-{broken[0]}")]
    assert (failing["outcome"], failing["text"]) == ("fail", "held-open")
    # All passed everything in the default order; now the one fix that still does wins.
    assert answer["recommended"] == winner
    assert answer["headline"].startswith(f"Ship {winner}: it passes every property")
    assert "Schedules:" in report["trust"]["lines"][-1]


def test_the_same_results_give_the_same_report_byte_for_byte(page_report, matrix, tmp_path):
    _, paths = page_report
    results = paths[".html"].parent.parent / "results"
    again = build_report(merge(results, matrix, HASH), matrix)
    for suffix, template in ((".html", "report.html.j2"), (".md", "report.md.j2")):
        assert render(again, template) == paths[suffix].read_text()


# --- report.md -------------------------------------------------------------------------------

def test_markdown_starts_with_the_answer_and_fits_the_step_summary(page_report):
    report, paths = page_report
    markdown = paths[".md"].read_text()
    size = len(markdown.encode())
    assert size < STEP_SUMMARY_BOUND, f"report.md is {size} bytes"
    lines = markdown.splitlines()
    first_table = next(i for i, line in enumerate(lines) if line.startswith("|"))
    assert lines[first_table].startswith("| family | usage | unpatched |")
    assert lines[2].startswith(f"**{report['answers'][0]['headline']}")
    assert first_table < 10


# --- the HTML holds together -----------------------------------------------------------------

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "param", "source", "track", "wbr"})


class _Ids(HTMLParser):
    """Ids, #anchors and evidence references; and every element closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.anchors: list[str] = []
        self.evidence: list[str] = []
        self.open: list[str] = []
        self.misnested: list[tuple[str, tuple[int, int]]] = []

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.misnested.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self._attributes(attrs)

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append(tag)
        self._attributes(attrs)

    def _attributes(self, attrs):
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(found["id"])
        href = found.get("href") or ""
        if href.startswith("#"):
            self.anchors.append(href[1:])
        if found.get("data-evidence"):
            self.evidence.append(found["data-evidence"])


def test_html_ids_are_unique_and_every_anchor_resolves(page_report):
    _, paths = page_report
    html = paths[".html"].read_text()
    parsed = _Ids()
    parsed.feed(html)
    duplicates = sorted({i for i in parsed.ids if parsed.ids.count(i) > 1})
    assert not duplicates
    assert not parsed.misnested and not parsed.open  # every element closed, in order
    ids = set(parsed.ids)
    assert parsed.anchors and not sorted(set(parsed.anchors) - ids)
    assert parsed.evidence and not sorted(set(parsed.evidence) - ids)
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_evidence_from_a_results_file_is_text_in_the_page(tmp_path, matrix):
    hostile = '<script>alert(1)</script><a href="#nowhere">x</a>'
    cell = CellId("3.11", "minimal", "context_rerun", "other_task", "asyncio")
    result = CellResult(cell.python, cell.target, cell.fix, cell.scenario, cell.loop, "checked",
                        properties={"no-leak": {"status": "fail", "evidence": [hostile]}})
    write_cell(tmp_path / "results", result, {"python": "3.11.0", "matrix_hash": HASH})
    report = build_report(merge(tmp_path / "results", matrix, HASH), matrix)
    html = render(report, "report.html.j2")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html and 'href="#nowhere"' not in html


# --- in a browser ----------------------------------------------------------------------------

RECT = "(el => JSON.stringify(el.getBoundingClientRect()))"


def _rect(page: Page, selector: str) -> dict[str, float]:
    return json.loads(page.evaluate(f"{RECT}(document.querySelector({json.dumps(selector)}))"))


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@needs_chromium
def test_the_first_screen_shows_the_fix_and_the_whole_table(page_report):
    report, paths = page_report
    answer = report["answers"][0]  # the streamed shape; the held shape's comes after
    with Page(CHROMIUM) as page:
        page.load(paths[".html"])
        assert page.evaluate("[window.innerWidth, window.innerHeight]") == [1400, 900]
        headline = _rect(page, ".headline")
        assert headline["top"] >= 0 and headline["bottom"] <= 900
        assert page.evaluate("document.querySelector('.headline').innerText") == (
            answer["headline"])
        table = _rect(page, "table.answer")
        assert table["top"] >= 0 and table["bottom"] <= 900 and table["right"] <= 1400, table
        assert page.evaluate("document.scrollingElement.scrollTop") == 0
        notes = _rect(page, ".varies-notes")  # where a marked cell differs: on screen too
        assert notes["bottom"] <= 900
        recommended = page.evaluate(
            "document.querySelector('table.answer thead th.recommended').innerText")
        assert answer["recommended"] in recommended
        shot = page.screenshot(ROOT / "reports" / "first-screen-synthetic.png")
    assert _png_size(shot) == (1400, 900)


@needs_chromium
def test_a_click_on_a_cell_opens_its_evidence_and_rerun_command(page_report):
    report, paths = page_report
    answer = report["answers"][0]  # the streamed shape; the held shape's comes after
    cell = next(c for f in answer["families"] for row in f["rows"] for c in row["cells"]
                if row["scenario"] == "early_break" and c["column"] == "fix-context_rerun")
    assert cell["outcome"] == "regresses"
    rerun = cell["main"]["problems"][0]["rerun"]
    with Page(CHROMIUM) as page:
        page.load(paths[".html"])
        assert page.evaluate("document.getElementById('evidence-panel').hidden") is True
        box = _rect(page, f"#{cell['id']} button")
        assert box["bottom"] <= 900  # on the first screen
        page.click(box["left"] + box["width"] / 2, box["top"] + box["height"] / 2)
        assert page.evaluate("document.getElementById('evidence-panel').hidden") is False
        evidence = f"ev-{cell['id']}"
        shown = page.evaluate(f"document.getElementById({json.dumps(evidence)}).innerText")
        assert rerun in shown and "REGRESSES no-error" in shown
        assert "no-error evidence for" in shown
        panel = _rect(page, "#evidence-panel")
        assert panel["left"] >= 0 and panel["right"] <= 1400 and panel["top"] >= 0
        hidden = page.evaluate("[...document.querySelectorAll('#evidence-panel .evidence')]"
                               ".filter(e => !e.hidden).length")
        assert hidden == 1  # only the clicked cell's evidence
        copy = page.evaluate(
            f"document.querySelector('#{evidence} button.copy').dataset.copy")
        assert copy == rerun
        page.screenshot(ROOT / "reports" / "first-screen-synthetic-evidence.png")
