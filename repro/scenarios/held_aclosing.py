"""The control: the owner reads two items inside ``contextlib.aclosing`` and leaves.

``aclosing`` closes the generator in the task that opened it, so the library's block is
entered and left in one Context: every library and every fix must pass every property here
(close in the owner, the fix users can apply themselves).
"""

from ctxreset.repro.consumer import Placement
from ctxreset.repro.held import done_with, open_held, read

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    from contextlib import aclosing  # type: ignore[attr-defined,unused-ignore]  # new in 3.10

    run = probe.new_run(stop_after=2)

    async def owner() -> None:
        async with aclosing(open_held(library, run)) as stream:
            await read(run, stream, stop_after=2)
        await done_with(library, probe, run, "owner task after closing its stream")

    await place.run(owner())
