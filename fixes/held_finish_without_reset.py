"""Finish without reset: leave the block in a foreign Context by ending what it started and
not touching the ContextVar at all.

Strategy: the block is rebuilt from the library's parts: ``start`` the thing, make it
current; on the way out, a private marker ContextVar (set on the way in) tells whether this is
the Context that entered: there, what was current is restored as usual; anywhere else the
restore is skipped; the thing is ``end``-ed in both cases.

Patches: ``HeldBlock.open``. Upstream it needs the block's exit to know its own Context (a
marker, or ``asyncio.current_task()``) and a way to end without resetting (openai-agents has
``finish(reset_current=False)``; OpenTelemetry ``span.end()`` without ``detach``).

Trade-off: nothing raises and the trace or span ends exactly once, but the Context that
entered keeps it current (a leak), as with tolerating the error; it only avoids the error,
and the skipped reset, instead of catching them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

from ctxreset.fixes._held_patching import HeldPatches

from ctxreset.contract import HeldPoints, Undo

SHAPE = "held"
_entered: contextvars.ContextVar[Optional[object]] = contextvars.ContextVar(
    "held_block_entered", default=None)


def _same_context(token: contextvars.Token[Optional[object]]) -> bool:
    """Whether this is the Context the marker was set in (resetting it tells, harmlessly)."""
    try:
        _entered.reset(token)
    except ValueError:
        return False
    return True


def apply(points: HeldPoints) -> Undo:
    patches = HeldPatches()
    block = points.block

    @contextmanager
    def finish_without_reset(name: str) -> Iterator[Any]:
        thing = block.start(name)
        token = block.make_current(thing)
        marker = _entered.set(object())
        try:
            yield thing
        finally:
            if _same_context(marker):
                block.restore(token)
            block.end(thing)

    patches.replace(points.block, "open", finish_without_reset)
    return patches.undo
