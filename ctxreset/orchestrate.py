"""The matrix run's orchestration and bookkeeping, for the noxfile (and the tests that check it).

nox runs in its own environment, without the library under test: this module imports records,
the matrix and the report only, never the runner, a scenario or a fix.

- ``longest_first``, ``run_processes``: one nox process per session, ``PER_CORE`` at once
  per core, the longest first by how long each took last time (``remember_durations``), the next
  starting when one ends, each into a log of its own.
- ``set_aside_previous_cells``: a plain ``nox`` starts from no cell files.
- ``record_not_run`` / ``record_interrupted``: "not run" files, with the reason, for cells no
  session will write (a missing interpreter, a target ruled out, Ctrl-C).
- ``targets_without_results``: which targets a missing Python may be recorded "not run" for.
- ``install_stamp``: whether a reused venv was installed from exactly these inputs.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from ctxreset.matrix.loader import Matrix, matrix_hash
from ctxreset.matrix.plan import library_session_name, planned_cells, ruled_out, session_name
from ctxreset.records import (
    INTERRUPTED,
    Problem,
    cell_path,
    not_run,
    read_cell,
    read_session,
    write_cell,
)

MISSING_INTERPRETER = "interpreter missing: no python{python} on PATH, in pyenv or uv"


def cell_session_names(matrix: Matrix, pythons: Iterable[str]) -> list[str]:
    """Target-major: with no durations known yet, the first ones to start are a mix of
    targets."""
    return [session_name(python, target) for target in matrix.targets for python in pythons]


def weights(names: list[str], durations: Optional[Mapping[str, float]]) -> dict[str, float]:
    """Each session's last duration; one never timed counts as the mean of those that were
    (1.0 each when none was)."""
    known = {name: seconds for name, seconds in (durations or {}).items() if name in names}
    guess = sum(known.values()) / len(known) if known else 1.0
    return {name: known.get(name, guess) for name in names}


def longest_first(names: list[str], durations: Optional[Mapping[str, float]]) -> list[str]:
    """``names`` by their last duration, longest first (ties keep their order)."""
    weight = weights(names, durations)
    return sorted(names, key=lambda name: -weight[name])


def read_durations(path: Path) -> dict[str, float]:
    """Seconds per session name, as remembered in ``path`` ({} when missing or unreadable:
    the deal then falls back to round-robin)."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {name: float(seconds) for name, seconds in found.items()
            if isinstance(name, str) and isinstance(seconds, (int, float))
            and not isinstance(seconds, bool) and math.isfinite(seconds) and seconds >= 0}


def remember_durations(reports: Iterable[Path], path: Path) -> dict[str, float]:
    """Add each session's duration from nox's JSON reports (``nox --report``) to ``path``;
    sessions that did not run (skipped) keep what was known. Returns the whole table."""
    durations = read_durations(path)
    for report in reports:
        try:
            sessions = json.loads(report.read_text()).get("sessions", [])
        except (OSError, ValueError, AttributeError):
            continue
        for entry in sessions:
            # "signatures" starts with the full name (tests-3.11(target='minimal')); "name" is
            # the function's (tests)
            names = entry.get("signatures") or [entry.get("name")]
            if entry.get("result") in ("success", "failed") and isinstance(
                    entry.get("duration"), (int, float)):
                durations[str(names[0])] = round(float(entry["duration"]), 3)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(durations, indent=1, sort_keys=True) + "\n")
    return durations


def run_processes(commands: list[list[str]], logs: Path, log: Callable[[str], object],
                  at_once: Optional[int] = None) -> tuple[list[str], bool]:
    """Run ``commands``, at most ``at_once`` at a time (default: all side by side), each into
    ``logs/matrix-<n>.log``, the next one starting as soon as one ends (so a session that
    takes longer than last time delays no other), and wait for all of them. After Ctrl-C no
    new one starts and the running ones are waited for (they got the same SIGINT and are
    writing their records). Echo the nox summary lines of each log. Returns the logs of the
    processes that failed, and whether the run was interrupted."""
    logs.mkdir(parents=True, exist_ok=True)
    waiting = list(enumerate(commands, 1))
    limit = len(commands) if at_once is None else max(1, at_once)
    running: list[tuple[subprocess.Popen[bytes], Path]] = []
    finished: list[tuple[subprocess.Popen[bytes], Path]] = []
    interrupted = False
    try:
        while waiting or running:
            while waiting and len(running) < limit:
                index, command = waiting.pop(0)
                path = logs / f"matrix-{index}.log"
                sessions = command[command.index("-s") + 1:command.index("--")]
                log(f"nox process {index}: {len(sessions)} sessions, log {path}")
                with open(path, "w") as stream:
                    running.append((subprocess.Popen(command, stdout=stream,
                                                     stderr=subprocess.STDOUT), path))
            ended = [entry for entry in running if entry[0].poll() is not None]
            finished += ended
            running = [entry for entry in running if entry not in ended]
            if not ended:
                time.sleep(POLL)
    except KeyboardInterrupt:
        interrupted = True
        for process, _ in running:
            process.wait()
        finished += running
    failed = []
    for process, path in sorted(finished, key=lambda entry: commands_order(entry[1])):
        for line in path.read_text().splitlines():
            if line.startswith("nox > *"):
                log(line[len("nox > "):])
        if process.returncode != 0:
            failed.append(str(path))
    return failed, interrupted


POLL = 0.05
"""Seconds between looks at the running processes."""

