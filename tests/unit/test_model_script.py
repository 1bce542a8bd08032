"""The fake model's script does what scenarios rely on: deltas, failure, pause."""

from __future__ import annotations

import asyncio

import pytest
from ctxreset.repro.model_script import ModelFailure, ModelScript


@pytest.mark.asyncio
async def test_streams_every_delta():
    script = ModelScript(deltas=("a", "b", "c"))
    assert [d async for d in script.stream()] == ["a", "b", "c"]
    assert script.text == "abc"


@pytest.mark.asyncio
async def test_fails_after_the_given_number_of_deltas():
    received = []
    with pytest.raises(ModelFailure, match="after 2 deltas"):
        async for delta in ModelScript(fail_after=2).stream():
            received.append(delta)
    assert received == ["The ", "quick "]


@pytest.mark.asyncio
async def test_pauses_until_cancelled():
    received: list[str] = []

    async def read() -> None:
        async for delta in ModelScript(pause_after=1).stream():
            received.append(delta)

    task = asyncio.ensure_future(read())
    await asyncio.sleep(0.05)
    assert received == ["The "] and not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
