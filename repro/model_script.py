"""What the fake model says: text deltas, optionally a pause or a failure part-way.

Library-neutral (standard library only), so the stdlib model and the openai-agents fake
model replay the same script.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Optional


class ModelFailure(RuntimeError):
    """Raised by the fake model when a script says so; scenarios expect it to surface."""


@dataclass(frozen=True)
class ModelScript:
    deltas: tuple[str, ...] = ("The ", "quick ", "brown ", "fox ", "jumps.")
    fail_after: Optional[int] = None
    """Raise ModelFailure after this many deltas."""
    pause_after: Optional[int] = None
    """Wait (until cancelled) after this many deltas: holds a consumer mid-stream."""

    @property
    def text(self) -> str:
        return "".join(self.deltas)

    async def stream(self) -> AsyncIterator[str]:
        for index, delta in enumerate(self.deltas):
            if index == self.fail_after:
                raise ModelFailure(f"model stream failed after {index} deltas")
            if index == self.pause_after:
                await asyncio.Event().wait()
            yield delta
            await asyncio.sleep(0)  # let the consumer interleave, as a network stream would
