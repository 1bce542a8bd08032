"""The held-across-a-yield shape: user code that keeps a library's block open over ``yield``.

A streaming endpoint wraps its work in the library's block (``with isolation_scope():``,
``with tracer.start_as_current_span(...)``, ``with trace(...)``) inside an async generator.
The block sets a ContextVar in whichever Context takes the generator's first step, and resets
it in whichever Context takes its last: when something else closes the generator (another
task's ``aclose()``, the loop's finalizer after an early ``break``, a client disconnect, an
error handed to another reader), the reset runs in a Context that did not create the token.

``UserStream`` is that user code (the ``HeldStream`` a fix may patch); ``open_held`` starts
one for a run; ``read`` and ``until_closed`` are what the held scenarios share.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Callable, Optional

from ctxreset.repro.consumer import let_go, snapshot

from ctxreset.contract import HeldBlock, HeldWork, Library
from ctxreset.probe import Probe, RunRecord

CLOSE_TURNS = 1000
"""Loop turns (after a full gc pass) a dropped generator's finalizer gets to run its close:
polled, never assumed (under eager tasks the finalizer's task runs later than otherwise)."""


class UserStream:
    """The user code: one block held open across every yield of the work's items."""

    @classmethod
    async def stream(cls, block: type[HeldBlock], name: str, work: HeldWork,
                     closed: Callable[[], None], usage_limit: Optional[int] = None,
                     ) -> AsyncGenerator[str, None]:
        try:
            with block.open(name):
                async for item in work:
                    yield item
        finally:
            closed()


def open_held(library: Library, run: RunRecord) -> AsyncGenerator[str, None]:
    """The held stream of ``run`` (its script's deltas), through the library's points; the
    run's ``result`` keeps whether its block has been left."""
    points = library.held()
    state = HeldState()
    run.held_state = state
    return points.stream.stream(points.block, run.trace_name, run.script.stream(), state.close,
                                usage_limit=run.script.usage_limit)


class HeldState:
    """What the scenarios know of one held stream: whether its block has been left."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


async def read(run: RunRecord, stream: AsyncIterator[str], stop_after: Optional[int] = None,
               ) -> None:
    """Read ``stream`` in the current task into ``run``; stop (without closing it) after
    ``stop_after`` items. The run's errors are kept on it; cancellation propagates."""
    try:
        while stop_after is None or len(run.texts) < stop_after:
            try:
                item = await stream.__anext__()
            except StopAsyncIteration:
                run.final_output = "".join(run.texts)
                return
            run.events += 1
            run.texts.append(item)
    except asyncio.CancelledError as exc:
        run.consumer_error = exc
        raise
    except Exception as exc:
        run.consumer_error = exc


async def until_closed(probe: Probe, run: RunRecord) -> None:
    """Poll, bounded, until ``run``'s block has been left (a dropped generator: once the gc
    has found it and the loop's finalizer task has closed it); note how long it took."""
    state: Any = run.held_state
    gc.collect()
    turns = 0
    while not state.closed and turns < CLOSE_TURNS:
        await asyncio.sleep(0)
        turns += 1
        if turns % 100 == 0:
            gc.collect()
    probe.notes.append(f"run {run.index}: block left {'after' if state.closed else 'not within'}"
                       f" {turns} loop turn(s) after a gc pass")


async def done_with(library: Library, probe: Probe, run: RunRecord, where: str) -> None:
    """The task that owned ``run``'s stream is done with it: what is current there, and the
    let-go checkpoint (the block left, and not current here)."""
    await until_closed(probe, run)
    snapshot(library, probe, where)
    await let_go(library, probe, run)
