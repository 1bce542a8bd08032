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
from typing import Any

from harness.cell import CellResult
from harness.matrix import MATRIX_PATH

SCHEMA_VERSION = 1


def matrix_hash(path: Path = MATRIX_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


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
    name = f"{result.scenario}-{result.loop}.json"
    return root / f"py{result.python}" / result.target / result.fix / name


def write_atomically(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(payload, stream, indent=1, sort_keys=True)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_cell(root: Path, result: CellResult, env: dict[str, Any]) -> Path:
    path = cell_path(root, result)
    write_atomically(path, {"schema_version": SCHEMA_VERSION, "cell": result.to_dict(), **env})
    return path


def read_cells(root: Path) -> list[dict[str, Any]]:
    """Every readable results file under ``root`` (temporary files are skipped)."""
    cells = []
    for path in sorted(root.rglob("*.json")):
        if not path.name.startswith("."):
            cells.append(json.loads(path.read_text()))
    return cells
