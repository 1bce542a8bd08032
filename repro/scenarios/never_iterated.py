"""A streamed run whose result is never iterated: it runs to the end and is dropped.

Stands for a handler that returns early (validation failed after starting the run, the
client was already gone) and never reads the stream. Nothing may stay current or open.
"""

import asyncio
import gc

from ctxreset.repro.consumer import Placement, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(stop_after=0)
    result = library.start_run(run)
    task = library.run_task(result)
    del result
    if task is not None:
        await asyncio.wait({task})
    gc.collect()
    await let_go(library, probe, run)
