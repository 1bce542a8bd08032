"""Deliberately broken "fixes" that exercise the harness's own fault handling, not the bug.

They exist for the harness's tests (a cell that crashes its interpreter, a cell that blocks
its event loop, a cell whose stream ignores cancellation) and are registered only when the
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
from types import SimpleNamespace
from typing import Any

from fixes._patching import Patches, Undo
from harness.targets import PatchPoints

CRASH_EXIT_CODE = 70


def _patch(points: PatchPoints, owner: type, name: str, replacement: Any) -> Undo:
    patches = Patches()
    patches.replace(owner, name, replacement)
    return patches.undo


def _apply_crash(points: PatchPoints) -> Undo:
    def run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        os._exit(CRASH_EXIT_CODE)

    return _patch(points, points.runner, "run_streamed", run_streamed)


def _apply_block(points: PatchPoints) -> Undo:
    def run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        time.sleep(3600)

    return _patch(points, points.runner, "run_streamed", run_streamed)


def _apply_ignore_cancel(points: PatchPoints) -> Undo:
    async def stream_events(self: Any) -> AsyncIterator[Any]:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue
        yield  # an async generator, like the method it replaces

    return _patch(points, points.streaming_result, "stream_events", stream_events)


FAULTS = {
    "crash_interpreter": SimpleNamespace(apply=_apply_crash, __doc__="os._exit mid-cell"),
    "block_loop": SimpleNamespace(apply=_apply_block, __doc__="time.sleep on the loop"),
    "ignore_cancel": SimpleNamespace(apply=_apply_ignore_cancel, __doc__="swallows cancel"),
}


def enabled() -> bool:
    return os.environ.get("CTXRESET_FAULTS") == "1"
