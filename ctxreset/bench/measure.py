"""What a fix costs: one same-task streamed run, and one event, relative to ``none``.

    python -m ctxreset.bench [--target agents-0.0.11] [--loop asyncio] [--repeats N]
                            [--runs N] [--long-deltas N] [--long-runs N] [--out FILE.json]

Defaults come from ``matrix.yaml``'s ``bench:`` section; the file goes to
``results/bench/py<python>-<target>-<loop>.json`` (written atomically) and a table is printed.
``nox -s bench`` runs it for every loop in that section. A benchmark, not a test: it never
fails on a timing.

Method, chosen so that only ratios measured side by side count:

- The workload is the ``same_task`` scenario itself (the one unpatched works in):
  ``start_run`` then ``stream_events`` consumed in the same task. A *short* sample is
  ``runs`` runs of the default 5-delta script; a *long* sample is ``long_runs`` runs of a
  ``long_deltas``-delta script. Each run is timed alone and a sample's figure is its median
  run (a run preempted by another process on a shared core does not move it). Per run = the
  short sample's figure; per event = the slope from the short to the long figure, per event
  the consumer received.
- Every fix that ``matrix.yaml`` applies to the target is measured in this one process, on
  the same interpreter and loop, and so is a reference that is not a fix:
  ``interposition`` (``ctxreset.bench.interposition``), pass-through wrappers at the points
  a streamed-shape fix patches, the toll of patching in at all before any logic. In each
  repeat every fix runs one short and one long sample (applied, measured, reverted); the
  order rotates by one fix per repeat, so each fix takes each position equally often and
  drift hits all alike. A fix's cost is the median of its per-repeat ratios ``fix / none``,
  with their quartiles and extremes. Fixes that apply to other targets (``upstream``:
  another release) cannot share a process with this one; they are listed as n/a with that
  reason.
- Each sample runs on a new loop from ``ctxreset.run.loops.new_loop`` in a fresh
  ``contextvars.Context``; the clock (``time.perf_counter_ns``) covers only the runs, not
  building or closing the loop.
- Garbage collection stays enabled (a fix that makes more garbage pays for it), but every
  sample starts the same way: ``gc.collect()`` then ``gc.freeze()``, so collections during
  the sample scan only the sample's own objects.
- One warm-up repeat, not recorded, comes first. A ``RecordingProcessor`` is the only trace
  processor (the default OpenAI exporter is never active); after each sample every run is
  checked (deltas, final output, one trace started and ended), so a fix that breaks the
  scenario is reported, not timed.
"""

from __future__ import annotations

import argparse
import contextvars
import gc
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ctxreset import fixes
from ctxreset.bench import interposition
from ctxreset.bench.stats import (
    Spread,
    figure,
    format_ns,
    format_ratio,
    per_event,
    spread,
    within_budget,
)
from ctxreset.catalogue import INTERPOSITION, INTERPOSITION_WRAPPERS
from ctxreset.contract import Library, Recording
from ctxreset.libraries import installed_targets, installed_version, library_for, library_name
from ctxreset.matrix.loader import (
    Bench,
    Matrix,
    MatrixError,
    load_matrix,
    matrix_hash,
    short_python,
)
from ctxreset.probe import Probe, RunRecord
from ctxreset.records import provenance, write_atomically
from ctxreset.repro.model_script import ModelScript
from ctxreset.repro.scenarios import get_scenario
from ctxreset.run.loops import LoopUnavailable, new_loop, run_on_loop
from ctxreset.settings import SettingError, whole_number

SCHEMA_VERSION = 1
BASELINE = "none"
SCENARIO = "same_task"


class BenchError(RuntimeError):
    """The benchmark cannot run or a sample did not do what the scenario asks."""


@dataclass
class ScriptedProbe(Probe):
    """A Probe whose runs use ``script`` unless the scenario names one."""

    script: ModelScript = field(default_factory=ModelScript)

    def new_run(self, script: Optional[ModelScript] = None, **kwargs: Any) -> RunRecord:
        return super().new_run(script or self.script, **kwargs)


