"""The cell record and the results-file format: one writer, one reader, one "failing".

A cell is one (python, target, fix, scenario, loop): ``CellId``. Its record, ``CellResult``,
has a status (``STATUSES``), the checker's properties with evidence, the errors captured and a
reason; ``not_run`` and ``started`` make the records written without running it. Everything
that writes a cell file (the pytest plugin, nox's bookkeeping, the sweep) goes through
``write_cell``; everything that reads one (merge, flakes, expectations, the sweep's results,
nox's bookkeeping) goes through ``read_cell``. ``failing`` is the one definition of which
properties a record fails.

Files are written to a temporary name in the same directory and renamed into place, so a crash
or Ctrl-C leaves every finished cell's file whole and never a half-written one. Reading trusts
nothing: a file the harness cannot vouch for raises ``Problem`` with one line, and whoever
reads it lists it and counts its cell "not run" with that reason.

- ``read_json`` never blocks and never raises for what is on disk: a FIFO, a device or a
  directory named ``*.json`` is "not a regular file" (opened with ``O_NONBLOCK``, checked with
  ``fstat`` before any read); a huge, non-UTF-8, truncated or absurdly nested file is a problem.
- ``cell_problem`` checks a cell record's shape: the cell it names (it must be the one its path
  names), a known status, properties by known names with known statuses, errors as objects.
- ``session_problem`` does the same for ``results/sessions/*.json``.
"""

from __future__ import annotations

import json
import os
import platform
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Optional, TextIO, Union

from ctxreset.catalogue import PROPERTIES

SCHEMA_VERSION = 1
MAX_BYTES = 20 * 1024 * 1024  # a real cell file is a few kB; a session file less
STATUSES = ("checked", "not run", "timeout", "error")
PROPERTY_STATUSES = ("pass", "fail", "n/a")
CELL_FIELDS = ("python", "target", "fix", "scenario", "loop")

DIED = (
    "the process running this cell died before the cell finished (a crash, or a hard kill "
    "by pytest-timeout); this record was written when the cell started"
)
INTERRUPTED = "not run (interrupted)"


@dataclass(frozen=True, order=True)
class CellId:
    python: str  # "3.11": the matrix's version, not the patch release
    target: str  # the matrix's target id
    fix: str
    scenario: str
    loop: str

    def __str__(self) -> str:
        return f"py{self.python}/{self.target}/{self.fix}/{self.scenario}[{self.loop}]"


def failing(properties: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """The properties that failed, in the order the record lists them."""
    return tuple(name for name, prop in properties.items() if prop.get("status") == "fail")


@dataclass
class CellResult:
    python: str  # the matrix's "3.11"; the exact version is in the results file's provenance
    target: str  # the matrix's target id
    fix: str
    scenario: str
    loop: str
    status: str  # one of STATUSES
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str = ""
    duration_s: float = 0.0

    @property
    def failing(self) -> tuple[str, ...]:
        return failing(self.properties)

    @property
    def evidence(self) -> dict[str, list[str]]:
        """The evidence of each failing property."""
        return {name: list(self.properties[name].get("evidence", [])) for name in self.failing}

    @property
    def cell(self) -> CellId:
        return CellId(self.python, self.target, self.fix, self.scenario, self.loop)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, cell: Mapping[str, Any]) -> CellResult:
        """A record as ``to_dict`` wrote it (checked by ``cell_problem`` first)."""
        return cls(**{name: cell[name] for name in CELL_FIELDS}, status=cell["status"],
                   properties=dict(cell.get("properties", {})), errors=list(cell.get("errors", [])),
                   notes=list(cell.get("notes", [])), reason=cell.get("reason", ""),
                   duration_s=cell.get("duration_s", 0.0))


def not_run(cell: CellId, reason: str) -> CellResult:
    """The record of a cell that was not run, and why."""
    return CellResult(
        cell.python, cell.target, cell.fix, cell.scenario, cell.loop, "not run", reason=reason
    )


def started(cell: CellId) -> CellResult:
    """The record written before a cell runs: what stays if its process dies mid-cell."""
    return CellResult(
        cell.python, cell.target, cell.fix, cell.scenario, cell.loop, "error", reason=DIED
    )


# --- writing ------------------------------------------------------------------------------

