"""The cells a run covers, and why matrix.yaml rules some of them out on a given Python.

A cell is one (python, target, fix, scenario, loop). Every entry point (pytest, nox, tox, the
report) enumerates cells here, so "what should have run" has one definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ctxreset.catalogue import ONE_TASK_SUFFIX, judged_on
from ctxreset.matrix.loader import Matrix, short_python
from ctxreset.records import CellId


def planned_cells(
    matrix: Matrix, python: str, targets: Optional[Iterable[str]] = None
) -> list[CellId]:
    """Every cell of ``targets`` (default: all) on ``python``, in matrix order (a fix only on
    the shape it patches: ``catalogue.judged_on``)."""
    python = short_python(python)
    cells = []
    for target in targets if targets is not None else matrix.targets:
        for fix in matrix.fixes_for(target):
            for scenario in (s for s in matrix.scenarios if judged_on(fix, s)):
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


def library_targets(matrix: Matrix, package: str) -> list[str]:
    """The targets that install distribution ``package``."""
    wanted = canonicalize_name(package)
    return [t for t, spec in matrix.targets.items()
            if spec.requirement and canonicalize_name(Requirement(spec.requirement).name) == wanted]


def library_scenarios(matrix: Matrix, package: str) -> tuple[str, ...]:
    """The scenarios some target of ``package`` runs somewhere (matrix.yaml rules the others
    out for every one of its targets): what a sweep of its releases runs."""
    targets = library_targets(matrix, package)
    return tuple(s for s in matrix.scenarios
                 if any(not matrix.excluded(t, s, loop, python) for t in targets
                        for loop in matrix.loops for python in matrix.pythons))


def library_extras(matrix: Matrix, package: str) -> tuple[str, ...]:
    """What the targets of ``package`` install besides it (``with:``), by name only: a sweep
    installs each release with its dependencies as of its upload."""
    names = {Requirement(req).name for t in library_targets(matrix, package)
             for req in matrix.targets[t].also}
    return tuple(sorted(names))


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


def library_session_name(python: str, target: str) -> str:
    """nox's name for the session that runs tests/library/ for one target."""
    return f"library(python='{python}', target='{target}')"


CELL_PYTEST = ("-p", "no:anyio", "-o", "testpaths=tests/cells")
"""pytest's arguments for a cell session, the same under nox and tox: the cells' folder, and
not anyio's pytest plugin, which only the harness's own tests use (its hooks run for every
test). Hypothesis's plugin is off for every pytest run (pyproject's ``addopts``)."""

CELL_TEST = "tests/cells/test_cells.py::test_cell_matches_expectation"
"""The pytest test that runs every cell, one parametrization per cell."""


def cell_test_id(cell: CellId) -> str:
    """The cell's pytest parametrization id (the plugin parametrizes ``CELL_TEST`` by it)."""
    return f"{cell.target}-{cell.fix}-{cell.scenario}[{cell.loop}]"


def rerun_command(cell: CellId) -> str:
    """One command that re-runs exactly this cell locally: its nox session, its node id."""
    node = f"{CELL_TEST}[{cell_test_id(cell)}]"
    return f"nox -s \"{session_name(cell.python, cell.target)}\" -- -n 0 \"{node}\""


def replay_command(target: str, fix: str, scenario: str, seed: int) -> str:
    """One command that re-runs one explored cell under one seed (``nox -s explore``) and says
    whether it ends as recorded."""
    return (f"nox -s explore -- --target {target} --fix {fix} --scenario {scenario} "
            f"--seed {seed}")
