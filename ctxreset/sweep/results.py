"""Where the sweep across releases keeps its files, and reading them back.

    results/sweep/sweep.json                                  the last sweep: release list
                                                              (and when it was fetched), range,
                                                              Python, loop, timings
    results/sweep/<version>/py<python>/release.json           one release: installed? imported?
                                                              resolved openai, install/run time
    results/sweep/<version>/py<python>/runner.json            what the runner saw (sweep_run)
    results/sweep/<version>/py<python>/<target>/none/<scenario>-<loop>.json   cells

Nothing here starts with ``py``, so the matrix's merge (``results/py*/**``) never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ctxreset.catalogue import PROPERTIES
from ctxreset.records import Problem, read_cell, read_json
from ctxreset.sweep.analysis import CellOutcome, ReleaseOutcome

SWEEP_FILE = "sweep.json"
RELEASE_FILE = "release.json"
RUNNER_FILE = "runner.json"


def sweep_root(results: Path) -> Path:
    return results / "sweep"


def release_dir(root: Path, version: str, python: str) -> Path:
    """``root`` is ``results/sweep``; ``python`` the short version, ``3.11``."""
    return root / version / f"py{python}"


@dataclass
class SweepResults:
    meta: dict[str, Any]  # sweep.json
    releases: list[ReleaseOutcome]  # every release with a record for meta's Python and loop
    records: dict[str, dict[str, Any]]  # version -> release.json's "release" block
    unreadable: list[str]


def _read(path: Path) -> Optional[dict[str, Any]]:
    try:
        data = read_json(path)
    except Problem:
        return None
    return data if isinstance(data, dict) else None


def _property_order(name: str) -> tuple[int, str]:
    """The checker's order (results files store properties sorted by name)."""
    return (PROPERTIES.index(name) if name in PROPERTIES else len(PROPERTIES), name)


def _cells(directory: Path, loop: str, unreadable: list[str]) -> dict[str, CellOutcome]:
    found = {}
    for path in sorted(directory.glob(f"*/none/*-{loop}.json")):
        if path.name.startswith("."):
            continue  # a temporary file an interrupted write left behind
        try:
            result = read_cell(path).result
        except Problem:
            unreadable.append(str(path))
            continue
        failing = tuple(sorted(result.failing, key=_property_order))
        outcome = result.status
        if outcome == "checked":
            outcome = "fail" if failing else "pass"
        found[result.scenario] = CellOutcome(outcome, failing, result.reason)
    return found


def load_sweep(root: Path) -> Optional[SweepResults]:
    """The sweep's records for the Python and loop of the last sweep; None if never swept."""
    meta = _read(root / SWEEP_FILE)
    if meta is None:
        if (root / SWEEP_FILE).exists():
            raise ValueError(f"{root / SWEEP_FILE}: not a readable JSON object")
        return None
    if not (isinstance(meta.get("python"), str) and isinstance(meta.get("loop"), str)):
        raise ValueError(f"{root / SWEEP_FILE}: no 'python' and 'loop' strings")
    python, loop = meta["python"], meta["loop"]
    releases, records, unreadable = [], {}, []
    for path in sorted(root.glob(f"*/py{python}/{RELEASE_FILE}")):
        data = _read(path)
        record = data.get("release") if data else None
        if not isinstance(record, dict):
            unreadable.append(str(path))
            continue
        if record.get("loop") != loop:
            continue  # swept on another loop: not this sweep
        cells = _cells(path.parent, loop, unreadable) if record["status"] == "ran" else {}
        releases.append(ReleaseOutcome(record["version"], record["status"],
                                       record.get("reason", ""), cells))
        records[record["version"]] = record
    return SweepResults(meta, releases, records, unreadable)
