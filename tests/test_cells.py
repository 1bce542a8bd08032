"""Every scenario x applicable fix x loop on this interpreter, judged against matrix.yaml.

The failing properties must equal the expected ones exactly: a repro that stops failing, a fix
that starts failing, or a fix that silently gets better all fail here until matrix.yaml says so.
"""

from __future__ import annotations

import platform
import re

import pytest

from harness.cell import run_cell
from harness.matrix import load_matrix
from tests.conftest import applicable_fixes, get_library


def _cells() -> list:
    matrix = load_matrix()
    params = []
    for name, target, fix in applicable_fixes():
        for scenario in matrix.scenarios:
            for loop in matrix.loops:
                params.append(
                    pytest.param(name, target, fix, scenario, loop,
                                 id=f"{target}-{fix}-{scenario}[{loop}]")
                )
    return params


@pytest.mark.parametrize(("library_name", "target", "fix", "scenario", "loop"), _cells())
def test_cell_matches_expectation(library_name, target, fix, scenario, loop, matrix, results_sink):
    if loop == "uvloop":
        pytest.importorskip("uvloop", reason="uvloop is not installed")
    result = run_cell(get_library(library_name), scenario, fix, loop)
    results_sink(result)
    expected = matrix.expectation(target, fix, scenario, loop, platform.python_version())

    assert result.status == "checked", result.reason
    evidence = {n: p["evidence"] for n, p in result.properties.items() if p["status"] == "fail"}
    assert set(result.failing) == expected.fails, evidence
    if expected.reproduces:
        lines = result.properties["no-error"]["evidence"]
        assert any(re.search(expected.reproduces, line) for line in lines), lines


def test_affected_targets_have_teeth(matrix):
    """The data itself keeps the repro honest: scenarios 2 and 3 must reproduce, 1 must not."""
    for target in ("minimal", "agents-0.0.11"):
        for scenario in ("other_task", "streaming_response"):
            expected = matrix.expectation(target, "none", scenario, "asyncio", "3.11")
            assert "no-error" in expected.fails
            assert expected.reproduces and "different Context" in expected.reproduces
        control = matrix.expectation(target, "none", "same_task", "asyncio", "3.11")
        assert control.fails == frozenset()
