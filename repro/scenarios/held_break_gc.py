"""Held across a yield: the owner leaves ``async for`` with ``break`` and drops the stream.

Stands for a client that stops after the first tokens: ``break`` does not close an async
generator, so it stays suspended inside the library's block until the garbage collector finds
it and the loop's finalizer closes it, in a task of its own: the block's reset runs there
(the error goes to the loop's exception handler), and the owner's Context keeps what the block
made current. How many loop turns the finalizer takes is polled, never assumed.
"""

from ctxreset.repro.consumer import Placement
from ctxreset.repro.held import done_with, open_held

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(stop_after=2)

    async def owner() -> None:
        stream = open_held(library, run)
        async for item in stream:
            run.texts.append(item)
            if len(run.texts) == 2:
                break
        del stream  # nothing refers to it any more: the finalizer will close it
        await done_with(library, probe, run, "owner task after its dropped stream was closed")

    await place.run(owner())
