"""One cell: a scenario, on one library, with one fix applied, on one event loop.

The scenario runs in a fresh ``contextvars.Context`` on a loop the harness builds itself (no
test runner's Context or loop is involved), with every error channel captured; then the
checker judges it.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import platform
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import fixes
from harness.checker import Verdict, check
from harness.errors import ErrorSink
from harness.loops import LoopUnavailable, new_loop, run_on_loop
from harness.matrix import short_python
from harness.plan import CellId
from harness.probe import Probe
from harness.recorder import RecordingProcessor
from harness.targets import Library
from harness.watchdog import CellTimeout, deadline
from repro.consumer import snapshot
from repro.scenarios import get_scenario

DEFAULT_TIMEOUT = 10.0
"""Seconds a scenario may run before it is cancelled and its cell recorded "timeout"."""
HARD_DEADLINE_FACTOR = 2.0
"""At this multiple of the timeout, a loop blocked in synchronous code is interrupted."""
CANCEL_GRACE = 1.0
"""Seconds a timed-out scenario gets to finish after it is cancelled."""

DIED = (
    "the process running this cell died before the cell finished (a crash, or a hard kill "
    "by pytest-timeout); this record was written when the cell started"
)
INTERRUPTED = "not run (interrupted)"


@dataclass
class CellResult:
    python: str  # the matrix's "3.11"; the exact version is in the results file's provenance
    target: str  # the matrix's target id
    fix: str
    scenario: str
    loop: str
    status: str  # "checked", "timeout", "error", "not run"
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str = ""
    duration_s: float = 0.0

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(n for n, p in self.properties.items() if p["status"] == "fail")

    @property
    def cell(self) -> CellId:
        return CellId(self.python, self.target, self.fix, self.scenario, self.loop)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


async def _settle() -> None:
    """Let finalizers that gc triggers (async generator aclose tasks) run now, not later."""
    gc.collect()
    for _ in range(5):
        await asyncio.sleep(0)


def run_cell(
    library: Library,
    scenario: str,
    fix: str,
    loop: str,
    *,
    target: str = "",
    timeout: float = DEFAULT_TIMEOUT,
) -> CellResult:
    """Run one cell; ``target`` is the matrix's id for ``library`` (default: its label)."""
    result = CellResult(
        python=short_python(platform.python_version()),
        target=target or library.target_label,
        fix=fix,
        scenario=scenario,
        loop=loop,
        status="checked",
    )
    scenario_fn = get_scenario(scenario)
    started = time.perf_counter()
    # Everything alive now belongs to the process, not to this cell: freeze it, so the full
    # collections below (which drive async generator finalizers deterministically) scan only
    # this cell's objects. Without this they dominate a cell's time.
    gc.freeze()
    try:
        event_loop = new_loop(loop)
    except LoopUnavailable as exc:
        result.status, result.reason = "not run", str(exc)
        return result

    recorder = RecordingProcessor()
    library.install_recorder(recorder)
    probe = Probe(
        events=recorder.events,
        model_spans=library.model_spans,
        current=lambda: (library.current_trace_id(), library.current_span_id()),
    )
    sink = ErrorSink()
    sink.watch_loop(event_loop)

    async def body() -> None:
        snapshot(library, probe, "caller before")
        await scenario_fn(library, probe)
        await _settle()
        snapshot(library, probe, "caller after")

    def timed_out(why: str) -> None:
        result.status = "timeout"
        result.reason = result.reason or why

    async def main() -> None:
        task = asyncio.ensure_future(body())
        await asyncio.wait({task}, timeout=timeout)
        if not task.done():
            timed_out(f"scenario did not finish within {timeout:g} s")
            task.cancel()  # and do not wait for ever: it may ignore cancellation
            await asyncio.wait({task}, timeout=CANCEL_GRACE)
        elif task.cancelled():
            sink.add("raised", "CancelledError: the scenario was cancelled")
        elif task.exception() is not None:
            sink.add_exception("raised", task.exception())  # type: ignore[arg-type]

    with sink.capturing(), fixes.applied(fix, library):
        hard_deadline = timeout * HARD_DEADLINE_FACTOR
        try:
            with deadline(hard_deadline) as hard:
                contextvars.Context().run(run_on_loop, event_loop, main)
        except CellTimeout:
            pass  # raised into the loop itself rather than into one of its tasks
        except Exception as exc:  # the loop itself failed: nothing it ran can be vouched for
            result.status = "error"
            result.reason = f"the event loop failed: {type(exc).__name__}: {exc}"
        if hard.fired:
            timed_out(f"the event loop was blocked past the hard deadline of {hard_deadline:g} s")
        sink.collect_unretrieved()
        gc.collect()

    verdict: Verdict = check(probe, recorder.events, sink.errors, sink.notes)
    result.properties = {
        name: {"status": prop.status, "evidence": list(prop.evidence)}
        for name, prop in verdict.properties.items()
    }
    result.errors = [
        {"source": e.source, "summary": e.summary, "detail": e.detail} for e in sink.errors
    ]
    result.notes = verdict.notes
    result.duration_s = round(time.perf_counter() - started, 4)
    return result