@dataclass(frozen=True)
class Sample:
    ns_per_run: float
    events_per_run: float


@dataclass
class FixTimings:
    """One fix's samples, one short and one long per repeat."""

    short: list[Sample] = field(default_factory=list)
    long: list[Sample] = field(default_factory=list)

    def run_ns(self) -> list[float]:
        return [s.ns_per_run for s in self.short]

    def event_ns(self) -> list[float]:
        return [per_event(s.ns_per_run, long.ns_per_run, s.events_per_run, long.events_per_run)
                for s, long in zip(self.short, self.long)]


def _check_sample(probe: Probe, recorder: Recording, problems: list[str]) -> None:
    """Every run delivered its deltas and output and had one trace started and ended."""
    for run in probe.runs:
        if run.consumer_error is not None:
            problems.append(f"run {run.index}: the consumer got {run.consumer_error!r}")
        elif tuple(run.texts) != run.expect_texts or run.final_output != run.expect_final_output:
            problems.append(f"run {run.index}: output differs from the script")
    kinds = [event.kind for event in recorder.events]
    for kind in ("trace_start", "trace_end"):
        if kinds.count(kind) != len(probe.runs):
            problems.append(f"{kinds.count(kind)} {kind} events for {len(probe.runs)} runs")
    if problems:
        raise BenchError("; ".join(problems[:3]))


def run_sample(library: Library, loop: str, script: ModelScript, runs: int) -> Sample:
    """``runs`` same-task runs of ``script`` on a new loop: the median run's time, and the
    events per run."""
    scenario = get_scenario(SCENARIO)
    recorder = library.start_recording()
    probe = ScriptedProbe(script=script)
    problems: list[str] = []
    elapsed: list[int] = []  # one per run
    event_loop = new_loop(loop)
    event_loop.set_exception_handler(lambda _loop, context: problems.append(
        f"loop exception handler: {context.get('exception') or context.get('message')}"))

    async def main() -> None:
        for _ in range(runs):
            started = time.perf_counter_ns()
            await scenario(library, probe)
            elapsed.append(time.perf_counter_ns() - started)

    gc.collect()
    gc.freeze()
    contextvars.Context().run(run_on_loop, event_loop, main)
    _check_sample(probe, recorder, problems)
    events = sum(run.events for run in probe.runs) / runs
    return Sample(statistics.median(elapsed), events)


@dataclass(frozen=True)
class Settings:
    target: str
    loop: str
    repeats: int
    runs: int
    long_deltas: int
    long_runs: int
    budget: float


@contextmanager
def _applied(name: str, library: Library) -> Iterator[None]:
    """Fix ``name``, or the interposition reference, applied for the block."""
    if name != INTERPOSITION:
        with fixes.applied(name, library):
            yield
        return
    undo = interposition.interpose(library.points)
    try:
        yield
    finally:
        undo()


