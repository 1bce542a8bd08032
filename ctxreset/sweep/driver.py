"""The sweep across releases: one venv per release, the scenarios unpatched in each.

``nox -s sweep`` calls ``run_sweep``. For each release, oldest first, one after another:

1. a venv at ``.nox/sweep/<version>/`` with the sweep's Python (``uv venv``), reused while
   its inputs are unchanged (a stamp file records their hash);
2. ``uv pip install -e <repo>[server] openai-agents==<version> <loop package>`` with
   ``--exclude-newer <upload time + 1 minute>``: every dependency as it was when the release
   came out. Installing a release from 2025 with today's ``openai`` measures how ``openai``
   has drifted since, not the release (0.0.3 with the newest dependencies does not even
   import). The harness's own dependencies (pyyaml, jsonschema, packaging, jinja2, fastapi,
   uvicorn, httpx) have old enough lower bounds to resolve at any date in range; the loop's
   package is the one exception (``--exclude-newer-package``: it is the harness's tool, not
   the library's dependency). The resolved versions, ``openai`` first, are recorded per
   release;
3. ``<venv>/bin/python -m ctxreset.sweep.cli``: every scenario with fix ``none``, one results
   file per cell (``ctxreset.sweep.results`` has the layout);
4. ``release.json``: ``ran``, or why not: ``not installable`` (uv's own one-line reason),
   ``not importable``, ``not supported`` (imports, but the harness's adapter cannot drive
   it), ``runner failed``. Never fatal: the sweep goes on with the next release.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Optional

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from ctxreset.matrix.loader import Matrix, matrix_hash
from ctxreset.matrix.plan import library_extras, library_scenarios
from ctxreset.records import write_atomically
from ctxreset.settings import DEFAULT_TIMEOUT
from ctxreset.sweep.releases import (
    Release,
    ReleaseList,
    fetch_pypi_json,
    format_time,
    parse_releases,
    parse_time,
    select_range,
)
from ctxreset.sweep.results import RELEASE_FILE, RUNNER_FILE, SWEEP_FILE, release_dir, sweep_root

SCHEMA_VERSION = 1
RESOLUTION_MARGIN = timedelta(minutes=1)
REASON_CHARS = 600
NEWEST = "newest"

Log = Callable[[str], None]
Ranges = list[tuple[Optional[str], Optional[str]]]  # (first, last) releases; None: open


@dataclass(frozen=True)
class SweepPlan:
    package: str
    python: str  # short version, "3.11"
    interpreter: str  # its executable
    loop: str
    loop_requirement: Optional[str]
    timeout: float  # per cell
    scenarios: tuple[str, ...]
    repo: Path  # this checkout, installed editable into every venv
    venvs: Path  # .nox/sweep
    results: Path  # results/sweep
    fetched_at: str  # when the release list was fetched; also the loop package's cut-off
    extras: tuple[str, ...] = ()  # what the library's targets install besides it (with:)


def exclude_newer(release: Release) -> str:
    """The resolution cut-off for a release: its upload, plus a minute's margin."""
    return format_time(parse_time(release.uploaded) + RESOLUTION_MARGIN)


def install_command(plan: SweepPlan, release: Release, python: Path) -> list[str]:
    command = ["uv", "pip", "install", "--python", str(python),
               "--exclude-newer", exclude_newer(release)]
    requirements = ["-e", f"{plan.repo}[server]", f"{plan.package}=={release.version}",
                    *plan.extras]
    if plan.loop_requirement:
        name = Requirement(plan.loop_requirement).name
        command += ["--exclude-newer-package", f"{name}={plan.fetched_at}"]
        requirements.append(plan.loop_requirement)
    return command + requirements


def one_line_reason(output: str) -> str:
    """uv's message, on one line: box-drawing and blank lines gone, whitespace collapsed."""
    lines = [line for line in output.splitlines() if line.strip()
             and not line.startswith(("Using Python", "Using CPython", "Resolved", "warning:"))]
    text = " ".join(" ".join(lines).split())
    text = re.sub("[\u00d7\u2570\u2500\u25b6\u2502]+", "", text)  # uv's x and box lines
    text = " ".join(text.split())
    return text[:REASON_CHARS] or "no output"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _digest(plan: SweepPlan, command: list[str]) -> str:
    inputs = [plan.interpreter, *command[4:], (plan.repo / "pyproject.toml").read_text()]
    return hashlib.sha256("\n".join(inputs).encode()).hexdigest()


