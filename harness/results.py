"""Results files: one JSON file per cell, written atomically, with provenance.

A file is written to a temporary name in the same directory and renamed into place, so a
crash or Ctrl-C leaves every finished cell's file whole and never a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

from harness.cell import CellResult
from harness.matrix import Matrix, matrix_path
from harness.result_files import Problem, read_json

SCHEMA_VERSION = 1


def matrix_hash(path: Optional[Path] = None) -> str:
    return hashlib.sha256((path or matrix_path()).read_bytes()).hexdigest()[:16]


def installed_packages() -> dict[str, str]:
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[name.lower()] = dist.version
    return dict(sorted(found.items()))


def provenance() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "os": platform.platform(),
        "packages": installed_packages(),
        "matrix_hash": matrix_hash(),
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def cell_path(root: Path, result: CellResult) -> Path:
    cell = result.cell
    return root / f"py{cell.python}" / cell.target / cell.fix / f"{cell.scenario}-{cell.loop}.json"


def _umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    current = os.umask(0o022)
    os.umask(current)
    return current


def _replace_atomically(path: Path, write: Callable[[TextIO], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp's 0600 -> what open() would give: 0666 - umask
            os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "w") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON to a temporary file beside ``path``, then rename it into place."""
    _replace_atomically(path, lambda stream: json.dump(payload, stream, indent=1, sort_keys=True))


def write_text_atomically(path: Path, text: str) -> None:
    _replace_atomically(path, lambda stream: stream.write(text))


def write_cell(root: Path, result: CellResult, env: dict[str, Any]) -> Path:
    path = cell_path(root, result)
    write_atomically(path, {"schema_version": SCHEMA_VERSION, "cell": result.to_dict(), **env})
    return path


def read_cells(root: Path) -> list[dict[str, Any]]:
    """Every cell file under ``root`` (temporary files and session records are skipped)."""
    cells = []
    for path in sorted(root.glob("py*/**/*.json")):
        if not path.name.startswith("."):
            cells.append(json.loads(path.read_text()))
    return cells


def session_path(root: Path, python: str, targets: list[str]) -> Path:
    return root / "sessions" / f"py{python}-{'+'.join(targets)}.json"


def write_session(root: Path, python: str, targets: list[str], outcome: dict[str, Any]) -> Path:
    """One test session's duration and outcome, with the same provenance as its cells."""
    path = session_path(root, python, targets)
    payload = {"schema_version": SCHEMA_VERSION, "session": {"python": python, "targets": targets,
               **outcome}, **provenance()}
    write_atomically(path, payload)
    return path


def _ran(path: Path, target: str, matrix_hash: str) -> bool:
    """Whether ``path`` is a result (not a "not run" record) for ``target`` under this hash."""
    try:
        data = read_json(path)
    except Problem:
        return False
    if not isinstance(data, dict) or data.get("matrix_hash") != matrix_hash:
        return False
    cell, session = data.get("cell"), data.get("session")
    if isinstance(cell, dict):
        return cell.get("target") == target and cell.get("status") != "not run"
    return isinstance(session, dict) and target in session.get("targets", [])


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