def installed_packages() -> dict[str, str]:
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[name.lower()] = dist.version
    return dict(sorted(found.items()))


def provenance(matrix_hash: str) -> dict[str, Any]:
    """What a results file says about where it was written, beside its record."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "os": platform.platform(),
        "packages": installed_packages(),
        "matrix_hash": matrix_hash,
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def cell_path(root: Path, cell: CellId) -> Path:
    return root / f"py{cell.python}" / cell.target / cell.fix / f"{cell.scenario}-{cell.loop}.json"


def _umask() -> int:
    """The process's umask (reading it means setting it: set it straight back)."""
    current = os.umask(0o022)
    os.umask(current)
    return current


def _replace_atomically(path: Path, write: Callable[[TextIO], Any]) -> None:
    """Write a temporary file beside ``path`` and rename it into place: a reader sees the old
    file or the whole new one, and a process that dies mid-write leaves no half file. No
    fsync: what the harness guards against is its own process dying (a crashing cell, a kill),
    which loses nothing the kernel already has; after an OS crash, re-run the session. (An
    fsync per cell, two per cell, was a third of a session's time on a shared disk.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp's 0600 -> what open() would give: 0666 - umask
            os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "w") as stream:
            write(stream)
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
    """The one writer of a cell file: ``result`` with ``env`` (its provenance)."""
    path = cell_path(root, result.cell)
    write_atomically(path, {"schema_version": SCHEMA_VERSION, "cell": result.to_dict(), **env})
    return path


def session_path(root: Path, python: str, targets: list[str]) -> Path:
    return root / "sessions" / f"py{python}-{'+'.join(targets)}.json"


def write_session(root: Path, python: str, targets: list[str], outcome: dict[str, Any],
                  env: dict[str, Any]) -> Path:
    """One test session's duration and outcome, with the same provenance as its cells."""
    path = session_path(root, python, targets)
    payload = {"schema_version": SCHEMA_VERSION, "session": {"python": python, "targets": targets,
               **outcome}, **env}
    write_atomically(path, payload)
    return path


# --- reading ------------------------------------------------------------------------------

class Problem(ValueError):
    """Why a file is not a results file the harness can count; the message is one line."""


class Stale(Exception):
    """A results file written under another matrix.yaml: listed, never counted."""


def read_json(path: Path) -> Any:
    """The JSON in ``path``; ``Problem`` if it is not a regular, readable, sane JSON file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise Problem(f"cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Problem("not a regular file (a FIFO, device or directory); not read")
        if info.st_size > MAX_BYTES:
            raise Problem(f"{info.st_size} bytes, more than a results file ({MAX_BYTES})")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise Problem(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Problem("not UTF-8") from None
    except RecursionError:
        raise Problem("not JSON: nested too deeply") from None
    except ValueError as exc:
        raise Problem(f"not JSON: {exc}") from None


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise Problem(message)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_provenance(data: dict[str, Any]) -> None:
    """The provenance beside the cell: the report reads these keys."""
    _need(isinstance(data.get("matrix_hash"), str), "no matrix_hash: written by what?")
    _need(data.get("schema_version") == SCHEMA_VERSION,
          f"schema_version is {data.get('schema_version')!r}, not {SCHEMA_VERSION}")
    for key in ("python", "implementation", "executable", "written_at"):
        _need(data.get(key) is None or isinstance(data[key], str), f"{key}: not a string")
    packages = data.get("packages", {})
    _need(isinstance(packages, dict) and all(isinstance(v, str) for v in packages.values()),
          "packages: not an object of versions")


def check_file(data: Any, key: str) -> dict[str, Any]:
    """``data`` as an object holding an object under ``key``, with sane provenance."""
    _need(isinstance(data, dict), f"not a JSON object but {type(data).__name__}")
    _need(isinstance(data.get(key), dict), f"no {key!r} object")
    _check_provenance(data)
    found: dict[str, Any] = data[key]
    return found


ANY_CELL = "any"
"""``read_cell``'s ``expected`` when the caller has no path-to-cell plan (flakes, sweep)."""


