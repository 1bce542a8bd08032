"""The cell plugin: ``python -m pytest -p ctxreset.pytest_plugin`` (the project's pytest
configuration loads it for every test run in this repository).

- Guards the network: every test fails if it tried to reach beyond loopback, even when the
  attempt was swallowed (ctxreset.run.netguard; nox adds a loopback-only network namespace).
- Options: ``--target`` (matrix target ids; env ``CTXRESET_TARGETS``), ``--results-dir``
  (env ``CTXRESET_RESULTS_DIR``; ``""``: write nothing), ``--cell-timeout`` (env
  ``CTXRESET_CELL_TIMEOUT``); matrix.yaml and these are checked before anything is collected
  (one line, exit 2).
- Parametrizes any test that takes a ``cell`` argument with every planned cell of the chosen
  targets on this interpreter that matrix.yaml does not rule out (those are recorded "not
  run" with the reason at the session start; ids from ``ctxreset.matrix.plan.cell_test_id``),
  and gives it
  ``results_sink`` (writes the cell's file), ``cell_timeout`` and ``library_of`` (the adapter for
  a target id).
- Writes the session's record ahead (as interrupted) and at the finish, beside the cells.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ctxreset import settings
from ctxreset.contract import Library
from ctxreset.libraries import (
    candidate_provenance,
    installed_targets,
    installed_version,
    library_for,
    library_name,
)
from ctxreset.matrix.loader import Matrix, MatrixError, load_matrix, matrix_hash, short_python
from ctxreset.matrix.plan import cell_test_id, planned_cells, ruled_out
from ctxreset.records import CellResult, not_run, provenance, write_cell, write_session
from ctxreset.run.netguard import BLOCKED_ATTEMPTS
from ctxreset.settings import DEFAULT_TIMEOUT, SettingError, positive_seconds

TARGETS_KEY = pytest.StashKey[list[str]]()
STARTED_KEY = pytest.StashKey[float]()
CELL_TIMEOUT_KEY = pytest.StashKey[float]()
MATRIX_KEY = pytest.StashKey[Matrix]()


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Fail the test loudly if it tried to leave loopback, even if the attempt was swallowed
    (an exporter thread logging the error, a retry loop, a bare except)."""
    BLOCKED_ATTEMPTS.clear()
    yield
    if BLOCKED_ATTEMPTS:
        attempts = "; ".join(BLOCKED_ATTEMPTS)
        BLOCKED_ATTEMPTS.clear()
        pytest.fail(f"network traffic beyond loopback was attempted: {attempts}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ctxreset cells")
    results = settings.results_dir()
    group.addoption(
        "--results-dir",
        default="results" if results is None else results,
        help="where each cell's results file is written (default: results/; '' to skip; "
        f"env {settings.RESULTS_DIR})",
    )
    group.addoption(
        "--cell-timeout",
        type=_seconds,
        default=None,
        help=f"seconds a cell's scenario may run before it is recorded 'timeout' (default "
        f"{DEFAULT_TIMEOUT:g}; env {settings.CELL_TIMEOUT})",
    )
    group.addoption(
        "--target",
        action="append",
        default=None,
        help=f"matrix.yaml target id whose cells to run (repeatable; env {settings.TARGETS}, "
        "comma-separated). Default: every target installed in this environment.",
    )


def _seconds(text: str) -> float:
    try:
        return positive_seconds("--cell-timeout", text)
    except SettingError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None


def pytest_configure(config: pytest.Config) -> None:
    """Validate matrix.yaml, the settings and the chosen targets before anything is collected."""
    try:
        matrix = load_matrix()
        timeout = config.getoption("--cell-timeout") or settings.cell_timeout_from_env()
        chosen = config.getoption("--target") or settings.targets()
        config.stash[TARGETS_KEY] = selected_targets(matrix, chosen)
    except (MatrixError, SettingError) as exc:
        pytest.exit(str(exc), returncode=2)
    config.stash[MATRIX_KEY] = matrix
    config.stash[STARTED_KEY] = time.time()
    config.stash[CELL_TIMEOUT_KEY] = timeout or DEFAULT_TIMEOUT


