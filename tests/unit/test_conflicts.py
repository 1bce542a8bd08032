"""The proven conflicts (``ctxreset.catalogue.CONFLICTS``) agree with matrix.yaml: wherever a
fix is expected to run both scenarios of a pair, it is expected to break what one of them
needs. The cells hold each expectation to what really runs, so a fix that passed both would
fail a cell before the report could state a refuted claim as proven."""

from __future__ import annotations

from ctxreset.catalogue import CONFLICTS, ONE_TASK_SUFFIX, PROPERTIES
from ctxreset.matrix.loader import load_matrix
from ctxreset.matrix.plan import planned_cells, ruled_out
from ctxreset.records import CellId


def test_each_conflict_names_scenarios_and_properties_the_matrix_knows():
    matrix = load_matrix()
    for conflict in CONFLICTS:
        for scenario in (conflict.first, conflict.second):
            assert scenario in matrix.scenarios
            assert scenario + ONE_TASK_SUFFIX in matrix.scenarios
        assert set(conflict.first_needs) | set(conflict.second_needs) <= set(PROPERTIES)


def test_every_fix_is_expected_to_break_one_side_of_each_conflict():
    matrix = load_matrix()
    pairs = 0
    for conflict in CONFLICTS:
        for python in matrix.pythons:
            for cell in planned_cells(matrix, python):
                if cell.scenario not in (conflict.first, conflict.first + ONE_TASK_SUFFIX):
                    continue
                other = CellId(cell.python, cell.target, cell.fix,
                               cell.scenario.replace(conflict.first, conflict.second), cell.loop)
                if ruled_out(matrix, cell) or ruled_out(matrix, other):
                    continue
                first = matrix.expectation(cell.target, cell.fix, cell.scenario, cell.loop,
                                           python).fails
                second = matrix.expectation(other.target, other.fix, other.scenario,
                                            other.loop, python).fails
                pairs += 1
                assert first & set(conflict.first_needs) or second & set(conflict.second_needs), (
                    f"{cell} and {other} are expected to pass both sides")
    assert pairs > 100
