"""The consumer task leaves ``stream_events()`` early with ``break``, then ``gc.collect()``.

Stands for a client that stops reading after the first tokens (a UI's "stop" button). The
abandoned generator is closed by the loop's async-generator finalizer in yet another task;
in 0.0.11 the trace is finished only after the loop, so it never ends at all.
"""

import asyncio
import gc

from ctxreset.repro.consumer import consume

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe) -> None:
    run = probe.new_run(stop_after=2)
    run.result = library.start_run(run)

    async def consumer() -> None:
        await consume(library, probe, run, stop_after=2)
        gc.collect()
        for _ in range(3):  # let the finalizer's aclose() task run
            await asyncio.sleep(0)

    await asyncio.create_task(consumer())
