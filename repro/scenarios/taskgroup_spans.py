"""The consumer handles each event in an ``asyncio.TaskGroup`` of two traced children.

Stands for structured per-event work (store the message and notify, concurrently), as
Python 3.11+ code writes it. Both children's spans belong in the run's trace.
"""

import asyncio

from ctxreset.repro.consumer import Placement, consumer_span, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    probe.opens_consumer_spans = True
    run = probe.new_run()
    run.result = library.start_run(run)

    async def child(label: str) -> None:
        with consumer_span(library, run, label):
            await asyncio.sleep(0)

    async def handle(number: int) -> None:
        async with asyncio.TaskGroup() as group:  # type: ignore[attr-defined,unused-ignore]
            group.create_task(child(f"store-{number}"))
            group.create_task(child(f"notify-{number}"))

    await place.run(drain(library, probe, run, handle=handle))
    await let_go(library, probe, run)
