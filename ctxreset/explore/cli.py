"""Run cells under seeded schedules, or replay one cell under one seed.

    python -m ctxreset.explore [--target T]... [--fix F]... [--scenario S]... [--seeds N]
                               [--first-seed K] [--budget SECONDS] [--jobs J] [--results DIR]
    python -m ctxreset.explore --target T --fix F --scenario S --seed K     # replay one

Exploring: for each (target, fix, scenario) of the installed targets (matrix.yaml's
``explore:`` gives the defaults; its ``exclude:`` scenarios are left out, with their reason
in ``run.json``), the cell runs once in the default order (the plain asyncio loop), then
under each seed on ``ctxreset.run.loops.SeededLoop``; the first seed of each outcome that
differs from the default order is run again to check that it replays. Cells are spread over
``--jobs`` processes (default: every core), each running cells in-process (no pytest), and
written as each finishes (``ctxreset.explore.results``). When the budget runs out, no new
cell starts; those left are listed in ``run.json`` as not explored.

Replaying (``--seed``): one cell under one seed; prints its outcome and evidence and, when
the cell was explored, whether it ends as recorded for that seed (exit 0) or not (exit 1).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Optional

from ctxreset.catalogue import judged_on
from ctxreset.explore.results import (
    RUN_FILE,
    ExploredCell,
    Outcome,
    ScheduleGroup,
    cell_file,
    cell_payload,
    explore_root,
    parse_cell,
)
from ctxreset.libraries import installed_targets, library_for
from ctxreset.matrix.loader import (
    Matrix,
    load_matrix,
    load_matrix_for_command,
    matrix_hash,
    short_python,
)
from ctxreset.records import CellResult, Problem, provenance, read_json, write_atomically
from ctxreset.run.cell import run_cell
from ctxreset.settings import DEFAULT_TIMEOUT, SettingError, positive_seconds, whole_number

DEFAULT_LOOP = "asyncio"
EXPLORED_LOOP = "seeded"
EVIDENCE_LINES = 3
EVIDENCE_CHARS = 300

Unit = tuple[str, str, str]  # (target, fix, scenario)


def _outcome(result: CellResult) -> Outcome:
    return Outcome(result.status, tuple(result.failing), result.reason)


def _evidence(result: CellResult) -> dict[str, list[str]]:
    shown = {prop: [line[:EVIDENCE_CHARS] for line in lines[:EVIDENCE_LINES]]
             for prop, lines in result.evidence.items()}
    if result.status != "checked":
        shown[result.status] = [result.reason[:EVIDENCE_CHARS]]
    return shown


def _run(matrix: Matrix, unit: Unit, seed: Optional[int], timeout: float) -> CellResult:
    target, fix, scenario = unit
    result = run_cell(library_for(matrix, target), scenario, fix,
                      DEFAULT_LOOP if seed is None else EXPLORED_LOOP,
                      target=target, timeout=timeout, seed=seed)
    # run_cell freezes whatever is alive when it starts (gc.freeze); the run's own objects
    # are cyclic garbage once it returns, and the next run would freeze them for good: about
    # 300 objects a run, which slows every later run (measured: 17 ms a run growing to 60 ms
    # over 900 runs). Collected now, while the collection scans only this run's objects.
    gc.collect()
    return result


_MATRIX: Optional[Matrix] = None


def explore_cell(unit: Unit, first_seed: int, seeds: int, timeout: float) -> ExploredCell:
    """One cell: default order, then every seed, then a replay of each differing outcome's
    first seed. Runs in a worker process (the matrix is loaded once per process)."""
    global _MATRIX
    if _MATRIX is None:
        _MATRIX = load_matrix()
    started = time.perf_counter()
    default = _outcome(_run(_MATRIX, unit, None, timeout))
    groups: dict[Outcome, ScheduleGroup] = {}
    for seed in range(first_seed, first_seed + seeds):
        result = _run(_MATRIX, unit, seed, timeout)
        outcome = _outcome(result)
        if outcome not in groups:
            groups[outcome] = ScheduleGroup(outcome, [], _evidence(result))
        groups[outcome].seeds.append(seed)
    for outcome, group in groups.items():
        if outcome != default:
            group.replayed = _outcome(_run(_MATRIX, unit, group.seeds[0], timeout)) == outcome
    target, fix, scenario = unit
    return ExploredCell(short_python(platform.python_version()), target, fix, scenario,
                        default, first_seed, seeds, list(groups.values()),
                        round(time.perf_counter() - started, 3))


def plan_units(matrix: Matrix, targets: list[str], fixes: Optional[list[str]],
               scenarios: Optional[list[str]]) -> tuple[list[Unit], dict[str, str]]:
    """The cells to explore, and the scenarios left out with why."""
    exclude = matrix.explore.exclude if matrix.explore else {}
    left_out = {s: why for s, why in exclude.items() if scenarios is None or s in scenarios}
    units = []
    for target in targets:
        for fix in matrix.fixes_for(target):
            if fixes is not None and fix not in fixes:
                continue
            for scenario in matrix.scenarios:
                if scenario in left_out or (scenarios is not None and scenario not in scenarios):
                    continue
                if not judged_on(fix, scenario):
                    continue  # the fix patches the other shape: here it would be unpatched
                if matrix.excluded(target, scenario, DEFAULT_LOOP, platform.python_version()):
                    continue
                units.append((target, fix, scenario))
    return units, left_out


def _summary(cell: ExploredCell) -> str:
    differing = [f"seed {g.seeds[0]}: {g.outcome.text()} ({len(g.seeds)} seeds)"
                 + ("" if g.replayed else " NOT REPLAYED") for g in cell.differing()]
    return (f"{cell.target} {cell.fix} {cell.scenario}: default {cell.default.text()}; passes "
            f"under {cell.passes} of {cell.seeds} schedules"
            + (f"; differs: {'; '.join(differing)}" if differing else ""))


def _in_flight(executor: ProcessPoolExecutor, units: list[Unit], jobs: int, deadline: float,
               args: argparse.Namespace) -> Iterator[tuple[Unit, Future[ExploredCell]]]:
    """Completed futures, keeping ``jobs`` in flight until the deadline."""
    pending: dict[Future[ExploredCell], Unit] = {}
    queue = list(units)
    while queue or pending:
        while queue and len(pending) < jobs and time.monotonic() < deadline:
            unit = queue.pop(0)
            pending[executor.submit(explore_cell, unit, args.first_seed, args.seeds,
                                    args.timeout)] = unit
        if not pending:
            return
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            yield pending.pop(future), future


def explore(matrix: Matrix, args: argparse.Namespace, targets: list[str]) -> int:
    units, left_out = plan_units(matrix, targets, args.fix, args.scenario)
    root = explore_root(args.results)
    python = short_python(platform.python_version())
    env = provenance(matrix_hash())
    started = time.monotonic()
    deadline = started + args.budget
    print(f"exploring {len(units)} cells x {args.seeds} seeds (from {args.first_seed}) on "
          f"{args.jobs} processes, budget {args.budget:g} s", flush=True)
    explored: list[Unit] = []
    failed: list[str] = []
    with ProcessPoolExecutor(max_workers=args.jobs) as executor:
        for unit, future in _in_flight(executor, units, args.jobs, deadline, args):
            try:
                cell = future.result()
            except Exception as exc:  # a crashed worker or the harness's fault: recorded
                failed.append(f"{' '.join(unit)}: {type(exc).__name__}: {exc}")
                print(f"{' '.join(unit)}: FAILED {type(exc).__name__}: {exc}", flush=True)
                continue
            write_atomically(cell_file(root, python, *unit), cell_payload(cell, env))
            explored.append(unit)
            print(_summary(cell), flush=True)
    not_explored = [" ".join(u) for u in units if u not in explored
                    and " ".join(u) not in {f.split(":")[0] for f in failed}]
    duration = round(time.monotonic() - started, 1)
    write_atomically(root / f"py{python}" / RUN_FILE, {
        "targets": targets, "fixes": args.fix, "scenarios": args.scenario,
        "seeds": args.seeds, "first_seed": args.first_seed, "budget_s": args.budget,
        "jobs": args.jobs, "cells_planned": len(units), "cells_explored": len(explored),
        "runs": len(explored) * (args.seeds + 1), "duration_s": duration,
        "not_explored": not_explored, "failed": failed, "left_out": left_out,
        "written_at": env["written_at"], "matrix_hash": env["matrix_hash"],
    })
    print(f"explored {len(explored)} of {len(units)} cells x {args.seeds} seeds in "
          f"{duration:g} s" + (f"; {len(not_explored)} not explored (budget)"
                               if not_explored else ""), flush=True)
    return 1 if failed else 0


def replay(matrix: Matrix, args: argparse.Namespace) -> int:
    unit: Unit = (args.target[0], args.fix[0], args.scenario[0])
    result = _run(matrix, unit, args.seed, args.timeout)
    outcome = _outcome(result)
    print(f"{' '.join(unit)} under seed {args.seed}: {outcome.text()}")
    for prop, lines in _evidence(result).items():
        for line in lines:
            print(f"  {prop}: {line}")
    path = cell_file(explore_root(args.results), short_python(platform.python_version()), *unit)
    try:
        recorded = parse_cell(read_json(path)).outcome_of(args.seed)
    except (Problem, KeyError):
        print(f"(no explored record of this seed in {path})")
        return 0
    if recorded == outcome:
        print(f"replayed: the same outcome as recorded in {path}")
        return 0
    print(f"DIFFERS from the record in {path}: recorded {recorded.text()}")
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ctxreset.explore",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--target", action="append", help="default: matrix.yaml explore.targets"
                        " that are installed here")
    parser.add_argument("--fix", action="append", help="default: every fix of the target")
    parser.add_argument("--scenario", action="append", help="default: every scenario")
    parser.add_argument("--seeds", help="schedules per cell (default: explore.seeds)")
    parser.add_argument("--first-seed", default="0")
    parser.add_argument("--budget", help="seconds for the run (default: explore.budget)")
    parser.add_argument("--jobs", default=str(os.cpu_count() or 1))
    parser.add_argument("--timeout", default=str(DEFAULT_TIMEOUT), help="per run, seconds")
    parser.add_argument("--seed", help="replay: one cell under this seed")
    parser.add_argument("--results", type=Path, default=Path("results"))
    return parser


def _checked(matrix: Matrix, args: argparse.Namespace) -> Optional[str]:
    """Parse and check the arguments in place; the one-line problem, or None."""
    spec = matrix.explore
    if spec is None:
        return "matrix.yaml has no explore: section"
    try:
        args.seeds = whole_number("--seeds", args.seeds) if args.seeds else spec.seeds
        args.first_seed = whole_number("--first-seed", args.first_seed, minimum=0)
        args.budget = positive_seconds("--budget", args.budget) if args.budget else spec.budget
        args.jobs = whole_number("--jobs", args.jobs)
        args.timeout = positive_seconds("--timeout", args.timeout)
        if args.seed is not None:
            args.seed = whole_number("--seed", args.seed, minimum=0)
    except SettingError as exc:
        return str(exc)
    installed = installed_targets(matrix)
    args.target = args.target or [t for t in spec.targets if t in installed]
    for key, given, allowed in (("--target", args.target, installed),
                                ("--fix", args.fix or [], list(matrix.fixes)),
                                ("--scenario", args.scenario or [], list(matrix.scenarios))):
        for value in given:
            if value not in allowed:
                return f"{key}: bad value {value!r}; allowed: {', '.join(allowed)}"
    if args.seed is not None and not (len(args.target) == len(args.fix or ()) == len(
            args.scenario or ()) == 1):
        return "--seed replays one cell: give exactly one --target, --fix and --scenario"
    return None


def main(argv: Optional[list[str]] = None) -> int:
    args = _parser().parse_args(argv)
    matrix = load_matrix_for_command()
    if matrix is None:
        return 2
    problem = _checked(matrix, args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.seed is not None:
        return replay(matrix, args)
    return explore(matrix, args, args.target)


if __name__ == "__main__":
    sys.exit(main())
