"""Deliberately broken "fixes" that exercise the harness's own fault handling, not the bug.

They exist for the harness's tests (a cell that crashes its interpreter, a cell that blocks
its event loop, a cell whose stream ignores cancellation) and are known only when the
environment sets ``CTXRESET_FAULTS=1``; a matrix.yaml that names one without it is rejected
as naming an unknown fix.

- ``crash_interpreter``: ``run_streamed`` ends the process with ``os._exit(70)``.
- ``block_loop``: ``run_streamed`` blocks the event loop in ``time.sleep`` for an hour.
- ``ignore_cancel``: ``stream_events`` waits for ever and swallows every cancellation.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any, Callable

from ctxreset.fixes._patching import Patches

from ctxreset.contract import PatchPoints, Undo

CRASH_EXIT_CODE = 70


def _apply_crash(points: PatchPoints) -> Undo:
    def run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        os._exit(CRASH_EXIT_CODE)

    patches = Patches()
    patches.replace(points.runner, "run_streamed", run_streamed)
    return patches.undo


def _apply_block(points: PatchPoints) -> Undo:
    def run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        time.sleep(3600)

    patches = Patches()
    patches.replace(points.runner, "run_streamed", run_streamed)
    return patches.undo


def _apply_ignore_cancel(points: PatchPoints) -> Undo:
    async def stream_events(self: Any) -> AsyncIterator[Any]:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue
        yield  # an async generator, like the method it replaces

    patches = Patches()
    patches.replace(points.streaming_result, "stream_events", stream_events)
    return patches.undo


class Fault:
    """A broken fix: ``apply`` as the fixes' modules have it, and a one-line docstring."""

    def __init__(self, apply: Callable[[PatchPoints], Undo], doc: str) -> None:
        self._apply = apply
        self.__doc__ = doc

    def apply(self, points: PatchPoints) -> Undo:
        return self._apply(points)


FAULT_FIXES = {
    "crash_interpreter": Fault(_apply_crash, "os._exit mid-cell"),
    "block_loop": Fault(_apply_block, "time.sleep on the loop"),
    "ignore_cancel": Fault(_apply_ignore_cancel, "swallows cancel"),
}