def selected_targets(matrix: Matrix, chosen: list[str]) -> list[str]:
    """The targets to run: the ones asked for, which must be installed here, or all installed."""
    installed = installed_targets(matrix)
    for target in chosen:
        if target not in matrix.targets:
            known = ", ".join(matrix.targets)
            raise MatrixError(f"--target: bad value {target!r}; allowed: {known}")
        if target not in installed:
            name = library_name(matrix, target)
            version = installed_version(name)
            found = f"{name}=={version}" if version else f"no {name}"
            raise MatrixError(
                f"--target: {target!r} needs {matrix.targets[target].requirement or target}, "
                f"this environment has {found}"
            )
    return chosen or installed


def pytest_report_header(config: pytest.Config) -> str:
    targets: list[str] = config.stash[TARGETS_KEY]
    return f"ctxreset targets: {', '.join(targets)}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every planned cell of the chosen targets on this interpreter that matrix.yaml does not
    rule out, for a ``cell`` argument (the ruled-out ones are recorded at the session start,
    without a test each: half the cells of some targets, at a few ms of pytest apiece)."""
    if "cell" in metafunc.fixturenames:
        config = metafunc.config
        matrix = config.stash[MATRIX_KEY]
        cells = [cell for cell in planned_cells(matrix, platform.python_version(),
                                                config.stash[TARGETS_KEY])
                 if not ruled_out(matrix, cell)]
        metafunc.parametrize("cell", cells, ids=[cell_test_id(c) for c in cells])


def pytest_sessionstart(session: pytest.Session) -> None:
    """Write this session's record ahead, as interrupted (pytest's exit status 2): if the
    process is killed before it finishes (nox escalates Ctrl-C to SIGKILL; an OOM kill), the
    cells it never reached are reported "not run (interrupted)". Replaced at the finish.
    And record "not run", with the reason, each cell of the chosen targets that matrix.yaml
    rules out on this interpreter (they get no test)."""
    _write_session_record(session, int(pytest.ExitCode.INTERRUPTED))
    _record_ruled_out(session.config)


def _record_ruled_out(config: pytest.Config) -> None:
    root = config.getoption("--results-dir")
    if not root or hasattr(config, "workerinput") or MATRIX_KEY not in config.stash:
        return
    matrix = config.stash[MATRIX_KEY]
    env = provenance(matrix_hash())
    for cell in planned_cells(matrix, platform.python_version(), config.stash[TARGETS_KEY]):
        reason = ruled_out(matrix, cell)
        if reason:
            write_cell(Path(root), not_run(cell, reason), env)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Record this session's duration and outcome beside the cell files (controller only)."""
    _write_session_record(session, int(exitstatus))


def _write_session_record(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    root = config.getoption("--results-dir")
    if not root or hasattr(config, "workerinput") or STARTED_KEY not in config.stash:
        return
    python = short_python(platform.python_version())
    write_session(Path(root), python, config.stash[TARGETS_KEY], {
        "duration_s": round(time.time() - config.stash[STARTED_KEY], 3),
        "exitstatus": exitstatus,
        "testscollected": session.testscollected,
        "testsfailed": session.testsfailed,
    }, _with_candidate(provenance(matrix_hash())))


def _with_candidate(found: dict[str, Any]) -> dict[str, Any]:
    """A results file's provenance, and what candidate (checkout, wheel, patch) was judged."""
    judged = candidate_provenance()
    return {**found, "candidate": judged} if judged else found


@pytest.fixture(scope="session")
def _provenance() -> dict[str, Any]:
    return _with_candidate(provenance(matrix_hash()))


@pytest.fixture
def results_sink(
    request: pytest.FixtureRequest, _provenance: dict[str, Any]
) -> Callable[[CellResult], None]:
    """Write a cell's result file (atomically) as soon as the cell has run."""
    root = request.config.getoption("--results-dir")

    def sink(result: CellResult) -> None:
        if root:
            write_cell(Path(root), result, _provenance)

    return sink


@pytest.fixture(scope="session")
def matrix(request: pytest.FixtureRequest) -> Matrix:
    return request.config.stash[MATRIX_KEY]


@pytest.fixture(scope="session")
def targets(request: pytest.FixtureRequest) -> list[str]:
    """The target ids this run's cells are for (installed here)."""
    return request.config.stash[TARGETS_KEY]


@pytest.fixture(scope="session")
def cell_timeout(request: pytest.FixtureRequest) -> float:
    return request.config.stash[CELL_TIMEOUT_KEY]


@pytest.fixture(scope="session")
def library_of(matrix: Matrix) -> Callable[[str], Library]:
    """The adapter a target id stands for (loaded once per process)."""
    return lambda target: library_for(matrix, target)
