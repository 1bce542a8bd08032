"""Control: the caller consumes the stream in the task that started the run.

Stands for the documented usage (``async for event in result.stream_events()`` right after
``Runner.run_streamed``). The trace's token is set and reset in one Context, so unpatched
0.0.11 must not fail here; if it does, the harness itself is wrong.
"""

from ctxreset.repro.consumer import consume

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe) -> None:
    run = probe.new_run()
    run.result = library.start_run(run)
    await consume(library, probe, run)
