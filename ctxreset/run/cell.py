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
from typing import Optional

from ctxreset import fixes
from ctxreset.contract import Library
from ctxreset.matrix.loader import short_python
from ctxreset.probe import Probe
from ctxreset.records import CellResult
from ctxreset.repro.consumer import snapshot
from ctxreset.repro.scenarios import get_scenario
from ctxreset.run.checker import CellJudgement, check
from ctxreset.run.errors import ErrorSink
from ctxreset.run.loops import LoopUnavailable, new_loop, new_seeded_loop, run_on_loop
from ctxreset.run.watchdog import CellTimeout, deadline
from ctxreset.settings import DEFAULT_TIMEOUT

HARD_DEADLINE_FACTOR = 2.0
"""At this multiple of the timeout, a loop blocked in synchronous code is interrupted."""
CANCEL_GRACE = 1.0
"""Seconds a timed-out scenario gets to finish after it is cancelled."""


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
    target: str,
    timeout: float = DEFAULT_TIMEOUT,
    seed: Optional[int] = None,
) -> CellResult:
    """Run one cell; ``target`` is the matrix's target id that ``library`` stands for.

    With a ``seed``, the scenario runs on the seeded loop (``ctxreset.run.loops.SeededLoop``:
    asyncio with its ready callbacks in the order that seed draws) instead of ``loop``, which
    then only names the cell (``nox -s explore``)."""
    result = CellResult(
        python=short_python(platform.python_version()),
        target=target,
        fix=fix,
        scenario=scenario,
        loop=loop,
        status="checked",
    )
    scenario_fn = get_scenario(scenario)
    started = time.perf_counter()
    # Everything alive now belongs to the process, not to this cell: freeze it, so the full
    # collections below (which drive async generator finalizers deterministically) scan only
    # this cell's objects. Without this they dominate a cell's time. Collect first: the last
    # cell's loop, tasks and probe become garbage only when it returns, and frozen they would
    # never be freed (every later cell's asyncio.all_tasks() would walk them all).
    gc.collect()
    gc.freeze()
    try:
        event_loop = new_loop(loop) if seed is None else new_seeded_loop(seed)
    except LoopUnavailable as exc:
        result.status, result.reason = "not run", str(exc)
        return result

    recording = library.start_recording()
    probe = Probe(
        events=recording.events,
        model_spans=library.model_spans,
        current=library.current_state,
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
        sink.release(event_loop)
        gc.collect()

    verdict: CellJudgement = check(probe, recording.events, sink.errors, sink.notes)
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