def cell_problem(data: Any, expected: Union[CellId, None, str]) -> None:
    """Raise ``Problem`` unless ``data`` is a whole cell record for the cell ``expected``
    (the cell its path names; None: its path names no cell of matrix.yaml; ``ANY_CELL``: any
    cell). Its ``matrix_hash`` is checked first: a record written under another matrix.yaml
    is stale, not invalid, and the caller tells the two apart."""
    cell = check_file(data, "cell")
    for name in CELL_FIELDS:
        _need(isinstance(cell.get(name), str), f"cell.{name}: {cell.get(name)!r}, not a string")
    named = CellId(*(cell[name] for name in CELL_FIELDS))
    _need(expected is not None, f"names no cell of matrix.yaml: {_slashed(named)}")
    _need(expected in (named, ANY_CELL), f"its contents name another cell ({_slashed(named)}) "
          f"than its path ({_slashed(expected)})")
    status = cell.get("status")
    _need(status in STATUSES, f"cell.status: unknown {status!r}; known: {', '.join(STATUSES)}")
    _need(isinstance(cell.get("reason", ""), str), "cell.reason: not a string")
    properties = cell.get("properties", {})
    _need(isinstance(properties, dict), "cell.properties: not an object")
    _need(status != "checked" or bool(properties), "cell.properties: empty in a checked cell")
    for name, prop in properties.items():
        _need(name in PROPERTIES, f"cell.properties: unknown property {name!r}")
        _need(isinstance(prop, dict) and prop.get("status") in PROPERTY_STATUSES,
              f"cell.properties.{name}: not an object with a status of "
              f"{', '.join(PROPERTY_STATUSES)}")
        _need(_strings(prop.get("evidence", [])), f"cell.properties.{name}.evidence: not a "
              "list of strings")
    errors = cell.get("errors", [])
    _need(isinstance(errors, list) and all(
        isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("source", "summary"))
        for e in errors), "cell.errors: not a list of objects with a source and a summary")


def _slashed(cell: Any) -> str:
    return "/".join(getattr(cell, name) for name in CELL_FIELDS) if isinstance(cell, CellId) else ""


def session_problem(data: Any) -> None:
    """Raise ``Problem`` unless ``data`` is a whole session record."""
    session = check_file(data, "session")
    _need(isinstance(session.get("python"), str), "session.python: not a string")
    _need(_strings(session.get("targets")), "session.targets: not a list of strings")
    _need(isinstance(session.get("exitstatus"), int), "session.exitstatus: not an integer")
    duration = session.get("duration_s")
    _need(isinstance(duration, (int, float)) and not isinstance(duration, bool),
          "session.duration_s: not a number")


def _stale(data: Any, matrix_hash: Optional[str]) -> bool:
    """Written under another matrix.yaml (a record with no hash is invalid, not stale)."""
    return matrix_hash is not None and isinstance(data, dict) and isinstance(
        data.get("matrix_hash"), str) and data["matrix_hash"] != matrix_hash


@dataclass(frozen=True)
class CellFile:
    """A cell file as read: its record and the provenance written beside it."""

    result: CellResult
    provenance: dict[str, Any]


def read_cell(path: Path, expected: Union[CellId, None, str] = ANY_CELL,
              matrix_hash: Optional[str] = None) -> CellFile:
    """The one reader of a cell file. ``Problem`` (one line) for a file the harness cannot
    vouch for; ``Stale`` when ``matrix_hash`` is given and the file was written under another
    matrix.yaml. ``expected``: as ``cell_problem`` has it."""
    data = read_json(path)
    if _stale(data, matrix_hash):
        raise Stale(str(path))
    cell_problem(data, expected)
    return CellFile(CellResult.from_dict(data["cell"]),
                    {key: value for key, value in data.items() if key != "cell"})


def read_session(path: Path, matrix_hash: Optional[str] = None) -> dict[str, Any]:
    """The one reader of a session record (``Problem``, ``Stale`` as ``read_cell``)."""
    data = read_json(path)
    if _stale(data, matrix_hash):
        raise Stale(str(path))
    session_problem(data)
    found: dict[str, Any] = data
    return found


def cell_files(root: Path) -> list[Path]:
    """The cell files under ``root`` (temporary files a crash left behind are never results)."""
    return [path for path in sorted(root.glob("py*/**/*.json")) if not path.name.startswith(".")]
