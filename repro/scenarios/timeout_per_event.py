"""A per-event deadline fires mid-stream: the model stalls after two deltas and the
consumer's ``asyncio.wait_for(stream.__anext__(), ...)`` times out.

Stands for an idle timeout on a stalled upstream: the consumer gives up on the stream (the
pending step is cancelled by ``wait_for``) and reports the timeout.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from ctxreset.repro.consumer import Placement, drain, let_go
from ctxreset.repro.model_script import ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe

DEADLINE_S = 0.05


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(pause_after=2), expect_error=asyncio.TimeoutError)

    async def fetch(stream: AsyncIterator[Any]) -> Any:
        return await asyncio.wait_for(stream.__anext__(), timeout=DEADLINE_S)

    run.result = library.start_run(run)
    await place.run(drain(library, probe, run, fetch=fetch))
    await let_go(library, probe, run)
