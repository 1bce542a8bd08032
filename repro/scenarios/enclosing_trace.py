"""``run_streamed`` inside the application's own ``with trace(...)`` block, consumed elsewhere.

Stands for grouping a conversation turn (or several runs) under one trace, as the library's
docs show. The run joins the enclosing trace instead of starting its own; the application's
block must end that trace, once, and leave nothing current.
"""

from ctxreset.repro.consumer import Placement, consume, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    with library.enclosing_trace("turn-1"):
        run = probe.new_run(trace_name="turn-1")
        run.result = library.start_run(run)
        await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
