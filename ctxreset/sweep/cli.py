"""Run every scenario, unpatched, against the library release installed in this venv.

    python -m ctxreset.sweep.cli --out results/sweep/0.0.11 [--loop asyncio] [--timeout 10]
        [--package openai-agents]     # default: matrix.yaml's sweep: package

The sweep (``ctxreset.sweep.driver``) runs this with each release's own venv Python. Each cell
(fix ``none``) is written as soon as it has run, atomically, with provenance, to
``<out>/py<python>/<target>/none/<scenario>-<loop>.json`` (``ctxreset.results``; the target
is ``agents-<version>`` for openai-agents, ``<package>-<version>`` for another library). The
scenarios default to those matrix.yaml runs on some target of the package. How the run went
as a whole goes to ``<out>/py<python>/runner.json``: ``ran``, or ``not importable`` (its
adapter cannot import the library) or ``not supported`` (it imports, but lacks what the harness's
adapter needs), each with a one-line reason, so a release that cannot be measured is recorded,
never fatal. Exit status 0 whenever that file was written.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path
from typing import Any, Optional

from packaging.utils import canonicalize_name

from ctxreset.catalogue import LIBRARIES
from ctxreset.contract import Library
from ctxreset.libraries import load_library
from ctxreset.matrix.loader import load_matrix_for_command, matrix_hash, short_python
from ctxreset.matrix.plan import library_scenarios
from ctxreset.records import CellResult, provenance, write_atomically, write_cell
from ctxreset.run.cell import run_cell
from ctxreset.settings import DEFAULT_TIMEOUT
from ctxreset.sweep.results import RUNNER_FILE

FIX = "none"
REPORTED_PACKAGES = ("openai-agents", "openai", "pydantic", "httpx", "griffe")


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, with where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}{where}"[:500]


def package_versions(package: str = "openai-agents") -> dict[str, Optional[str]]:
    found: dict[str, Optional[str]] = {}
    for name in (package, *(n for n in REPORTED_PACKAGES if n != package)):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


IMPORT_NAMES = {"openai-agents": "agents", "sentry-sdk": "sentry_sdk",
                "opentelemetry-sdk": "opentelemetry.sdk", "pydantic-ai-slim": "pydantic_ai"}
"""What each library is imported as (a release that fails to import is "not importable")."""


def load_release(package: str = "openai-agents") -> tuple[Optional[Library], str, str]:
    """The adapter for the installed release of ``package``, or None with the status and
    reason."""
    try:
        importlib.import_module(IMPORT_NAMES.get(package, package.replace("-", "_")))
    except BaseException as exc:  # a broken release may raise anything on import
        return None, "not importable", one_line(exc)
    try:
        return load_library(package), "ran", ""
    except Exception as exc:
        return None, "not supported", f"does not work with this release: {one_line(exc)}"


def sweep_target(package: str, version: Optional[str]) -> str:
    """The target id a release's cells are written under."""
    return f"{'agents' if package == 'openai-agents' else package}-{version}"


def _crashed(target: str, scenario: str, loop: str, exc: BaseException) -> CellResult:
    python = short_python(platform.python_version())
    return CellResult(python, target, FIX, scenario, loop, "error",
                      reason=f"the cell runner raised: {one_line(exc)}")


def run_release(out: Path, loop: str, scenarios: list[str], timeout: float,
                package: str = "openai-agents") -> dict[str, Any]:
    """Every scenario against the installed release; returns what goes into runner.json."""
    started = time.perf_counter()
    packages = package_versions(package)
    library, status, reason = load_release(package)
    outcome: dict[str, Any] = {"status": status, "reason": reason, "packages": packages,
                               "loop": loop, "cells": 0}
    if library is None:
        return outcome
    target = sweep_target(package, packages[package])
    env = provenance(matrix_hash())
    for scenario in scenarios:
        try:
            result = run_cell(library, scenario, FIX, loop, target=target, timeout=timeout)
        except Exception as exc:  # the harness's fault or the release's: recorded, not fatal
            result = _crashed(target, scenario, loop, exc)
        write_cell(out, result, env)
        outcome["cells"] += 1
        print(f"{target} {scenario}[{loop}]: {result.status} {' '.join(result.failing)}",
              flush=True)
    outcome["duration_s"] = round(time.perf_counter() - started, 3)
    return outcome


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ctxreset.sweep.cli",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True,
                        help="this release's results directory (results/sweep/<version>)")
    parser.add_argument("--loop", default="asyncio")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per cell, s")
    parser.add_argument("--scenario", action="append",
                        help="default: those matrix.yaml runs on a target of the package")
    parser.add_argument("--package", help="default: matrix.yaml's sweep: package")
    args = parser.parse_args(argv)
    matrix = load_matrix_for_command()
    if matrix is None:
        return 2
    if args.loop not in matrix.loops:
        print(f"--loop: bad value {args.loop!r}; allowed: {', '.join(matrix.loops)}",
              file=sys.stderr)
        return 2
    package = args.package or (matrix.sweep.package if matrix.sweep else "openai-agents")
    if canonicalize_name(package) not in LIBRARIES:
        print(f"--package: bad value {package!r}; allowed: {', '.join(LIBRARIES)}",
              file=sys.stderr)
        return 2
    package = canonicalize_name(package)
    scenarios = args.scenario or list(library_scenarios(matrix, package))
    outcome = run_release(args.out, args.loop, scenarios, args.timeout, package)
    python = short_python(platform.python_version())
    write_atomically(args.out / f"py{python}" / RUNNER_FILE, outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
