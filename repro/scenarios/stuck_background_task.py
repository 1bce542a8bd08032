"""The consumer starts a save on the stream's first event and does not wait for it; the save
waits for a busy connection pool that does not free up before the session closes, and is
then cancelled, its write never made.

Stands for fire-and-forget work that is still pending when the request is over, and may stay
pending for as long as the process lives: a save behind a stuck pool, a retry loop, a
keep-alive. The run is done and its reader has let go, so its trace must end (``released``),
pending task or not. With ``late_background_span`` (the same code until the pool frees up) it
is the proven conflict: see ``repro.outliving``.
"""

import asyncio
from contextlib import suppress

from ctxreset.repro.consumer import Placement, let_go
from ctxreset.repro.outliving import mark_window_over, read_leaving_a_save

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run, save = await read_leaving_a_save(library, probe, place)
    await let_go(library, probe, run)
    mark_window_over(library, probe)
    assert save.task is not None
    save.task.cancel()  # the session closes
    with suppress(asyncio.CancelledError):
        await save.task
