"""Held across a yield: the owner reads two items, then another task calls ``aclose()``.

Stands for a supervisor, a shutdown hook or a cancel endpoint closing a stream that a worker
task was reading: the library's block was entered in the worker's Context and is left in the
closing task's, so its reset runs in a Context that did not create the token (sentry-sdk
2.42.0 raises the ValueError out of ``aclose()``; 2.42.1 swallows it, and the worker's
Context keeps the scope).
"""

import asyncio

from ctxreset.repro.consumer import Placement
from ctxreset.repro.held import done_with, open_held, read

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(stop_after=2)

    async def owner() -> None:
        stream = open_held(library, run)
        await read(run, stream, stop_after=2)
        try:
            await asyncio.ensure_future(stream.aclose())  # closed by another task
        except Exception as exc:  # what the closing code's caller gets
            run.consumer_error = exc
        await done_with(library, probe, run, "owner task after another task closed its stream")

    await place.run(owner())
