"""The consumer reads each event with ``asyncio.wait_for(stream.__anext__(), timeout)`` and
traces its handling.

Stands for a per-event deadline (a server's keep-alive or idle timeout). Before Python 3.12
``wait_for`` runs each ``__anext__`` in a task of its own, so every step of the stream, its
end included, runs in yet another Context. No timeout fires here.
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
        return await asyncio.wait_for(stream.__anext__(), timeout=30)

    async def handle(number: int) -> None:
        with consumer_span(library, run, f"event-{number}"):
            pass

    await place.run(drain(library, probe, run, fetch=fetch, handle=handle))
    await let_go(library, probe, run)
