"""The sweep across releases: the release list, the summary, the driver's pieces, the report."""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix
from ctxreset.records import CellResult, write_atomically, write_cell
from ctxreset.report.build import build_report, render
from ctxreset.report.merge import merge
from ctxreset.sweep.analysis import CellOutcome, ReleaseOutcome, runs, summarize
from ctxreset.sweep.driver import (
    SweepPlan,
    exclude_newer,
    install_command,
    one_line_reason,
    parse_selection,
    select,
    sweep_release,
)
from ctxreset.sweep.releases import Release, parse_releases, select_range
from ctxreset.sweep.results import RELEASE_FILE, SWEEP_FILE, release_dir
from ctxreset.sweep.section import build_sweep

SCHEMA = json.loads((Path(__file__).parents[2] / "ctxreset/report/report.schema.json").read_text())
PASS = CellOutcome("pass")


def fail(*properties: str) -> CellOutcome:
    return CellOutcome("fail", properties)


def ran(version: str, **cells: CellOutcome) -> ReleaseOutcome:
    return ReleaseOutcome(version, "ran", cells=cells)


# --- the summary --------------------------------------------------------------------------

HISTORY = [
    ran("0.1.0", a=PASS, b=fail("no-leak"), c=PASS),
    ran("0.2.0", a=fail("no-error"), b=fail("no-leak"), c=PASS),
    ReleaseOutcome("0.3.0", "not installable", "no solution"),
    ran("0.9.0", a=fail("no-error", "no-leak"), b=PASS, c=CellOutcome("error", reason="raised")),
    ran("0.10.0", a=PASS, b=PASS, c=CellOutcome("timeout")),
    ran("0.11.0", a=fail("no-error"), b=PASS),
]


def test_first_broken_first_healed_and_every_transition():
    shuffled = random.Random(7).sample(HISTORY, len(HISTORY))  # input order does not matter
    a, b, c = summarize(shuffled, ["a", "b", "c"])
    assert (a.first_broken, a.first_healed, a.broke_again) == ("0.2.0", "0.10.0", True)
    assert [(t.version, t.after, t.kind, t.problems) for t in a.transitions] == [
        ("0.2.0", "0.1.0", "broke", ("no-error",)),
        # 0.3.0 did not install: skipped, so the change is reported after 0.2.0
        ("0.9.0", "0.2.0", "changed", ("no-error", "no-leak")),
        ("0.10.0", "0.9.0", "healed", ()),  # 0.10.0 after 0.9.0: versions, not strings
        ("0.11.0", "0.10.0", "broke", ("no-error",)),
    ]
    assert a.newest == "0.11.0" and a.newest_fails == ("no-error",)
    assert not a.broken_from_the_start

    assert (b.first_broken, b.first_healed, b.broken_from_the_start) == ("0.1.0", "0.9.0", True)
    assert [t.kind for t in b.transitions] == ["healed"]
    assert b.newest_fails == ()

    # An error (the harness raised) is not judged; a timeout counts as broken.
    assert (c.first_broken, c.first_healed) == ("0.10.0", None)
    assert [(t.version, t.after, t.kind) for t in c.transitions] == [("0.10.0", "0.2.0", "broke")]
    assert c.newest_fails is None  # 0.11.0 has no result for c: not judged, never a pass


def test_a_scenario_never_broken_and_a_newest_release_that_did_not_install():
    history = [ran("1.0", a=PASS), ran("1.1", a=PASS),
               ReleaseOutcome("1.2", "not importable", "ImportError: x")]
    (a,) = summarize(history, ["a"])
    assert (a.first_judged, a.first_broken, a.first_healed, a.transitions) == ("1.0", None, None,
                                                                               [])
    assert (a.newest, a.newest_fails) == ("1.2", None)


def test_runs_merge_consecutive_identical_rows():
    grouped = runs(HISTORY, ["a", "b"], {"no-error": "error", "no-leak": "leak"})
    assert [(g["first"], g["last"], g["status"], g["cells"]) for g in grouped] == [
        ("0.1.0", "0.1.0", "ran", ["pass", "leak"]),
        ("0.2.0", "0.2.0", "ran", ["error", "leak"]),
        ("0.3.0", "0.3.0", "not installable", ["not run", "not run"]),
        ("0.9.0", "0.9.0", "ran", ["error leak", "pass"]),
        ("0.10.0", "0.10.0", "ran", ["pass", "pass"]),
        ("0.11.0", "0.11.0", "ran", ["error", "pass"]),
    ]
    same = runs([ran("1", a=PASS), ran("2", a=PASS), ran("3", a=fail("x"))], ["a"], {})
    assert [(g["versions"], g["cells"]) for g in same] == [(["1", "2"], ["pass"]), (["3"], ["x"])]