def ensure_venv(plan: SweepPlan, release: Release, log: Log) -> tuple[Optional[str], dict]:
    """Create or reuse the release's venv; (None, facts) when ready, else (reason, facts)."""
    venv = plan.venvs / release.version
    python = _venv_python(venv)
    command = install_command(plan, release, python)
    stamp = venv / "ctxreset-sweep.sha256"
    digest = _digest(plan, command)
    facts: dict[str, Any] = {"exclude_newer": exclude_newer(release), "venv": str(venv)}
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        facts.update(install_s=0.0, reused=True)
        return None, facts
    started = time.perf_counter()
    if venv.exists():
        shutil.rmtree(venv)
    made = subprocess.run(["uv", "venv", "--quiet", "--python", plan.interpreter, str(venv)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        facts["install_s"] = round(time.perf_counter() - started, 1)
        return f"uv venv failed: {one_line_reason(made.stderr)}", facts
    log(" ".join(command))
    done = subprocess.run(command, capture_output=True, text=True, cwd=plan.repo)
    facts.update(install_s=round(time.perf_counter() - started, 1), reused=False)
    if done.returncode != 0:
        return one_line_reason(done.stderr + done.stdout), facts
    stamp.write_text(digest)
    return None, facts


def run_runner(plan: SweepPlan, release: Release, out: Path) -> tuple[Optional[str], float]:
    """The cells, in the release's venv; (None, seconds) when runner.json was written."""
    python = _venv_python(plan.venvs / release.version)
    command = [str(python), "-m", "ctxreset.sweep.cli",
               "--out", str(plan.results / release.version), "--loop", plan.loop,
               "--timeout", str(plan.timeout), "--package", plan.package]
    limit = plan.timeout * len(plan.scenarios) + 120
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    started = time.perf_counter()
    log_path = plan.venvs / release.version / "sweep_run.log"
    try:
        with open(log_path, "w") as log:
            done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=plan.repo,
                                  env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        return f"runner did not finish within {limit:g} s (log: {log_path})", limit
    seconds = round(time.perf_counter() - started, 1)
    if done.returncode != 0 or not (out / RUNNER_FILE).exists():
        tail = log_path.read_text()[-REASON_CHARS:]
        return f"runner exited {done.returncode}: {one_line_reason(tail)}", seconds
    return None, seconds


def sweep_release(plan: SweepPlan, release: Release, log: Log) -> dict[str, Any]:
    """Install, run and record one release; returns its release.json ``release`` block."""
    out = release_dir(plan.results, release.version, plan.python)
    if out.exists():
        shutil.rmtree(out)  # re-sweeping a release replaces its records, never mixes them
    record: dict[str, Any] = {"version": release.version, "uploaded": release.uploaded,
                              "python": plan.python, "loop": plan.loop, "status": "ran",
                              "reason": "", "packages": {}, "cells": 0, "run_s": 0.0}
    reason, facts = ensure_venv(plan, release, log)
    record.update(facts)
    if reason is not None:
        record.update(status="not installable", reason=reason)
    else:
        reason, record["run_s"] = run_runner(plan, release, out)
        if reason is not None:
            record.update(status="runner failed", reason=reason)
        else:
            runner = json.loads((out / RUNNER_FILE).read_text())
            record.update(status=runner["status"], reason=runner["reason"],
                          packages=runner["packages"], cells=runner["cells"])
    write_atomically(out / RELEASE_FILE, {
        "schema_version": SCHEMA_VERSION, "release": record, "matrix_hash": matrix_hash(),
        "written_at": _now()})
    return record


def _now() -> str:
    return format_time(datetime.now(timezone.utc))


def parse_selection(arguments: Sequence[str]) -> Ranges:
    """``0.0.3..0.0.19``, ``0.1.0..`` (through the newest), ``0.0.11`` or ``newest``, each a
    range (first, last) with None for an open end (``(NEWEST, NEWEST)`` for the newest)."""
    ranges: Ranges = []
    for argument in arguments:
        first, _, last = argument.partition("..") if ".." in argument else (argument, "", argument)
        for bound in (first, last):
            if bound and bound != NEWEST:
                try:
                    Version(bound)
                except InvalidVersion:
                    raise ValueError(f"sweep: bad release {bound!r} in {argument!r}; allowed: "
                                     "X.Y.Z, X.Y.Z..X.Y.Z, X.Y.Z.., ..X.Y.Z, newest") from None
        ranges.append((first or None, last or None))
    return ranges


def select(releases: ReleaseList, ranges: Ranges) -> list[Release]:
    """The union of the ranges, oldest first; ``newest`` is the newest final release."""
    newest = releases.releases[-1].version if releases.releases else None
    chosen: dict[str, Release] = {}
    for first, last in ranges:
        first = newest if first == NEWEST else first
        last = newest if last == NEWEST else last
        for release in select_range(releases.releases, first, last):
            chosen[release.version] = release
    return sorted(chosen.values(), key=lambda r: r.key)


def run_sweep(plan: SweepPlan, releases: ReleaseList, chosen: list[Release],
              ranges: Ranges, log: Log) -> list[dict[str, Any]]:
    """Every chosen release in turn; sweep.json is written first and completed at the end."""
    started, clock = _now(), time.perf_counter()
    meta: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "package": plan.package,
        "python": plan.python,
        "interpreter": plan.interpreter,
        "loop": plan.loop,
        "source": f"https://pypi.org/pypi/{plan.package}/json",
        "fetched_at": plan.fetched_at,
        "releases": [{"version": r.version, "uploaded": r.uploaded} for r in releases.releases],
        "skipped": [{"version": v, "why": why} for v, why in releases.skipped],
        "ranges": [[first, last] for first, last in ranges],
        "selected": [r.version for r in chosen],
        "started_at": started,
        "finished_at": None,
        "duration_s": None,
        "resolution": "each release with its dependencies as of its upload + "
                      f"{int(RESOLUTION_MARGIN.total_seconds())} s (uv --exclude-newer)",
    }
    write_atomically(plan.results / SWEEP_FILE, meta)
    records = []
    for index, release in enumerate(chosen, 1):
        record = sweep_release(plan, release, log)
        records.append(record)
        log(f"[{index}/{len(chosen)}] {plan.package} {release.version}: {record['status']}"
            + (f" ({record['reason'][:160]})" if record["reason"] else "")
            + f"; openai {record['packages'].get('openai') or '-'}; install "
              f"{record.get('install_s', 0)} s, run {record['run_s']} s")
    meta.update(finished_at=_now(), duration_s=round(time.perf_counter() - clock, 1))
    write_atomically(plan.results / SWEEP_FILE, meta)
    return records


def sweep_from_matrix(matrix: Matrix, interpreter: str, arguments: Sequence[str], repo: Path,
                      log: Log) -> list[dict[str, Any]]:
    """What ``nox -s sweep`` does: fetch the release list, choose, sweep.

    ``arguments`` narrow the range (``parse_selection``); by default, matrix.yaml's.
    Raises ``ValueError`` with a one-line message for a bad argument or a missing section.
    """
    spec = matrix.sweep
    if spec is None:
        raise ValueError("matrix.yaml: sweep: missing; add a sweep: section to run the sweep")
    ranges = parse_selection(arguments or [f"{spec.first}..{spec.last or ''}"])
    fetched_at = _now()
    try:
        releases = parse_releases(fetch_pypi_json(spec.package))
    except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
        raise ValueError(f"sweep: cannot fetch the release list of {spec.package} from "
                         f"PyPI: {' '.join(str(exc).split())}") from exc
    chosen = select(releases, ranges)
    if not chosen:
        raise ValueError(f"sweep: no final release of {spec.package} in {' '.join(arguments)}")
    loop = matrix.loops[spec.loop]
    plan = SweepPlan(
        package=spec.package, python=spec.python, interpreter=interpreter, loop=spec.loop,
        loop_requirement=loop.requirement,
        timeout=DEFAULT_TIMEOUT if spec.timeout is None else spec.timeout,
        scenarios=library_scenarios(matrix, spec.package), repo=repo,
        venvs=repo / ".nox" / "sweep", results=sweep_root(repo / "results"),
        fetched_at=fetched_at, extras=library_extras(matrix, spec.package),
    )
    log(f"{len(chosen)} of {len(releases.releases)} {spec.package} releases on Python "
        f"{spec.python}, loop {spec.loop}: {chosen[0].version} .. {chosen[-1].version}")
    return run_sweep(plan, releases, chosen, ranges, log)
