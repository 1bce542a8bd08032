"""A deadline around the whole consuming loop fires mid-stream (the model stalls after two
deltas): ``asyncio.wait_for(consume(...), ...)`` cancels the consumer.

Stands for a request timeout around a streamed answer.
"""

import asyncio
import contextlib

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe

DEADLINE_S = 0.05


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(pause_after=2))
    run.result = library.start_run(run)
    with contextlib.suppress(asyncio.TimeoutError):  # the caller gives up on this answer
        await asyncio.wait_for(place.run(consume(library, probe, run)), timeout=DEADLINE_S)
    await let_go(library, probe, run)
