"""The consumer races each ``__anext__`` (``ensure_future``) against a client disconnect.

Stands for server-sent-event helpers that watch for the client going away while waiting for
the next event: each step of the stream runs in a task of its own, and when the client
disconnects (after two deltas, while the model is thinking) the pending step is cancelled
and the stream abandoned. The one-task reference moves the consumer into the caller's task;
each step still runs in a task of its own, as the usage has it.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from ctxreset.repro.consumer import Placement, drain, let_go
from ctxreset.repro.model_script import ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe

DELTAS_BEFORE_DISCONNECT = 2


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(pause_after=DELTAS_BEFORE_DISCONNECT))
    disconnected = asyncio.Event()

    async def fetch(stream: AsyncIterator[Any]) -> Any:
        if len(run.texts) == DELTAS_BEFORE_DISCONNECT:
            disconnected.set()  # the client goes away while the model is thinking
        step = asyncio.ensure_future(stream.__anext__())
        gone = asyncio.ensure_future(disconnected.wait())
        await asyncio.wait({step, gone}, return_when=asyncio.FIRST_COMPLETED)
        if step.done():
            gone.cancel()
            return step.result()
        step.cancel()
        await asyncio.wait({step})
        if not step.cancelled() and not isinstance(step.exception(), StopAsyncIteration):
            raise step.exception()  # type: ignore[misc]  # the stream's end failed
        raise StopAsyncIteration

    run.result = library.start_run(run)
    await place.run(drain(library, probe, run, fetch=fetch))
    await let_go(library, probe, run)
