"""Held across a yield: the caller takes the first item, a reader task the rest, and the
work fails inside the block (a model error, a usage limit, a tool error).

Stands for an endpoint that awaits the first chunk itself (so an early failure becomes an
error status) and hands the rest of the stream to ``StreamingResponse``, which reads it in a
task of its own. The failure unwinds the block in the reader's Context; the caller's Context,
where it was entered, keeps what it made current.
"""

from ctxreset.repro.consumer import Placement
from ctxreset.repro.held import done_with, open_held, read
from ctxreset.repro.model_script import ModelFailure, ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(fail_after=2), expect_error=ModelFailure)
    stream = open_held(library, run)
    await read(run, stream, stop_after=1)  # the caller's peek at the first item
    await place.run(read(run, stream))
    await done_with(library, probe, run, "caller after the stream failed")
