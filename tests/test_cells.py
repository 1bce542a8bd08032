"""Every planned cell on this interpreter, judged against matrix.yaml.

The failing properties must equal the expected ones exactly: a repro that stops failing, a fix
that starts failing, or a fix that silently gets better all fail here until matrix.yaml says so.
A cell matrix.yaml rules out on this Python (or an optional loop that is not installed) is
recorded as "not run" with its reason and skipped.

Each cell's file is written before it runs (status "error": the process died mid-cell) and
replaced by its result; Ctrl-C during a cell records it "not run (interrupted)".
"""

from __future__ import annotations

import platform
import re

import pytest

from harness.cell import INTERRUPTED, not_run, run_cell, started
from harness.matrix import load_matrix
from harness.plan import CellId, planned_cells, ruled_out
from tests.conftest import CELL_TIMEOUT_KEY, TARGETS_KEY, library_for


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" in metafunc.fixturenames:
        targets = metafunc.config.stash[TARGETS_KEY]
        cells = planned_cells(load_matrix(), platform.python_version(), targets)
        ids = [f"{c.target}-{c.fix}-{c.scenario}[{c.loop}]" for c in cells]
        metafunc.parametrize("cell", cells, ids=ids)


def test_cell_matches_expectation(cell: CellId, matrix, results_sink, request):
    reason = ruled_out(matrix, cell)
    if reason:
        results_sink(not_run(cell, reason))
        pytest.skip(reason)
    library = library_for(matrix, cell.target)
    results_sink(started(cell))
    try:
        result = run_cell(
            library, cell.scenario, cell.fix, cell.loop, target=cell.target,
            timeout=request.config.stash[CELL_TIMEOUT_KEY],
        )
    except KeyboardInterrupt:
        results_sink(not_run(cell, INTERRUPTED))
        raise
    results_sink(result)
    if result.status == "not run" and matrix.loops[cell.loop].optional:
        pytest.skip(f"optional loop {cell.loop}: {result.reason}")
    expected = matrix.expectation(cell.target, cell.fix, cell.scenario, cell.loop, cell.python)

    assert result.status == "checked", result.reason
    evidence = {n: p["evidence"] for n, p in result.properties.items() if p["status"] == "fail"}
    assert set(result.failing) == expected.fails, evidence
    if expected.reproduces:
        lines = result.properties["no-error"]["evidence"]
        assert any(re.search(expected.reproduces, line) for line in lines), lines


def test_affected_targets_have_teeth(matrix):
    """The data itself keeps the repro honest: scenarios 2 and 3 must reproduce, 1 must not."""
    for target in ("minimal", "agents-0.0.11"):
        for loop in matrix.loops:
            for scenario in ("other_task", "streaming_response"):
                expected = matrix.expectation(target, "none", scenario, loop, "3.11")
                assert "no-error" in expected.fails
                assert expected.reproduces and "different Context" in expected.reproduces
            control = matrix.expectation(target, "none", "same_task", loop, "3.11")
            assert control.fails == frozenset()
