"""The stream is consumed in another task (``asyncio.create_task``).

Stands for any code that hands the result to a worker task. The consumer's Context is a copy
of the caller's, so the trace token set by ``run_streamed`` is reset in a foreign Context:
unpatched 0.0.11 raises ``ValueError: ... was created in a different Context``.
"""

import asyncio

from ctxreset.repro.consumer import consume

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe) -> None:
    run = probe.new_run()
    run.result = library.start_run(run)
    await asyncio.create_task(consume(library, probe, run))
