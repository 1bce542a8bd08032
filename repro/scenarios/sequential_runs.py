"""Two runs started one after the other from one caller task, each consumed in another task.

Stands for a chat loop or a worker that serves several requests from one long-lived task. A
trace left current in the caller's Context makes the second run join the first run's
(finished) trace instead of starting its own.
"""

import asyncio

from ctxreset.repro.consumer import consume

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe) -> None:
    for _ in range(2):
        run = probe.new_run()
        run.result = library.start_run(run)
        await asyncio.create_task(consume(library, probe, run))
