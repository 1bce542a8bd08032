"""The consumer hands each event to a child task (``create_task``) that traces its work.

Stands for per-event work fanned out by the code reading the stream: persisting a message,
calling a webhook, updating a UI, each instrumented with a span. Those spans are the run's
too: a fix that keeps the run's trace from the consumer's children loses them.
"""

import asyncio

from ctxreset.repro.consumer import Placement, consumer_span, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    probe.opens_consumer_spans = True
    run = probe.new_run()
    run.result = library.start_run(run)

    async def child(number: int) -> None:
        with consumer_span(library, run, f"child-{number}"):
            await asyncio.sleep(0)

    async def handle(number: int) -> None:
        await asyncio.create_task(child(number))

    await place.run(drain(library, probe, run, handle=handle))
    await let_go(library, probe, run)
