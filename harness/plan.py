"""The cells a run covers, and why matrix.yaml rules some of them out on a given Python.

A cell is one (python, target, fix, scenario, loop). Every entry point (pytest, nox, tox, the
report) enumerates cells here, so "what should have run" has one definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from harness.matrix import Matrix, short_python
from harness.probe import ONE_TASK_SUFFIX


@dataclass(frozen=True, order=True)
class CellId:
    python: str  # "3.11": the matrix's version, not the patch release
    target: str  # the matrix's target id
    fix: str
    scenario: str
    loop: str

    def __str__(self) -> str:
        return f"py{self.python}/{self.target}/{self.fix}/{self.scenario}[{self.loop}]"


def planned_cells(
    matrix: Matrix, python: str, targets: Optional[Iterable[str]] = None
) -> list[CellId]:
    """Every cell of ``targets`` (default: all) on ``python``, in matrix order."""
    python = short_python(python)
    cells = []
    for target in targets if targets is not None else matrix.targets:
        for fix in matrix.fixes_for(target):
            for scenario in matrix.scenarios:
                for loop in matrix.loops:
                    cells.append(CellId(python, target, fix, scenario, loop))
    return cells


def ruled_out(matrix: Matrix, cell: CellId) -> Optional[str]:
    """Why the matrix's own constraints say ``cell`` cannot run, or None."""
    return (
        matrix.target_not_run(cell.target, cell.python)
        or matrix.loop_not_run(cell.loop, cell.python)
        or matrix.excluded(cell.target, cell.scenario, cell.loop, cell.python)
    )


LEGACY_REFERENCES = {"other_task": "same_task"}


def reference_of(matrix: Matrix, scenario: str) -> Optional[str]:
    """The one-task reference of ``scenario`` (the same usage, consumed in the caller's task),
    if the matrix runs one: ``<scenario>_one_task``, or ``same_task`` for ``other_task``."""
    for candidate in (scenario + ONE_TASK_SUFFIX, LEGACY_REFERENCES.get(scenario)):
        if candidate is not None and candidate in matrix.scenarios:
            return candidate
    return None


def session_name(python: str, target: str) -> str:
    """nox's name for the test session that runs the cells of one Python and target."""
    return f"tests-{python}(target='{target}')"
