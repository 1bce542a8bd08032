"""A private Context for the generator's steps.

Strategy: the held stream's every step (``asend``, ``athrow``, ``aclose``) runs in one
``contextvars.Context`` of its own, copied from the first reader's Context when the stream is
first read. The library's block sets and resets its ContextVar in that private Context,
whichever task takes the step, and the tasks reading it never see it.

Patches: ``HeldStream.stream``, wrapping the generator it returns in a generator that runs
each of its steps' coroutines with ``Context.run`` and hands what they await to the running
task; closing the wrapper (from any task, or the loop's finalizer) closes the inner generator
in the private Context too. Upstream:
a library whose own generator holds the block (pydantic-ai's streams) can do the same in its
stream class; user code cannot, short of this wrapper.

Trade-off: what the block makes current is current only inside the generator's steps: log
lines and spans the reader emits between items are not tagged with it (they would have been
with the unpatched block, in the task that took the first step). Values the reader sets after
the first step do not reach the generator. Each step costs a Context switch per suspension.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator
from typing import Any, Optional

from ctxreset.fixes._held_patching import HeldPatches

from ctxreset.contract import HeldBlock, HeldPoints, HeldWork, Undo

SHAPE = "held"


class _Step:
    """Awaiting it hands one suspension of the inner coroutine to the running task."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self.value)


async def _drive(context: contextvars.Context, coro: Any) -> Any:
    """Run ``coro`` to its end, each of its steps inside ``context``."""
    send: Any = None
    error: Optional[BaseException] = None
    while True:
        try:
            if error is not None:
                pending = context.run(coro.throw, error)
            else:
                pending = context.run(coro.send, send)
        except StopIteration as done:
            return done.value
        send, error = None, None
        try:
            send = await _Step(pending)
        except BaseException as exc:  # cancellation and the like go into the coroutine
            error = exc


def apply(points: HeldPoints) -> Undo:
    patches = HeldPatches()
    original: Callable[..., AsyncIterator[str]] = patches.original(points.stream, "stream")

    async def private(block: type[HeldBlock], name: str, work: HeldWork,
                      closed: Callable[[], None], usage_limit: Optional[int] = None,
                      ) -> AsyncGenerator[str, None]:
        inner: Any = original(block, name, work, closed, usage_limit=usage_limit)
        context: Optional[contextvars.Context] = None
        try:
            while True:
                if context is None:  # the first reader's Context, copied once
                    context = contextvars.copy_context()
                try:
                    item = await _drive(context, inner.__anext__())
                except StopAsyncIteration:
                    return
                yield item
        finally:  # closed from anywhere (the finalizer included): the inner close runs there
            await _drive(context or contextvars.copy_context(), inner.aclose())

    patches.replace(points.stream, "stream", private)
    return patches.undo
