"""Right after starting the run, the caller spawns a task for work of its own, traced, then
reads the stream (or hands it to its reader) and awaits that task at the end.

Stands for a handler that records the request or notifies another service in the
background while the answer streams (``asyncio.create_task(save_request())``). The task is
created before the first read, so it sees whatever the caller's Context showed then: the
unpatched library shows the run's trace there, so the task's span joins the run's trace; a
fix that shows the trace only where the stream is read turns it into a no-op span.
"""

import asyncio

from ctxreset.repro.consumer import Placement, consumer_span, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    probe.opens_consumer_spans = True
    run = probe.new_run()
    run.result = library.start_run(run)

    async def record_request() -> None:
        with consumer_span(library, run, "record-request"):
            await asyncio.sleep(0)  # the write itself

    side = asyncio.create_task(record_request())
    await place.run(drain(library, probe, run))
    await side
    await let_go(library, probe, run)
