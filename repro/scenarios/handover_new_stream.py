"""One task reads the first deltas and drops its iterator; another task calls
``stream_events()`` again and reads the rest.

Stands for a reconnecting client: the first connection's handler goes away mid-answer, the
next one resumes the same result object from where the queue stands.
"""

import gc

from ctxreset.repro.consumer import Placement, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run()
    run.result = library.start_run(run)
    await place.run(drain(library, probe, run, texts=2))
    gc.collect()  # the first iterator is gone; the loop's finalizer closes it
    await place.run(drain(library, probe, run))
    await let_go(library, probe, run)
