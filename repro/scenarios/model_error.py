"""The model's stream raises part-way; the consumer (another task) must see that error.

Stands for a provider error mid-response. The error has to reach the consumer intact, the
trace and spans must still end, and no second error may be stacked on top of it.
"""

import asyncio

from ctxreset.repro.consumer import consume
from ctxreset.repro.model_script import ModelFailure, ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe) -> None:
    run = probe.new_run(ModelScript(fail_after=2), expect_error=ModelFailure)
    run.result = library.start_run(run)
    await asyncio.create_task(consume(library, probe, run))