# --- the release list ---------------------------------------------------------------------

def _file(uploaded: str, yanked: bool = False) -> dict:
    return {"upload_time_iso_8601": uploaded, "yanked": yanked, "yanked_reason": None}


PYPI = {"releases": {
    "0.0.1": [_file("2025-03-04T18:16:20.75Z", yanked=True)],
    "0.0.10": [_file("2025-04-15T02:48:51.27Z"), _file("2025-04-15T02:49:10.5Z")],
    "0.0.9": [_file("2025-04-07T23:30:08Z")],
    "0.1.0b1": [_file("2025-05-01T00:00:00Z")],
    "0.0.7": [],
    "not-a-version": [_file("2025-05-01T00:00:00Z")],
    "0.1.0": [_file("2025-06-27T20:58:01.46Z")],
}}


def test_release_list_skips_yanked_prereleases_and_empty_ones_and_sorts_by_version():
    found = parse_releases(PYPI)
    assert [r.version for r in found.releases] == ["0.0.9", "0.0.10", "0.1.0"]
    assert dict(found.skipped) == {"0.0.1": "yanked", "0.0.7": "no files",
                                   "0.1.0b1": "pre-release",
                                   "not-a-version": "not a PEP 440 version"}
    # the last file's upload, rounded up: an installer cut off there still sees every file
    assert found.releases[1].uploaded == "2025-04-15T02:49:11Z"
    assert exclude_newer(found.releases[1]) == "2025-04-15T02:50:11Z"
    assert [r.version for r in select_range(found.releases, "0.0.10", None)] == ["0.0.10", "0.1.0"]


def test_selection_arguments_ranges_singles_and_newest():
    releases = parse_releases(PYPI)
    chosen = select(releases, parse_selection(["0.0.9..0.0.10", "newest"]))
    assert [r.version for r in chosen] == ["0.0.9", "0.0.10", "0.1.0"]
    assert [r.version for r in select(releases, parse_selection(["0.0.10"]))] == ["0.0.10"]
    assert [r.version for r in select(releases, parse_selection(["0.0.10.."]))] == [
        "0.0.10", "0.1.0"]
    assert [r.version for r in select(releases, parse_selection(["..0.0.9"]))] == ["0.0.9"]
    with pytest.raises(ValueError, match=r"bad release 'latest' in '0.0.9..latest'"):
        parse_selection(["0.0.9..latest"])


# --- the driver ---------------------------------------------------------------------------

def _plan(tmp_path: Path, **changes: Any) -> SweepPlan:
    fields: dict[str, Any] = dict(
        package="openai-agents", python="3.11", interpreter="/usr/bin/python3", loop="uvloop",
        loop_requirement="uvloop==0.23.0", timeout=5.0, scenarios=("same_task",),
        repo=Path(__file__).parents[2], venvs=tmp_path / "venvs",
        results=tmp_path / "results" / "sweep", fetched_at="2026-01-01T00:00:00Z")
    fields.update(changes)
    return SweepPlan(**fields)


def test_a_library_sweep_runs_its_own_scenarios_and_installs_what_its_adapter_needs(tmp_path):
    from ctxreset.matrix.plan import library_extras, library_scenarios

    matrix = load_matrix(DEFAULT_MATRIX_PATH)
    sentry = library_scenarios(matrix, "sentry-sdk")
    assert "held_aclose" in sentry and "other_task" not in sentry
    assert "held_usage_limit" not in sentry  # ruled out for every sentry target
    assert library_scenarios(matrix, "pydantic-ai-slim") == ("held_usage_limit", "held_aclosing")
    assert "other_task" in library_scenarios(matrix, "openai-agents")
    assert library_extras(matrix, "pydantic-ai-slim") == ("opentelemetry-sdk",)
    plan = _plan(tmp_path, package="pydantic-ai-slim", extras=("opentelemetry-sdk",))
    command = install_command(plan, Release("2.12.0", "2026-01-01T00:00:00Z"), Path("p"))
    assert "pydantic-ai-slim==2.12.0" in command and "opentelemetry-sdk" in command