def measure(library: Library, measured: list[str], settings: Settings) -> dict[str, FixTimings]:
    """Every fix in ``measured``, interleaved, rotating the order by one fix per repeat."""
    short_script = ModelScript()
    long_script = ModelScript(deltas=tuple(f"w{i} " for i in range(settings.long_deltas)))
    timings = {fix: FixTimings() for fix in measured}
    warmup = [(f, max(1, settings.runs // 10), max(1, settings.long_runs // 2)) for f in measured]
    try:
        for fix, runs, long_runs in warmup:
            with _applied(fix, library):
                run_sample(library, settings.loop, short_script, runs)
                run_sample(library, settings.loop, long_script, long_runs)
        for repeat in range(settings.repeats):
            shift = repeat % len(measured)
            for fix in measured[shift:] + measured[:shift]:
                with _applied(fix, library):
                    timings[fix].short.append(
                        run_sample(library, settings.loop, short_script, settings.runs))
                    timings[fix].long.append(
                        run_sample(library, settings.loop, long_script, settings.long_runs))
    finally:
        gc.unfreeze()
    return timings


def summarise(
    matrix: Matrix, target: str, timings: dict[str, FixTimings], budget: float
) -> list[dict[str, Any]]:
    """One entry per fix in matrix.yaml: baseline, measured (ratios to none) or n/a."""
    base = timings[BASELINE]
    entries: list[dict[str, Any]] = []
    for fix, targets in matrix.fixes.items():
        if fix not in timings:
            entries.append({"fix": fix, "status": "n/a", "reason": (
                f"applies to {', '.join(targets) or 'no target'}, not {target}: another release "
                "cannot share the process (nox -s bench times it in processes of its own)")})
            continue
        entry = {"fix": fix, "status": "baseline" if fix == BASELINE else "measured",
                 **_figures(timings[fix], base)}
        # per run, the baseline is never <= 0, so per_run["ratio"] is always there
        entry["within_budget"] = None if fix == BASELINE else within_budget(
            Spread.from_dict(entry["per_run"]["ratio"]), budget)
        entries.append(entry)
    if INTERPOSITION in timings:
        entries.append({"fix": INTERPOSITION, "status": "reference",
                        **_figures(timings[INTERPOSITION], base), "within_budget": None})
    return entries


def _figures(timings: FixTimings, base: FixTimings) -> dict[str, Any]:
    """Per run and per event, as figures against the baseline's timings."""
    return {"per_run": figure(timings.run_ns(), base.run_ns()),
            "per_event": figure(timings.event_ns(), base.event_ns())}


def _ratio_text(figure: dict[str, Any]) -> str:
    ratio = figure["ratio"]
    return "n/a (noise)" if ratio is None else format_ratio(Spread.from_dict(ratio))


def print_table(payload: dict[str, Any]) -> None:
    bench = payload["bench"]
    print(f"\nbench: Python {payload['python']} ({bench['library']}), loop {bench['loop']}, "
          f"scenario {bench['scenario']}, {bench['repeats']} repeats; per run: "
          f"{bench['runs']} runs x {bench['short_events']:g} events; per event: slope to "
          f"{bench['long_runs']} runs x {bench['long_events']:g} events")
    rows = [("fix", "per run", "vs none (median, IQR)", "per event", "vs none (median, IQR)",
             f"within +{bench['budget']:.0%}/run")]
    not_applicable = []
    for entry in bench["fixes"]:
        if entry["status"] == "n/a":
            not_applicable.append(f"{entry['fix']}: n/a: {entry['reason']}")
            continue
        run, event = entry["per_run"], entry["per_event"]
        is_base = entry["status"] == "baseline"
        is_reference = entry["status"] == "reference"
        rows.append((
            entry["fix"],
            format_ns(run["ns"]["median"]),
            "baseline" if is_base else _ratio_text(run),
            format_ns(event["ns"]["median"]),
            "baseline" if is_base else _ratio_text(event),
            "" if is_base else "(reference)" if is_reference else (
                "yes" if entry["within_budget"] else "NO"),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    for line in not_applicable:
        print(line)
    if any(entry["status"] == "reference" for entry in bench["fixes"]):
        print(f"{INTERPOSITION}: not a fix; {INTERPOSITION_WRAPPERS} (what patching in "
              "costs before any logic).")
    print("Absolute times are noisy on a shared machine; the ratios were timed side by side.")


def _library_for(matrix: Matrix, target: str) -> Library:
    if target not in installed_targets(matrix):
        name = library_name(matrix, target)
        version = installed_version(name)
        found = f"{name}=={version}" if version else f"no {name}"
        raise BenchError(f"--target {target} needs {matrix.targets[target].requirement}; "
                         f"this environment has {found}")
    return library_for(matrix, target)


def default_out(target: str, loop: str) -> Path:
    python = short_python(platform.python_version())
    return Path("results") / "bench" / f"py{python}-{target}-{loop}.json"


def run_bench(matrix: Matrix, settings: Settings) -> dict[str, Any]:
    """Measure, and return the results file's payload (with provenance)."""
    library = _library_for(matrix, settings.target)
    measured = list(matrix.fixes_for(settings.target))
    if BASELINE not in measured:
        raise BenchError(f"the baseline fix {BASELINE!r} does not apply to {settings.target}")
    if getattr(library, "points", None) is not None:  # a streamed run to patch in at
        measured.append(INTERPOSITION)
    timings = measure(library, measured, settings)
    base = timings[BASELINE]
    return {
        "schema_version": SCHEMA_VERSION,
        "bench": {
            "python": short_python(platform.python_version()),
            "target": settings.target,
            "library": library.label,
            "loop": settings.loop,
            "scenario": SCENARIO,
            "baseline": BASELINE,
            "repeats": settings.repeats,
            "runs": settings.runs,
            "long_runs": settings.long_runs,
            "long_deltas": settings.long_deltas,
            "short_events": spread([s.events_per_run for s in base.short]).median,
            "long_events": spread([s.events_per_run for s in base.long]).median,
            "budget": settings.budget,
            "fixes": summarise(matrix, settings.target, timings, settings.budget),
        },
        **provenance(matrix_hash()),
    }


def _settings(args: argparse.Namespace, bench: Optional[Bench]) -> Settings:
    def pick(name: str) -> Any:
        value = getattr(args, name)
        if value is None:
            if bench is None:
                raise BenchError(f"--{name.replace('_', '-')} is needed: matrix.yaml has no "
                                 "bench: section")
            value = getattr(bench, name)
        return value

    loop = args.loop or (bench.loops[0] if bench else "asyncio")
    budget = bench.budget if bench else 0.05
    return Settings(pick("target"), loop, pick("repeats"), pick("runs"), pick("long_deltas"),
                    pick("long_runs"), budget)


def _at_least(name: str, minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``minimum`` (``--runs 0`` would divide by zero)."""
    def parse(text: str) -> int:
        try:
            return whole_number(f"--{name}", text, minimum)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None
    return parse


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ctxreset.bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--target", help="a matrix.yaml target installed here")
    parser.add_argument("--loop", help="a loop name from ctxreset.run.loops")
    for name in ("repeats", "runs", "long-deltas", "long-runs"):  # matrix_schema's minimums
        parser.add_argument(f"--{name}", type=_at_least(name, 10 if name == "long-deltas" else 1),
                            metavar="N")
    parser.add_argument("--out", type=Path, metavar="FILE.json")
    parser.add_argument("--only", metavar="FIX", help="time this fix alone and write its raw "
                        "samples (one process of a pair the release comparison alternates)")
    args = parser.parse_args(argv)
    try:
        matrix = load_matrix()
        settings = _settings(args, matrix.bench)
        if settings.target not in matrix.targets:
            raise BenchError(f"--target: bad value {settings.target!r}; allowed: "
                             f"{', '.join(matrix.targets)}")
        if args.only is not None:
            if args.only not in matrix.fixes_for(settings.target):
                raise BenchError(f"--only: {args.only!r} does not apply to {settings.target}")
            timings = measure(_library_for(matrix, settings.target), [args.only], settings)
            write_atomically(args.out or Path("samples.json"), {
                "fix": args.only, "target": settings.target, "loop": settings.loop,
                "run_ns": timings[args.only].run_ns(), "event_ns": timings[args.only].event_ns()})
            return 0
        payload = run_bench(matrix, settings)
    except (MatrixError, BenchError, LoopUnavailable, ValueError) as exc:
        print(f"ctxreset.bench.measure: {exc}", file=sys.stderr)
        return 2
    out = args.out or default_out(settings.target, settings.loop)
    write_atomically(out, payload)
    print_table(payload)
    print(f"wrote {out}")
    return 0
