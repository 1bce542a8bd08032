"""The harness under faults: a cell that hangs, one that kills its interpreter, and Ctrl-C.

Each test runs the real cell test (tests/cells/test_cells.py) in a pytest subprocess, on a small
matrix.yaml of its own whose fixes include deliberately broken ones (fixes/faults.py, enabled
by CTXRESET_FAULTS=1), and then reads the results files and the merged view the report uses.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctxreset.matrix.loader import load_matrix, matrix_hash, short_python
from ctxreset.matrix.plan import CELL_TEST
from ctxreset.records import DIED, INTERRUPTED
from ctxreset.report.merge import merge

ROOT = Path(__file__).resolve().parents[2]
PYTHON = short_python(platform.python_version())


def write_matrix(tmp_path: Path, fixes: list[str]) -> Path:
    matrix = {
        "targets": {"minimal": {"requirement": None}},
        "pythons": [PYTHON],
        "loops": {"asyncio": {}},
        "scenarios": ["same_task"],
        "fixes": {fix: {"applies_to": ["minimal"]} for fix in fixes},
        "expectations": [],
    }
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(matrix, sort_keys=False))
    return path


@pytest.fixture(autouse=True)
def faults_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process reads the test's matrix.yaml too, so it must know the faulty fixes."""
    monkeypatch.setenv("CTXRESET_FAULTS", "1")


def pytest_command(results: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--target", "minimal",
        "--results-dir", str(results), *extra,
        CELL_TEST,
    ]


def fault_env(matrix: Path) -> dict[str, str]:
    return {**os.environ, "CTXRESET_MATRIX": str(matrix), "CTXRESET_FAULTS": "1"}


def cell_file(results: Path, fix: str) -> Path:
    return results / f"py{PYTHON}" / "minimal" / fix / "same_task-asyncio.json"


def read_cell(results: Path, fix: str) -> dict[str, Any]:
    return json.loads(cell_file(results, fix).read_text())["cell"]


def test_a_hanging_cell_is_recorded_timeout_and_the_run_goes_on(tmp_path):
    matrix = write_matrix(tmp_path, ["block_loop", "ignore_cancel", "none"])
    results = tmp_path / "results"
    run = subprocess.run(
        pytest_command(results, "-n", "0", "--cell-timeout", "1"),
        cwd=ROOT, env=fault_env(matrix), capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # two cells failed; none crashed
    blocked = read_cell(results, "block_loop")
    assert blocked["status"] == "timeout"
    assert "event loop was blocked past the hard deadline of 2 s" in blocked["reason"]
    ignored = read_cell(results, "ignore_cancel")
    assert ignored["status"] == "timeout"
    assert "did not finish within 1 s" in ignored["reason"]
    assert any("ignored cancellation" in e["summary"] for e in ignored["errors"])
    assert read_cell(results, "none")["status"] == "checked"  # the cell after them ran


def test_a_crashing_cell_is_recorded_error_and_loses_no_other_result(tmp_path):
    matrix = write_matrix(tmp_path, ["none", "crash_interpreter", "context_rerun"])
    results = tmp_path / "results"
    run = subprocess.run(
        pytest_command(results, "-n", "1"),  # the matrix runs cells under xdist, like this
        cwd=ROOT, env=fault_env(matrix), capture_output=True, text=True, timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "crashed" in output  # xdist saw the worker die...
    crashed = read_cell(results, "crash_interpreter")
    assert (crashed["status"], crashed["reason"]) == ("error", DIED)
    assert read_cell(results, "none")["status"] == "checked"  # ...the cell before it is kept
    assert read_cell(results, "context_rerun")["status"] == "checked"  # ...and the run went on
    merged = merge(results, load_matrix(matrix), matrix_hash(matrix))
    outcomes = {cell.fix: record.outcome for cell, record in merged.records.items()}
    assert outcomes == {"none": "pass", "crash_interpreter": "error", "context_rerun": "pass"}


def _default_sigint() -> None:
    """In the child, before exec: Ctrl-C interrupts it even when this run was started with
    SIGINT ignored (`nox &` from a script, cron, some CI launchers), which children inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_keeps_finished_cells_and_marks_the_rest_interrupted(tmp_path):
    matrix = write_matrix(tmp_path, ["none", "block_loop", "context_rerun"])
    results = tmp_path / "results"
    process = subprocess.Popen(
        pytest_command(results, "-n", "0", "--cell-timeout", "60"),
        cwd=ROOT, env=fault_env(matrix), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 60
        while not cell_file(results, "block_loop").exists():  # written as the cell starts
            assert process.poll() is None and time.monotonic() < deadline, "never got there"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends the foreground process
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 2, output  # pytest's "interrupted"
    assert read_cell(results, "none")["status"] == "checked"
    merged = merge(results, load_matrix(matrix), matrix_hash(matrix))
    records = {cell.fix: record for cell, record in merged.records.items()}
    assert records["none"].outcome == "pass"
    for fix in ("block_loop", "context_rerun"):  # the one running, and the one never reached
        assert (records[fix].status, records[fix].reason) == ("not run", INTERRUPTED)


def test_a_hard_kill_still_marks_the_unreached_cells_interrupted(tmp_path):
    """nox escalates Ctrl-C to SIGKILL when pytest is slow to stop: the session record written
    ahead (exit status 2) still says the unreached cells were interrupted."""
    matrix = write_matrix(tmp_path, ["none", "block_loop", "context_rerun"])
    results = tmp_path / "results"
    process = subprocess.Popen(
        pytest_command(results, "-n", "0", "--cell-timeout", "60"),
        cwd=ROOT, env=fault_env(matrix), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not cell_file(results, "block_loop").exists():
            assert process.poll() is None and time.monotonic() < deadline, "never got there"
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait(timeout=60)
    records = {cell.fix: record for cell, record in
               merge(results, load_matrix(matrix), matrix_hash(matrix)).records.items()}
    assert records["none"].outcome == "pass"
    assert (records["block_loop"].status, records["block_loop"].reason) == ("error", DIED)
    assert (records["context_rerun"].status, records["context_rerun"].reason) == (
        "not run", INTERRUPTED)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_the_ctrl_c_test_does_not_hang_when_started_with_sigint_ignored(tmp_path):
    """`nox &` from a script starts everything with SIGINT ignored; the Ctrl-C test must still
    interrupt its pytest (it restores the default handler in the child)."""
    node = ("tests/unit/test_faults.py::"
            "test_ctrl_c_keeps_finished_cells_and_marks_the_rest_interrupted")
    script = ("import signal, subprocess, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
              "sys.exit(subprocess.run(sys.argv[1:]).returncode)")
    run = subprocess.run(
        [sys.executable, "-c", script, sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
         "-q", "--results-dir", "", "-o", "timeout=120", node],
        cwd=ROOT, env={k: v for k, v in os.environ.items() if k != "CTXRESET_TARGETS"},
        capture_output=True, text=True, timeout=180,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 passed" in run.stdout
