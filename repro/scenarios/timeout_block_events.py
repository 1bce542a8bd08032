"""The consumer reads each event inside ``async with asyncio.timeout(...)`` and traces its
handling (Python 3.11+).

Stands for the modern spelling of a per-event deadline: unlike ``wait_for`` before 3.12, it
stays in the consumer's task. No timeout fires here.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from ctxreset.repro.consumer import Placement, consumer_span, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    probe.opens_consumer_spans = True
    run = probe.new_run()
    run.result = library.start_run(run)

    async def fetch(stream: AsyncIterator[Any]) -> Any:
        async with asyncio.timeout(30):  # type: ignore[attr-defined,unused-ignore]
            return await stream.__anext__()

    async def handle(number: int) -> None:
        with consumer_span(library, run, f"event-{number}"):
            pass

    await place.run(drain(library, probe, run, fetch=fetch, handle=handle))
    await let_go(library, probe, run)
