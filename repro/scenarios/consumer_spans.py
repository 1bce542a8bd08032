"""The consumer, in another task, opens a ``custom_span`` for each event it handles.

Stands for instrumented user code (logging, persistence, post-processing) that traces its
own work per event. Those spans belong in the run's trace; a fix that hides the trace from
the consumer turns them into no-op spans.
"""

import asyncio

from ctxreset.repro.consumer import consume

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe) -> None:
    probe.opens_consumer_spans = True
    run = probe.new_run()
    run.result = library.start_run(run)
    await asyncio.create_task(consume(library, probe, run, open_spans=True))
