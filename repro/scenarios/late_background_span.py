"""The consumer starts a save on the stream's first event and does not wait for it; the save
waits for a busy connection pool that frees up only after the stream has ended and every
consumer has let go, then writes under a span of the run.

Stands for fire-and-forget persistence behind a saturated pool or a rate limiter
(``asyncio.create_task(save(transcript))``): the wait is I/O, so it can last any number of
loop turns. The save's span is the run's: it belongs in the run's trace, and the trace must
not end under it. With ``stuck_background_task`` (the same code until the pool frees up) it
is the proven conflict: see ``repro.outliving``.
"""

from ctxreset.repro.consumer import Placement, let_go
from ctxreset.repro.outliving import mark_window_over, outlast_the_window, read_leaving_a_save

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    probe.opens_consumer_spans = True
    run, save = await read_leaving_a_save(library, probe, place)
    await outlast_the_window()
    mark_window_over(library, probe)
    save.pool.set()
    assert save.task is not None
    await save.task
    await let_go(library, probe, run)
