"""Held across a yield: each item awaited with ``asyncio.wait_for``; the model stalls.

Stands for a per-chunk timeout around a slow model. ``wait_for`` cancels the pending step,
and the cancellation unwinds the library's block inside the generator. Before Python 3.12
``wait_for`` runs every step in a task of its own, so the block is entered in one step's
Context and left in another's; from 3.12 every step runs in the owner's task.
"""

import asyncio

from ctxreset.repro.consumer import Placement
from ctxreset.repro.held import done_with, open_held
from ctxreset.repro.model_script import ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe

CHUNK_TIMEOUT = 0.05
"""Seconds the owner waits for each item (the model stalls after two)."""


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(pause_after=2))

    async def owner() -> None:
        stream = open_held(library, run)
        try:
            while True:
                item = await asyncio.wait_for(stream.__anext__(), CHUNK_TIMEOUT)
                run.texts.append(item)
        except asyncio.TimeoutError:
            pass  # the model stalled: give up on it, as the timeout means
        except Exception as exc:
            run.consumer_error = exc
        await done_with(library, probe, run, "owner task after its step timed out")

    await place.run(owner())
