"""The flake check compares runs cell by cell: any change of status or failing set is a flip."""

from __future__ import annotations

from pathlib import Path

from ctxreset.records import CellId, CellResult, write_cell
from ctxreset.report.flakes import compare, main, outcomes


def _write(root: Path, fix: str, status: str, failing: tuple[str, ...] = ()) -> None:
    result = CellResult("3.11", "minimal", fix, "other_task", "asyncio", status)
    result.properties = {
        name: {"status": "fail" if name in failing else "pass", "evidence": []}
        for name in ("no-error", "no-leak")
    }
    write_cell(root, result, {"matrix_hash": "x"})


def test_identical_runs_have_no_flips(tmp_path):
    for run in ("a", "b"):
        _write(tmp_path / run, "none", "checked", ("no-error",))
        _write(tmp_path / run, "context_rerun", "checked")
    summary = compare([outcomes(tmp_path / "a"), outcomes(tmp_path / "b")])
    assert (summary.runs, summary.cells, summary.flips) == (2, 2, {})
    assert main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0


def test_a_changed_failing_set_a_timeout_and_a_missing_cell_are_flips(tmp_path, capsys):
    _write(tmp_path / "a", "none", "checked", ("no-error",))
    _write(tmp_path / "b", "none", "checked", ("no-error", "no-leak"))
    _write(tmp_path / "a", "safe_reset", "checked")
    _write(tmp_path / "b", "safe_reset", "timeout")
    _write(tmp_path / "a", "context_rerun", "checked")  # never written in run b
    summary = compare([outcomes(tmp_path / "a"), outcomes(tmp_path / "b")])
    flipped = {cell.fix: dict(seen) for cell, seen in summary.flips.items()}
    assert flipped == {
        "none": {"fail: no-error": 1, "fail: no-error, no-leak": 1},
        "safe_reset": {"pass": 1, "timeout": 1},
        "context_rerun": {"pass": 1, "missing": 1},
    }
    assert main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert "2 runs x 3 cells: 3 flipped" in capsys.readouterr().out


def test_outcome_keys_are_cells():
    cell = CellId("3.11", "minimal", "none", "other_task", "asyncio")
    assert str(cell) == "py3.11/minimal/none/other_task[asyncio]"
