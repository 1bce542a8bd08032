"""Results files the harness cannot vouch for: listed with one reason, never a pass, never a
traceback or a hang; and what reaches report.md from them cannot break out of its place."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix
from ctxreset.orchestrate import targets_without_results
from ctxreset.records import CellId, not_run, write_atomically, write_cell
from ctxreset.report.build import build_report, render, write_report
from ctxreset.report.merge import Merged, merge
from tests.unit.test_report import HASH, _write

MATRIX = load_matrix(DEFAULT_MATRIX_PATH)
CELL = CellId("3.11", "minimal", "streaming_trace", "other_task", "asyncio")


def _rewrite(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _merged(root: Path) -> Merged:
    return merge(root, MATRIX, HASH)


def _only_invalid(root: Path, path: Path) -> str:
    """The one reason ``path`` is listed for; its cell is "not run" with it."""
    merged = _merged(root)
    assert merged.unreadable == [str(path)]
    reason = merged.problems[str(path)]
    assert "\n" not in reason
    record = merged.records[CELL]
    assert (record.outcome, record.reason) == ("not run", f"invalid result file {path}: {reason}")
    report = build_report(merged, MATRIX)
    assert report["verdict"]["recommended"] is None  # the only file: nothing passes
    assert report["counts"]["pass"] == 0
    assert report["unreadable_reasons"] == {str(path): reason}
    return reason


def test_an_unknown_status_is_invalid_never_a_pass(tmp_path):
    path = _write(tmp_path, CELL)
    _rewrite(path, lambda d: d["cell"].update(status="passed"))
    assert "cell.status: unknown 'passed'" in _only_invalid(tmp_path, path)


def test_a_file_naming_another_cell_than_its_path_is_invalid(tmp_path):
    path = _write(tmp_path, CELL)
    _rewrite(path, lambda d: d["cell"].update(scenario="same_task"))
    assert "name another cell" in _only_invalid(tmp_path, path)


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["cell"].update(python=None), "cell.python: None, not a string"),
    (lambda d: d.pop("matrix_hash"), "no matrix_hash"),
    (lambda d: d.update(cell={}), "cell.python"),
    (lambda d: d["cell"].update(properties="no-error"), "cell.properties: not an object"),
    (lambda d: d["cell"].update(properties=[]), "cell.properties: not an object"),
    (lambda d: d["cell"].update(properties={}), "empty in a checked cell"),
    (lambda d: d["cell"].update(errors=["boom"]), "cell.errors"),
    (lambda d: d["cell"]["properties"].update(telepathy={"status": "pass", "evidence": []}),
     "unknown property 'telepathy'"),
    (lambda d: d["cell"]["properties"]["no-error"].update(status="ok"), "no-error"),
    (lambda d: d.update(packages=["pytest"]), "packages"),
])
def test_a_wrong_shaped_cell_file_is_invalid(tmp_path, change, expected):
    path = _write(tmp_path, CELL)
    _rewrite(path, change)
    assert expected in _only_invalid(tmp_path, path)


def test_a_record_without_a_matrix_hash_is_unreadable_not_stale(tmp_path):
    path = _write(tmp_path, CELL)
    _rewrite(path, lambda d: d.pop("matrix_hash"))
    merged = _merged(tmp_path)
    assert (merged.stale, merged.unreadable) == ([], [str(path)])


def test_a_file_for_an_unknown_target_is_listed(tmp_path):
    cell = CellId("3.11", "no-such-target", "none", "same_task", "asyncio")
    path = _write(tmp_path, cell)
    merged = _merged(tmp_path)
    assert merged.unreadable == [str(path)]
    assert "names no cell of matrix.yaml" in merged.problems[str(path)]


@pytest.mark.parametrize("text", ['{"schema_version": 1, "session": {"python": "3.1',
                                  '[]', '{"session": "x", "matrix_hash": "current-matrix"}',
                                  json.dumps({"schema_version": 1, "matrix_hash": HASH,
                                              "session": {"python": "3.11", "targets": "minimal",
                                                          "exitstatus": 2, "duration_s": 1}})])
def test_a_bad_session_record_is_listed_not_a_traceback(tmp_path, text):
    path = tmp_path / "sessions" / "py3.11-minimal.json"
    path.parent.mkdir()
    path.write_text(text)
    merged = _merged(tmp_path)
    assert merged.unreadable == [str(path)] and merged.sessions == []
    render(build_report(merged, MATRIX), "report.md.j2")


def _returns_within(seconds: float, function: Callable[[], Any]) -> Any:
    """Run ``function`` in a daemon thread; fail (rather than hang) if it blocks."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(function()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"blocked for more than {seconds} s"
    return box[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_named_json_is_listed_and_never_opened_blocking(tmp_path):
    fifo = tmp_path / "py3.11" / "minimal" / "streaming_trace" / "other_task-asyncio.json"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    merged = _returns_within(5, lambda: _merged(tmp_path))
    assert merged.unreadable == [str(fifo)]
    assert "not a regular file" in merged.problems[str(fifo)]
    assert _returns_within(5, lambda: targets_without_results(tmp_path, MATRIX, "3.11", HASH))
    (tmp_path / "sessions").mkdir()
    os.mkfifo(tmp_path / "sessions" / "py3.11-minimal.json")
    assert len(_returns_within(5, lambda: _merged(tmp_path)).unreadable) == 2


# --- report.md ------------------------------------------------------------------------------

HOSTILE = "ValueError: boom\n# heading\n<script>alert(1)</script> `tick` ``two``\r\n- item"


def _hostile_report(tmp_path: Path) -> str:
    path = _write(tmp_path, CELL, ("no-leak",))
    _rewrite(path, lambda d: d["cell"]["properties"]["no-leak"].update(evidence=[HOSTILE]))
    other = CellId("3.11", "minimal", "streaming_trace", "same_task", "asyncio")
    write_cell(tmp_path, not_run(other, HOSTILE), {"python": None, "matrix_hash": HASH})
    report = build_report(_merged(tmp_path), MATRIX)
    return render(report, "report.md.j2")


def test_evidence_and_reasons_cannot_break_out_of_report_md(tmp_path):
    markdown = _hostile_report(tmp_path)
    lines = markdown.splitlines()
    assert not any(line.startswith(("# heading", "<", "- item")) for line in lines)
    # The evidence: one code span, fenced by more backticks than any run inside it (HTML in a
    # code span is shown, not interpreted)...
    assert ("  - ```ValueError: boom ⏎ # heading ⏎ <script>alert(1)</script> `tick` ``two`` "
            "⏎ - item```") in lines
    # ...and the reason as text, where no tag survives.
    assert ("- 1 cell(s): ValueError: boom ⏎ # heading ⏎ &lt;script>alert(1)&lt;/script> "
            "`tick` ``two`` ⏎ - item") in lines
    outside_code = re.sub(r"(`+).*?\1", "", markdown)
    assert "<script>" not in outside_code


def test_results_and_reports_honor_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        cell_file = write_cell(tmp_path / "results", not_run(CELL, "x"), {"matrix_hash": HASH})
        reports = write_report(build_report(_merged(tmp_path / "results"), MATRIX),
                               tmp_path / "reports")
        os.umask(0o077)
        private = tmp_path / "private.json"
        write_atomically(private, {})
    finally:
        os.umask(old)
    for path in (cell_file, *reports):
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert private.stat().st_mode & 0o777 == 0o600
