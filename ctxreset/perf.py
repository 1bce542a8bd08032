"""``nox -s perf``: the same warm cells under nox and under tox with tox-uv, timed alternately.

    nox -s perf                                  # every Python installed here, 2 rounds
    nox -s perf -- --rounds 3 --pythons 3.11     # a subset, more rounds
    nox -s perf -- --full                        # also the whole default `nox` (checks, report)

Each round runs every kind once, in an order that rotates from round to round (A B, B A, ...),
after one untimed warm-up round that makes or checks the venvs: what a developer who ran it
before gets. nox runs the cell sessions as a plain ``nox`` does (a nox process per session,
two at once per core, longest first by the recorded durations); tox runs the environments
of the same (Python, target) pairs with ``tox -p auto``, as its tox.ini is written. Each writes
its cells into a directory of its own under ``.nox/perf/``; the two must agree cell by cell.

It prints each kind's median wall time with its spread and the CPU seconds it used (user +
system of every process it started: on a shared machine the CPU a kind needs moves much less
than its wall time), the ratio tox / nox per round (both measured in the same round, so load
that slows a whole round cancels) with its spread, and the limit the cells themselves set: the
sum of every cell's own duration (its results file's ``duration_s``) divided by the cores.
That limit bounds the ratio: with tox at T and the limit at L, nox can be at most T / L times
faster than tox on the same cells unless the cells get cheaper, and then tox gains too. (Cells
that wait, on a timeout or a server, leave a core idle meanwhile: a harness that runs more
cells at once than there are cores can go a little below L.) A benchmark prints figures;
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ctxreset.bench.stats import Spread, ratios, spread
from ctxreset.records import Problem, cell_files, read_cell

NOX, TOX, FULL = "nox", "tox", "nox (full)"


@dataclass(frozen=True)
class Options:
    rounds: int
    pythons: list[str]
    full: bool


class PerfArgumentError(ValueError):
    """A bad argument: one line, exit 2, before anything runs."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise PerfArgumentError(f"perf: {message}")


def parse_args(argv: Sequence[str], known_pythons: Sequence[str]) -> Options:
    """``--rounds N`` (timed rounds, >= 1; default 2), ``--pythons 3.11,3.12`` (default every
    Python of the run), ``--full`` (also time the whole default ``nox``)."""
    parser = _Parser(prog="nox -s perf --", add_help=False)
    parser.add_argument("--rounds", default="2")
    parser.add_argument("--pythons", default=",".join(known_pythons))
    parser.add_argument("--full", action="store_true")
    found = parser.parse_args(list(argv))
    try:
        rounds = int(found.rounds)
    except ValueError:
        rounds = 0
    if rounds < 1:
        raise PerfArgumentError(f"perf: --rounds: bad value {found.rounds!r}; a whole number "
                                ">= 1")
    pythons = [p.strip() for p in found.pythons.split(",") if p.strip()]
    unknown = [p for p in pythons if p not in known_pythons]
    if unknown or not pythons:
        raise PerfArgumentError(f"perf: --pythons: bad value {found.pythons!r}; allowed: "
                                f"{', '.join(known_pythons)}")
    return Options(rounds, pythons, found.full)


def order(kinds: Sequence[str], round_index: int) -> list[str]:
    """The kinds in round ``round_index`` (0-based): rotated by one each round."""
    shift = round_index % len(kinds)
    return [*kinds[shift:], *kinds[:shift]]


@dataclass
class Timings:
    """Wall seconds per kind, one per timed round, in round order, and the CPU seconds (user +
    system, every process the kind started) of the same runs."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def add(self, kind: str, wall: float, cpu: float = 0.0) -> None:
        self.seconds.setdefault(kind, []).append(wall)
        self.cpu.setdefault(kind, []).append(cpu)


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished process this one started, and theirs."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


@dataclass(frozen=True)
class Summary:
    medians: dict[str, Spread]
    tox_over_nox: Spread
    cell_work: float
    cores: int

    @property
    def limit(self) -> float:
        """The cells' own work spread over every core: no harness gets (much) below this."""
        return self.cell_work / self.cores

    @property
    def most_ahead(self) -> float:
        """tox's median over the limit: the most nox can be ahead of tox on these cells."""
        return self.medians[TOX].median / max(self.limit, 1e-9)


def summarize(timings: Timings, cell_work: float, cores: int) -> Summary:
    """Each kind's spread; tox/nox per round (same round: shared drift cancels)."""
    return Summary(
        medians={kind: spread(values) for kind, values in timings.seconds.items()},
        tox_over_nox=spread(ratios(timings.seconds[TOX], timings.seconds[NOX])),
        cell_work=cell_work,
        cores=max(1, cores),
    )


