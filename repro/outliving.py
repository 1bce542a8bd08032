"""Work the consumer starts while it reads a stream and that outlives the stream: a save that
first waits for a connection from a busy pool.

Two scenarios share this code, ``late_background_span`` and ``stuck_background_task``. They
run exactly the same steps until every consumer has let go of the stream and the let-go
window (one gc pass, ``LET_GO_TURNS`` loop turns) is over; only then do they part: in the
first the pool frees up and the save traces its write, in the second the session closes and
the save is abandoned. A fix decides when the run's trace ends from what has happened, not
from what will, so it decides the same in both; the first needs the trace to outlast the
save, the second needs it to end within the window (the proven conflict in
``ctxreset.catalogue.CONFLICTS``).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Optional

from ctxreset.repro.consumer import Placement, consumer_span, drain, snapshot

from ctxreset.contract import Library
from ctxreset.probe import LET_GO_TURNS, Probe, RunRecord

WINDOW_OVER = "let-go window over"
"""The snapshot both scenarios take where they part: what happened before it is the same."""


class PendingSave:
    """The consumer's handler: on the stream's first event it starts a task (kept, not
    awaited) that waits for ``pool`` and then writes under a span of the run."""

    def __init__(self, library: Library, run: RunRecord) -> None:
        self.library = library
        self.run = run
        self.pool = asyncio.Event()
        self.task: Optional[asyncio.Task[None]] = None

    async def handle(self, number: int) -> None:
        if self.task is None:
            self.task = asyncio.ensure_future(self._save())

    async def _save(self) -> None:
        await self.pool.wait()  # a connection from the pool
        with consumer_span(self.library, self.run, "save"):
            await asyncio.sleep(0)  # the write itself


async def read_leaving_a_save(
    library: Library, probe: Probe, place: Placement
) -> tuple[RunRecord, PendingSave]:
    """Start a run, read its stream to the end with ``PendingSave`` as the handler, and return
    with the save still waiting for the pool."""
    run = probe.new_run()
    run.result = library.start_run(run)
    save = PendingSave(library, run)
    await place.run(drain(library, probe, run, handle=save.handle))
    assert save.task is not None and not save.task.done(), "the save must outlive the stream"
    return run, save


async def outlast_the_window() -> None:
    """Wait as long as the let-go checkpoint may (``repro.consumer.let_go``): one gc pass and
    ``LET_GO_TURNS`` loop turns."""
    gc.collect()
    for _ in range(LET_GO_TURNS):
        await asyncio.sleep(0)


def mark_window_over(library: Library, probe: Probe) -> None:
    snapshot(library, probe, WINDOW_OVER)
