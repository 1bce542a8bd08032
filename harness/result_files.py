"""Reading results files without trusting them: what a file must be before it counts.

A results file the harness cannot vouch for never counts: it is listed with one reason
(``Problem``), and the cell it stands for is "not run" with that reason (harness.merge).

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
import stat
from pathlib import Path
from typing import Any, Optional

from harness.checker import PROPERTIES

MAX_BYTES = 20 * 1024 * 1024  # a real cell file is a few kB; a session file less
STATUSES = ("checked", "not run", "timeout", "error")
PROPERTY_STATUSES = ("pass", "fail", "n/a")
CELL_FIELDS = ("python", "target", "fix", "scenario", "loop")
SCHEMA_VERSION = 1


class Problem(ValueError):
    """Why a file is not a results file the harness can count; the message is one line."""


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
    return data[key]


def cell_problem(data: Any, expected: Optional[tuple[str, ...]]) -> None:
    """Raise ``Problem`` unless ``data`` is a whole cell record for the cell ``expected``
    (python, target, fix, scenario, loop as its path names them; None: its path names no
    cell of matrix.yaml). Its ``matrix_hash`` is checked first: a record written under another
    matrix.yaml is stale, not invalid, and the caller tells the two apart."""
    cell = check_file(data, "cell")
    for name in CELL_FIELDS:
        _need(isinstance(cell.get(name), str), f"cell.{name}: {cell.get(name)!r}, not a string")
    named = tuple(cell[name] for name in CELL_FIELDS)
    _need(expected is not None, f"names no cell of matrix.yaml: {'/'.join(named)}")
    _need(named == expected, f"its contents name another cell ({'/'.join(named)}) than its "
          f"path ({'/'.join(expected or ())})")
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


def session_problem(data: Any) -> None:
    """Raise ``Problem`` unless ``data`` is a whole session record."""
    session = check_file(data, "session")
    _need(isinstance(session.get("python"), str), "session.python: not a string")
    _need(_strings(session.get("targets")), "session.targets: not a list of strings")
    _need(isinstance(session.get("exitstatus"), int), "session.exitstatus: not an integer")
    duration = session.get("duration_s")
    _need(isinstance(duration, (int, float)) and not isinstance(duration, bool),
          "session.duration_s: not a number")
