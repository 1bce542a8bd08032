"""Activate only around non-yielding work.

Strategy: the stream starts the library's thing once, makes it current only while it computes
each item (made current around one step of the work), and restores what was current before
it yields; it ends the thing when the stream is left. Nothing the block set is left open
across a ``yield``, so nothing can be reset in another Context.

Patches: ``HeldStream.stream`` (the generator is rebuilt from ``HeldBlock``'s parts: start, make
current and restore, end). Upstream: the library's own generator restructured so, or the library
offers start / make-current / end parts (OpenTelemetry has them: ``start_span``, ``use_span(...,
end_on_exit=False)``, ``span.end()``; openai-agents ``trace.start/finish`` and
``Scope.set_current_trace``).

Trade-off: between items the reader's code does not see the thing as current (spans and log
lines it emits there are not under it); the thing is made current and restored once per
item (a set and a reset each). If the stream is dropped without being closed, the thing is
ended by the finalizer, later.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Optional

from ctxreset.fixes._held_patching import HeldPatches

from ctxreset.contract import HeldBlock, HeldPoints, HeldWork, Undo

SHAPE = "held"


def apply(points: HeldPoints) -> Undo:
    patches = HeldPatches()

    async def per_step(block: type[HeldBlock], name: str, work: HeldWork,
                       closed: Callable[[], None], usage_limit: Optional[int] = None,
                       ) -> AsyncGenerator[str, None]:
        thing = block.start(name)
        try:
            while True:
                token = block.make_current(thing)
                try:
                    item = await work.__anext__()
                except StopAsyncIteration:
                    return
                finally:
                    block.restore(token)
                yield item
        finally:
            block.end(thing)
            closed()

    patches.replace(points.stream, "stream", per_step)
    return patches.undo
