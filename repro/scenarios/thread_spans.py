"""The consumer hands part of each event's work to a worker thread
(``asyncio.to_thread``), which traces it with the run's trace current.

Stands for blocking work per event done off the loop: a synchronous database or file write,
a CPU-bound step, instrumented with a span inside the thread. ``to_thread`` runs the
function in a copy of the consumer's Context, so its span belongs in the run's trace, like a
child task's. The write is slow: it returns only once the run has finished streaming (the
model is done while the consumer still persists), so the order does not depend on how the
OS schedules the thread.
"""

import asyncio
import threading

from ctxreset.repro.consumer import Placement, consumer_span, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe

SLOWEST_WRITE = 5.0
"""Seconds a write waits for the run at most (well inside a cell's timeout)."""


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    probe.opens_consumer_spans = True
    run = probe.new_run()
    run.result = library.start_run(run)
    run_done = threading.Event()
    task = library.run_task(run.result)
    if task is None:
        run_done.set()
    else:
        task.add_done_callback(lambda _task: run_done.set())

    def write(number: int) -> None:
        with consumer_span(library, run, f"write-{number}"):
            run_done.wait(SLOWEST_WRITE)

    async def handle(number: int) -> None:
        await asyncio.to_thread(write, number)

    await place.run(drain(library, probe, run, handle=handle))
    await let_go(library, probe, run)
