"""A hard deadline for code that blocks the event loop, where ``asyncio`` timeouts cannot act.

A scenario that awaits forever is stopped by the cell's own ``asyncio`` timeout; one that
blocks the loop in synchronous code (``time.sleep``, a lock, a busy loop) never yields to it.
``deadline(seconds)`` arms ``SIGALRM``: when it fires, ``CellTimeout`` is raised in whatever the
main thread is running, which unblocks it. ``CellTimeout`` derives from ``BaseException`` so
that library code catching ``Exception`` cannot swallow it.

Only the main thread can receive signals, and only where ``SIGALRM`` exists (not Windows);
elsewhere ``deadline`` does nothing and the per-test ``pytest-timeout`` is the last resort.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


class CellTimeout(BaseException):
    """The cell's hard deadline passed while the main thread was blocked."""


@dataclass
class Deadline:
    seconds: float
    fired: bool = False


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    state = Deadline(seconds)
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield state
        return

    def on_alarm(signum: int, frame: Any) -> None:
        state.fired = True
        raise CellTimeout(f"blocked past the cell's hard deadline of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield state
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
