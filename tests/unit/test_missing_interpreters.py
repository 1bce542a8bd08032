"""The report records a missing interpreter only where no session left results.

CI's report job runs on a machine without the test jobs' interpreters; the results it
downloads from them must survive `nox -s report` (noxfile.py uses targets_without_results).
"""

from __future__ import annotations

from pathlib import Path

from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix, matrix_hash
from ctxreset.matrix.plan import planned_cells
from ctxreset.orchestrate import targets_without_results
from ctxreset.records import CellId, CellResult, not_run, provenance, write_cell, write_session
from ctxreset.report.merge import merge

MATRIX = load_matrix(DEFAULT_MATRIX_PATH)
HASH = matrix_hash()  # what write_session records
CELL = CellId("3.14", "minimal", "none", "other_task", "asyncio")


def _checked(root: Path, cell: CellId, matrix_hash: str = HASH) -> None:
    result = CellResult(cell.python, cell.target, cell.fix, cell.scenario, cell.loop, "checked",
                        properties={"no-error": {"status": "pass", "evidence": []}})
    write_cell(root, result, {"python": "3.14.0", "matrix_hash": matrix_hash})


def _missing(root: Path, python: str = "3.14") -> list[str]:
    return targets_without_results(root, MATRIX, python, HASH)


def test_a_target_with_a_result_is_left_alone(tmp_path):
    _checked(tmp_path, CELL)
    assert _missing(tmp_path) == [t for t in MATRIX.targets if t != "minimal"]


def test_a_session_record_counts_as_a_result(tmp_path):
    write_session(tmp_path, "3.14", ["agents-0.0.11"], {"exitstatus": 2, "duration_s": 0.1},
                  provenance(matrix_hash()))  # crashed, no cells
    assert "agents-0.0.11" not in _missing(tmp_path)
    assert "minimal" in _missing(tmp_path)


def test_stale_not_run_and_temporary_files_do_not_count(tmp_path):
    _checked(tmp_path, CELL, matrix_hash="another-matrix")
    write_cell(tmp_path, not_run(CellId("3.14", "agents-0.0.12", "upstream", "same_task",
                                        "asyncio"), "interpreter missing"),
               {"python": None, "matrix_hash": HASH})
    real = tmp_path / "real"
    _checked(real, CellId("3.14", "agents-newest", "upstream", "same_task", "asyncio"))
    (path,) = real.glob("py3.14/**/*.json")
    temporary = tmp_path / path.relative_to(real).with_name(f".{path.name}.tmp.json")
    temporary.parent.mkdir(parents=True)
    temporary.write_text(path.read_text())
    assert _missing(tmp_path) == list(MATRIX.targets)


def test_a_target_matrix_yaml_rules_out_keeps_that_reason(tmp_path):
    assert MATRIX.target_not_run("agents-newest", "3.9")
    assert "agents-newest" not in _missing(tmp_path, "3.9")
    assert "minimal" in _missing(tmp_path, "3.9")


def test_recording_the_missing_interpreter_keeps_downloaded_results(tmp_path):
    """What `nox -s report` does on a runner without python3.14, after the download."""
    _checked(tmp_path, CELL)
    for target in _missing(tmp_path):
        for cell in planned_cells(MATRIX, "3.14", [target]):
            write_cell(tmp_path, not_run(cell, "interpreter missing"),
                       {"python": None, "matrix_hash": HASH})
    records = merge(tmp_path, MATRIX, HASH).records
    assert records[CELL].status == "checked"
    other = CellId("3.14", "agents-0.0.11", "none", "other_task", "asyncio")
    assert (records[other].status, records[other].reason) == ("not run", "interpreter missing")
