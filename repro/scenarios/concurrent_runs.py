"""Twenty concurrent runs, each started by its own handler task and consumed in its own task.

Stands for a server under load: every request starts a run and streams it from another task.
Each run must get its own trace, and every span must carry its own run's trace id.
"""

import asyncio

from ctxreset.repro.consumer import consume

from ctxreset.contract import Library
from ctxreset.probe import Probe

RUNS = 20


async def scenario(library: Library, probe: Probe) -> None:
    async def handler() -> None:
        run = probe.new_run()
        run.result = library.start_run(run)
        await asyncio.create_task(consume(library, probe, run))

    await asyncio.gather(*(handler() for _ in range(RUNS)))