def cell_work(results: Path) -> tuple[float, int]:
    """The sum of the cells' own durations in ``results`` and how many cells ran."""
    total, count = 0.0, 0
    for path in cell_files(results):
        try:
            result = read_cell(path).result
        except Problem:
            continue
        if result.status != "not run":
            total += result.duration_s
            count += 1
    return total, count


def outcomes(results: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each cell's status and failing properties, by its path under ``results``."""
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for path in cell_files(results):
        try:
            result = read_cell(path).result
        except Problem as problem:
            found[path.relative_to(results).as_posix()] = ("unreadable", (str(problem),))
            continue
        found[path.relative_to(results).as_posix()] = (result.status, result.failing)
    return found


def differing(one: Path, other: Path) -> list[str]:
    """The cells whose status or failing set differs between two results directories."""
    a, b = outcomes(one), outcomes(other)
    return sorted(cell for cell in set(a) | set(b) if a.get(cell) != b.get(cell))


def report(summary: Summary, timings: Timings, cells: int, header: str) -> str:
    """The lines the perf command prints (the README quotes them)."""
    lines = [header, f"{'kind':<12} {'median':>8}  spread (min-max)   rounds (wall)"
                     f"{'':<10}CPU median"]
    for kind, values in timings.seconds.items():
        s = summary.medians[kind]
        cpu = timings.cpu.get(kind) or [0.0]
        lines.append(f"{kind:<12} {s.median:7.1f}s  {s.low:6.1f}-{s.high:<6.1f}s    "
                     + f"{' '.join(f'{v:.1f}' for v in values):<22}"
                     + f"{spread(cpu).median:6.1f}s")
    ratio = summary.tox_over_nox
    lines.append(f"tox / nox, per round: x{ratio.median:.2f} (min {ratio.low:.2f}, "
                 f"max {ratio.high:.2f})")
    lines.append(f"cell work: {summary.cell_work:.1f} s in {cells} cells = "
                 f"{summary.limit:.1f} s on {summary.cores} cores (the limit); nox median is "
                 f"x{summary.medians[NOX].median / max(summary.limit, 1e-9):.1f} of it")
    lines.append(f"bound: tox median / limit = x{summary.most_ahead:.2f}, the most nox can be "
                 "ahead of tox on these cells")
    return "\n".join(lines)


Runner = Callable[[str, Path], None]
"""Runs one kind once, writing its cells under the given directory."""


def measure(kinds: Sequence[str], rounds: int, run: Runner, work_dir: Path,
            log: Callable[[str], object], clock: Callable[[], float] = time.perf_counter,
            cpu_clock: Callable[[], float] = children_cpu) -> Timings:
    """One untimed warm-up round, then ``rounds`` timed ones, the order rotating."""
    timings = Timings()
    for index in range(-1, rounds):
        for kind in order(kinds, max(index, 0)):
            out = work_dir / f"{kind.replace(' ', '-').strip('()')}-{index + 1}"
            shutil.rmtree(out, ignore_errors=True)
            started, cpu_before = clock(), cpu_clock()
            run(kind, out)
            wall, cpu = clock() - started, cpu_clock() - cpu_before
            if index >= 0:
                timings.add(kind, wall, cpu)
            log(f"{'warm-up' if index < 0 else f'round {index + 1}'}: {kind}: {wall:.1f} s")
    return timings


def run_logged(command: list[str], log_path: Path, env: Optional[dict[str, str]] = None) -> int:
    """Run ``command`` with its output into ``log_path``; its exit status."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as stream:
        return subprocess.call(command, stdout=stream, stderr=subprocess.STDOUT,
                               env={**os.environ, **(env or {})})


def header(pythons: Sequence[str], sessions: int, cores: int) -> str:
    uname = os.uname()
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"perf {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {uname.sysname} "
            f"{uname.machine}, {cores} cores, load {load} at the end; Pythons "
            f"{', '.join(pythons)}; {sessions} cell sessions")


def write_json(path: Path, summary: Summary, timings: Timings, cells: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "seconds": timings.seconds,
        "cpu_seconds": timings.cpu,
        "medians": {kind: s.to_dict() for kind, s in summary.medians.items()},
        "tox_over_nox": summary.tox_over_nox.to_dict(),
        "cell_work_s": summary.cell_work, "cells": cells, "cores": summary.cores,
    }, indent=1) + "\n")
