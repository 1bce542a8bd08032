"""Held across a yield: the library itself interrupts the stream (a usage limit is exceeded
part-way), read by the owner in its own task.

Stands for pydantic-ai's ``UsageLimits`` stopping a streamed agent run: the library raises
its own error from inside the stream it holds its OpenTelemetry context in, and unwinds its
blocks on the way out. A library without usage limits has no such scenario (matrix.yaml
rules it out there).
"""

from ctxreset.repro.consumer import Placement
from ctxreset.repro.held import done_with, open_held, read
from ctxreset.repro.model_script import ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe

OUTPUT_LIMIT = 2
"""Output tokens allowed: the five-delta script exceeds it part-way."""


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(usage_limit=OUTPUT_LIMIT),
                        expect_error=library.error_class("usage_limit"), may_stop_early=True)

    async def owner() -> None:
        stream = open_held(library, run)
        await read(run, stream)
        await done_with(library, probe, run, "owner task after the limit stopped its stream")

    await place.run(owner())