PER_CORE = 2
"""Sessions run at once per core. A cell often waits (a timeout, a server, a sleep): about half
of a cell session's wall time leaves its core idle (tests-3.11(target='minimal'): 19 s of wall
for 8 s of CPU), so one session per core leaves CPU unused; two per core keep it busy, as
tox -p auto with pytest -n auto does (two environments of two workers on two cores)."""


def side_by_side(cores: Optional[int]) -> int:
    """How many sessions the matrix runs side by side on ``cores`` cores."""
    return PER_CORE * max(1, cores or 1)


def commands_order(log_path: Path) -> int:
    """The command's index from its log's name (matrix-<n>.log)."""
    return int(log_path.stem.rsplit("-", 1)[1])


def set_aside_previous_cells(results: Path, previous: Path) -> bool:
    """Move the last run's cell and session files to ``previous`` (benchmark and sweep results
    stay: a matrix run does not redo them). Whether there was anything to move."""
    shutil.rmtree(previous, ignore_errors=True)
    moved = [path for path in (*results.glob("py*"), results / "sessions") if path.exists()]
    for path in moved:
        previous.mkdir(parents=True, exist_ok=True)
        path.rename(previous / path.name)
    return bool(moved)


def record_not_run(results: Path, matrix: Matrix, python: str, targets: list[str],
                   reason: str) -> None:
    """A "not run" results file, with its reason, for every planned cell of these targets."""
    provenance = {"python": None, "matrix_hash": matrix_hash()}
    for cell in planned_cells(matrix, python, targets):
        write_cell(results, not_run(cell, reason), provenance)


def record_interrupted(results: Path, matrix: Matrix, pythons: Iterable[str]) -> None:
    """After Ctrl-C: a "not run (interrupted)" file for every planned cell that has none."""
    provenance = {"python": None, "matrix_hash": matrix_hash()}
    for python in pythons:
        for cell in planned_cells(matrix, python):
            if not cell_path(results, cell).exists():
                write_cell(results, not_run(cell, ruled_out(matrix, cell) or INTERRUPTED),
                           provenance)


def _ran(path: Path, target: str, hash_: str) -> bool:
    """Whether ``path`` is a result (not a "not run" record) for ``target`` under this hash."""
    try:
        if path.parent.name == "sessions":
            session = read_session(path)
            return session.get("matrix_hash") == hash_ and target in session["session"]["targets"]
        found = read_cell(path)
    except Problem:
        return False
    return (found.provenance.get("matrix_hash") == hash_ and found.result.target == target
            and found.result.status != "not run")


def targets_without_results(
    root: Path, matrix: Matrix, python: str, matrix_hash: str
) -> list[str]:
    """The targets a missing ``python`` may be recorded "not run" for, in matrix order.

    Leaves out a target matrix.yaml rules out on ``python`` (the merge gives that reason), and
    one that a session on ``python`` wrote a cell or session record for under this matrix.yaml:
    that session found the interpreter, wherever it ran. So a report that collects results
    from other machines (CI's test jobs) never overwrites them with "interpreter missing".
    """
    found = []
    for target in matrix.targets:
        if matrix.target_not_run(target, python):
            continue
        paths = [*(root / f"py{python}" / target).glob("**/*.json"),
                 *(root / "sessions").glob(f"py{python}-*.json")]
        if not any(_ran(p, target, matrix_hash) for p in paths if not p.name.startswith(".")):
            found.append(target)
    return found


def install_stamp(venv: Path, inputs: str) -> tuple[Path, str, bool]:
    """The stamp file in ``venv``, the digest of ``inputs`` and whether the venv was installed
    from exactly these inputs before (then nothing needs installing)."""
    stamp = venv / "ctxreset-installed.sha256"
    digest = hashlib.sha256(inputs.encode()).hexdigest()
    return stamp, digest, stamp.exists() and stamp.read_text() == digest


TOOLS = Path(__file__).resolve().parent.parent / ".ci" / "tools.txt"


def tool(name: str, tools: Path = TOOLS) -> str:
    """The pinned requirement of tool ``name`` (``ruff==0.14.0``) from .ci/tools.txt."""
    for line in tools.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement.partition("==")[0] == name:
            return requirement
    raise LookupError(f"{tools}: no pin for {name}")


WHEEL_TARGET = "agents-0.0.11"
"""The affected release the wheel session tries the built plugin on."""


@dataclass(frozen=True)
class Job:
    """One nox session of the default run, with the Python and target it installs."""

    session: str
    python: str
    target: str


def checks(matrix: Matrix, pythons: Iterable[str]) -> list[Job]:
    """The default run's sessions besides the cells: ``unit`` and ``typecheck`` (on the run's
    first Python), ``library`` per target, and ``wheel``. The matrix session and the CI job
    matrix both run these."""
    pythons = list(pythons)
    first = pythons[0]
    return [
        Job("unit", first, "minimal"),
        *(Job(library_session_name(python, target), python, target)
          for python, target in library_sessions(matrix, pythons)),
        Job("typecheck", first, WHEEL_TARGET),
        Job("wheel", first, WHEEL_TARGET),
    ]


def library_sessions(matrix: Matrix, pythons: Iterable[str]) -> list[tuple[str, str]]:
    """(python, target) of each ``library`` session: every target once, on the first of
    ``pythons`` it installs on."""
    pythons = list(pythons)
    found = []
    for target in matrix.targets:
        python = next((p for p in pythons if not matrix.target_not_run(target, p)), None)
        if python is not None:
            found.append((python, target))
    return found
