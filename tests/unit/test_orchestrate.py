"""The matrix session's orchestration and bookkeeping (ctxreset.orchestrate), called directly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ctxreset import orchestrate
from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix
from ctxreset.matrix.plan import planned_cells
from ctxreset.records import INTERRUPTED, cell_files, cell_path, not_run, read_cell, write_cell

MATRIX = load_matrix(DEFAULT_MATRIX_PATH)


def test_sessions_start_longest_first_by_their_last_durations():
    durations = {"unit": 40.0, "a": 30.0, "b": 20.0, "c": 10.0, "gone": 99.0}
    assert orchestrate.longest_first(["a", "b", "c", "unit"], durations) == ["unit", "a", "b",
                                                                             "c"]
    # a session never timed weighs the mean of the known ones (here 20 s); ties keep order
    assert orchestrate.longest_first(["c", "new", "b", "a"], {"a": 30.0, "c": 10.0}) == [
        "a", "new", "b", "c"]
    assert orchestrate.longest_first(["x", "y"], {}) == ["x", "y"]


def test_durations_are_remembered_from_nox_reports(tmp_path):
    store = tmp_path / "durations.json"
    report = tmp_path / "matrix-1.json"
    report.write_text(json.dumps({"result": 1, "sessions": [
        {"name": "unit", "signatures": ["unit", "unit-3.9"], "result": "success",
         "duration": 12.3456},
        {"name": "tests", "signatures": ["tests-3.9(target='x')", "tests-3.9"],
         "result": "failed", "duration": 4},
        {"name": "tests", "signatures": ["tests-3.14(target='x')"], "result": "skipped",
         "duration": 0.01},
    ]}))
    store.write_text(json.dumps({"tests-3.14(target='x')": 7.0, "unit": 1.0}))
    assert orchestrate.remember_durations([report, tmp_path / "missing.json"], store) == {
        "unit": 12.346, "tests-3.9(target='x')": 4.0, "tests-3.14(target='x')": 7.0}
    assert orchestrate.read_durations(store)["unit"] == 12.346


@pytest.mark.parametrize("text", ["", "[1, 2]", '{"a": "slow"}', '{"a": -1}', '{"a": NaN}',
                                  '{"a": true}'])
def test_unreadable_durations_are_ignored(tmp_path, text):
    store = tmp_path / "durations.json"
    store.write_text(text)
    assert orchestrate.read_durations(store) == {}
    assert orchestrate.read_durations(tmp_path / "none.json") == {}


def test_processes_run_side_by_side_and_report_failures(tmp_path):
    """Each process logs to a file of its own; nox's summary lines are echoed; a process that
    exits non-zero is a failed log."""
    fake_nox = "import sys; print('nox > * ' + sys.argv[2]); sys.exit(int(sys.argv[4]))"
    commands = [[sys.executable, "-c", fake_nox, "-s", "a: success", "--", "0"],
                [sys.executable, "-c", fake_nox, "-s", "b: failed", "--", "3"]]
    said: list[str] = []
    failed, interrupted = orchestrate.run_processes(commands, tmp_path / "logs", said.append)
    logs = [tmp_path / "logs" / f"matrix-{n}.log" for n in (1, 2)]
    assert failed == [str(logs[1])] and not interrupted
    assert said == [f"nox process 1: 1 sessions, log {logs[0]}",
                    f"nox process 2: 1 sessions, log {logs[1]}",
                    "* a: success", "* b: failed"]
    assert logs[0].read_text() == "nox > * a: success\n"


def test_at_most_so_many_run_at_once_and_the_next_starts_when_one_ends(tmp_path):
    """Three commands, two at a time: the third starts only once one of the first two ended
    (each records when it started and ended; no time is asserted, only the order)."""
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    script = ("import sys, time, pathlib; d = pathlib.Path(sys.argv[2]); "
              "(d / (sys.argv[1] + '.start')).write_text(str(time.monotonic())); "
              "time.sleep(float(sys.argv[3])); "
              "(d / (sys.argv[1] + '.end')).write_text(str(time.monotonic())); "
              "print('nox > * ' + sys.argv[1])")
    commands = [[sys.executable, "-c", script, name, str(stamps), pause, "-s", name, "--"]
                for name, pause in (("a", "0.5"), ("b", "0.1"), ("c", "0"))]
    said: list[str] = []
    failed, interrupted = orchestrate.run_processes(commands, tmp_path / "logs", said.append,
                                                    at_once=2)
    assert failed == [] and not interrupted

    def at(name: str, event: str) -> float:
        return float((stamps / f"{name}.{event}").read_text())

    assert at("c", "start") >= at("b", "end")  # c waited for a free slot
    assert at("b", "start") < at("a", "end")  # a and b ran side by side
    assert said[-3:] == ["* a", "* b", "* c"]  # summaries in command order


def test_previous_cells_are_set_aside_and_others_stay(tmp_path):
    results, previous = tmp_path / "results", tmp_path / "previous"
    (results / "py3.11").mkdir(parents=True)
    (results / "sessions").mkdir()
    (results / "bench").mkdir()
    assert orchestrate.set_aside_previous_cells(results, previous)
    assert sorted(p.name for p in previous.iterdir()) == ["py3.11", "sessions"]
    assert [p.name for p in results.iterdir()] == ["bench"]  # benchmark and sweep results stay
    assert not orchestrate.set_aside_previous_cells(results, previous)


def test_not_run_and_interrupted_records_are_whole_cell_files(tmp_path):
    orchestrate.record_not_run(tmp_path, MATRIX, "3.14", ["minimal"], "interpreter missing")
    files = cell_files(tmp_path)
    assert len(files) == len(planned_cells(MATRIX, "3.14", ["minimal"]))
    assert {read_cell(path).result.reason for path in files} == {"interpreter missing"}

    ran = planned_cells(MATRIX, "3.11", ["minimal"])[0]
    write_cell(tmp_path, not_run(ran, "kept"), {"matrix_hash": "h"})
    orchestrate.record_interrupted(tmp_path, MATRIX, ["3.11"])
    assert read_cell(cell_path(tmp_path, ran)).result.reason == "kept"  # a finished cell stays
    other = planned_cells(MATRIX, "3.11", ["agents-0.0.11"])[0]
    assert read_cell(cell_path(tmp_path, other)).result.reason == INTERRUPTED


def test_tool_pins_come_from_the_one_file(tmp_path):
    tools = tmp_path / "tools.txt"
    tools.write_text("# comment\nruff==1.2.3  # why\nmypy==4.5\n")
    assert orchestrate.tool("ruff", tools) == "ruff==1.2.3"
    with pytest.raises(LookupError, match="no pin for nox"):
        orchestrate.tool("nox", tools)
    assert orchestrate.tool("uv").startswith("uv==")  # the project's own .ci/tools.txt


def test_install_stamp_tells_a_reused_venv_from_a_changed_one(tmp_path: Path):
    stamp, digest, current = orchestrate.install_stamp(tmp_path, "inputs")
    assert not current
    stamp.write_text(digest)
    assert orchestrate.install_stamp(tmp_path, "inputs")[2]
    assert not orchestrate.install_stamp(tmp_path, "other inputs")[2]
