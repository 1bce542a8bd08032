"""The consumer starts a background task per event and does not wait for it; the tasks run
on after the stream has ended, and are awaited only at the end.

Stands for fire-and-forget work per streamed event (``asyncio.create_task(save(event))``,
kept in a set so it is not collected): persisting each chunk, pushing it to analytics. Each
task first waits (a connection from a pool) and only then opens its span, over a loop turn,
so the task spawned for the last event opens its span after the stream has ended. Those
spans are the run's: they belong in its trace, and the trace should not be ended under them.
"""

import asyncio

from ctxreset.repro.consumer import Placement, consumer_span, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    probe.opens_consumer_spans = True
    run = probe.new_run()
    run.result = library.start_run(run)
    background: set[asyncio.Task[None]] = set()

    async def save(number: int) -> None:
        await asyncio.sleep(0)  # a connection from the pool first
        await asyncio.sleep(0)
        with consumer_span(library, run, f"save-{number}"):
            await asyncio.sleep(0)  # the write itself

    async def handle(number: int) -> None:
        task = asyncio.ensure_future(save(number))
        background.add(task)
        task.add_done_callback(background.discard)

    await place.run(drain(library, probe, run, handle=handle))
    await asyncio.gather(*background)
    await let_go(library, probe, run)