def test_install_pins_dependencies_to_the_release_date_but_not_the_loop(tmp_path):
    release = Release("0.0.11", "2025-04-15T18:38:39Z")
    command = install_command(_plan(tmp_path), release, Path("venv/bin/python"))
    assert command[command.index("--exclude-newer") + 1] == "2025-04-15T18:39:39Z"
    assert command[command.index("--exclude-newer-package") + 1] == "uvloop=2026-01-01T00:00:00Z"
    assert "openai-agents==0.0.11" in command and "uvloop==0.23.0" in command
    plain = install_command(_plan(tmp_path, loop_requirement=None), release, Path("p"))
    assert "--exclude-newer-package" not in plain


def test_uv_failure_becomes_one_line():
    output = ("Using Python 3.9.18 environment at: venv\n"
              "  \u00d7 No solution found when resolving dependencies:\n"
              "  \u2570\u2500\u25b6 Because the current Python version (3.9.18) does not satisfy\n"
              "      Python>=3.10, we can conclude that openai-agents==0.24.0 cannot be used.\n")
    assert one_line_reason(output) == (
        "No solution found when resolving dependencies: Because the current Python version "
        "(3.9.18) does not satisfy Python>=3.10, we can conclude that openai-agents==0.24.0 "
        "cannot be used.")


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
def test_a_release_that_does_not_install_is_recorded_not_fatal(tmp_path):
    plan = _plan(tmp_path, interpreter=str(tmp_path / "no-such-python"))
    record = sweep_release(plan, Release("0.0.11", "2025-04-15T18:38:39Z"), lambda line: None)
    assert record["status"] == "not installable"
    assert record["reason"].startswith("uv venv failed:") and "no-such-python" in record["reason"]
    written = json.loads((release_dir(plan.results, "0.0.11", "3.11") / RELEASE_FILE).read_text())
    assert written["release"] == record


# --- the report ---------------------------------------------------------------------------

def _cell(root: Path, version: str, scenario: str, failing: tuple[str, ...]) -> None:
    properties = {"no-error": {"status": "pass", "evidence": []}}
    properties.update({p: {"status": "fail", "evidence": [p]} for p in failing})
    result = CellResult("3.11", f"agents-{version}", "none", scenario, "asyncio", "checked",
                        properties=properties)
    write_cell(root / version, result, {"python": "3.11.7", "matrix_hash": "h"})


def _release(root: Path, version: str, status: str = "ran", reason: str = "") -> None:
    record = {"version": version, "uploaded": "2025-04-15T18:38:39Z", "python": "3.11",
              "loop": "asyncio", "status": status, "reason": reason, "cells": 2,
              "packages": {"openai": "1.74.0"} if status == "ran" else {},
              "exclude_newer": "2025-04-15T18:39:39Z", "install_s": 1.5, "run_s": 2.0}
    write_atomically(release_dir(root, version, "3.11") / RELEASE_FILE, {"release": record})


def _synthetic_sweep(results: Path) -> None:
    root = results / "sweep"
    listed = ["0.0.3", "0.0.4", "0.0.5", "0.0.6", "0.1.0"]
    write_atomically(root / SWEEP_FILE, {
        "package": "openai-agents", "python": "3.11", "loop": "asyncio",
        "source": "https://pypi.org/pypi/openai-agents/json", "fetched_at": "2026-01-01T00:00:00Z",
        "resolution": "as of each upload", "started_at": "x", "finished_at": "y",
        "duration_s": 9.5, "releases": [{"version": v, "uploaded": "u"} for v in listed]})
    _release(root, "0.0.3")
    _cell(root, "0.0.3", "same_task", ())
    _cell(root, "0.0.3", "other_task", ("output-intact", "no-error"))
    _release(root, "0.0.4", "not importable", "ImportError: cannot import name 'X'")
    _release(root, "0.1.0")
    _cell(root, "0.1.0", "same_task", ())
    _cell(root, "0.1.0", "other_task", ())


def test_report_has_the_sweep_section_with_schema_and_both_templates(tmp_path):
    matrix = load_matrix(DEFAULT_MATRIX_PATH)
    _synthetic_sweep(tmp_path)
    sweep = build_sweep(tmp_path, list(matrix.scenarios))
    assert sweep is not None
    assert sweep["statement"] == (
        "The newest release swept, 0.1.0, passes every property in every scenario.")
    other = next(h for h in sweep["histories"] if h["scenario"] == "other_task")
    assert (other["first_broken"], other["first_healed"]) == ("0.0.3", "0.1.0")
    assert other["broken_from_the_start"] and other["newest_fails"] == []
    assert sweep["scenarios"] == ["same_task", "other_task"]  # matrix order, only those run
    assert sweep["not_swept"] == [{"first": "0.0.5", "last": "0.0.6", "count": 2}]
    assert [(r["version"], r["reason"]) for r in sweep["not_measured"]] == [
        ("0.0.4", "ImportError: cannot import name 'X'")]
    assert sweep["runs"][0]["cells"] == ["pass", "error output"]  # the checker's order

    report = build_report(merge(tmp_path, matrix, "h"), matrix, sweep=sweep)
    Draft202012Validator(SCHEMA).validate(report)
    markdown = render(report, "report.md.j2")
    assert "| other_task | 0.0.3 (the first swept) | 0.1.0 | — | pass |" in markdown
    assert "Not swept (no record): 0.0.5 to 0.0.6 (2)." in markdown
    assert "0.0.4 (not importable: ImportError: cannot import name 'X')" in markdown
    assert "the last sweep took 9.5 s; over the 3 releases recorded, 4.5 s installing" in markdown
    html = render(report, "report.html.j2")
    assert 'id="sweep-releases"' in html and "cannot import name &#39;X&#39;" in html
    assert 'aria-label="sweep timeline"' in html  # the timeline picture, inline SVG


def test_an_unfinished_sweep_says_so(tmp_path):
    matrix = load_matrix(DEFAULT_MATRIX_PATH)
    _synthetic_sweep(tmp_path)
    meta = json.loads((tmp_path / "sweep" / SWEEP_FILE).read_text())
    write_atomically(tmp_path / "sweep" / SWEEP_FILE, {**meta, "duration_s": None})
    report = build_report(merge(tmp_path, matrix, "h"), matrix,
                          sweep=build_sweep(tmp_path, list(matrix.scenarios)))
    assert "the last sweep did not finish (interrupted, or still running)" in render(
        report, "report.md.j2")


def test_without_a_sweep_the_section_says_how_to_run_it(tmp_path):
    matrix = load_matrix(DEFAULT_MATRIX_PATH)
    assert build_sweep(tmp_path, list(matrix.scenarios)) is None
    report = build_report(merge(tmp_path, matrix, "h"), matrix, sweep=None)
    Draft202012Validator(SCHEMA).validate(report)
    for template in ("report.md.j2", "report.html.j2"):
        text = render(report, template)
        assert "Sweep across releases" in text and "nox -s sweep" in text


# --- the runner (in a release's venv) ------------------------------------------------------

def test_a_release_that_does_not_import_is_recorded(monkeypatch):
    from ctxreset.sweep.cli import load_release

    monkeypatch.setitem(sys.modules, "agents", None)  # `import agents` raises ImportError
    library, status, reason = load_release("openai-agents")
    assert (library, status) == (None, "not importable")
    assert reason.startswith(("ImportError:", "ModuleNotFoundError:")) and "\n" not in reason


def test_runner_writes_a_file_per_cell_and_runner_json(tmp_path):
    pytest.importorskip("agents")
    from ctxreset.sweep.cli import main as run

    assert run(["--out", str(tmp_path), "--scenario", "same_task", "--scenario", "other_task",
                "--loop", "asyncio"]) == 0
    (directory,) = tmp_path.glob("py*")
    runner = json.loads((directory / "runner.json").read_text())
    assert runner["status"] == "ran" and runner["cells"] == 2
    version = runner["packages"]["openai-agents"]
    cells = sorted(directory.glob(f"agents-{version}/none/*.json"))
    assert [p.name for p in cells] == ["other_task-asyncio.json", "same_task-asyncio.json"]
    same = json.loads(cells[1].read_text())
    assert same["cell"]["status"] == "checked" and same["packages"]["openai-agents"] == version


def test_runner_sweeps_another_library(tmp_path):
    pytest.importorskip("sentry_sdk")
    from ctxreset.sweep.cli import main as run

    assert run(["--out", str(tmp_path), "--package", "sentry-sdk", "--scenario", "held_aclose",
                "--loop", "asyncio"]) == 0
    (directory,) = tmp_path.glob("py*")
    runner = json.loads((directory / "runner.json").read_text())
    assert runner["status"] == "ran" and runner["cells"] == 1
    version = runner["packages"]["sentry-sdk"]
    (cell,) = directory.glob(f"sentry-sdk-{version}/none/held_aclose-asyncio.json")
    # both the affected and the fixed release leave the scope current where it was entered
    assert json.loads(cell.read_text())["cell"]["properties"]["no-leak"]["status"] == "fail"
    assert run(["--out", str(tmp_path), "--package", "nope"]) == 2
