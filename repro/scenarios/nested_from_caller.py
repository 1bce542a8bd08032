"""The caller starts a run and its stream is being read when the caller starts a second run
from its own task and reads that one itself.

Stands for a handler that streams an answer to the client and, meanwhile, asks another
agent something for itself (a title, a summary). The second run's spans belong in its own
trace or in the first run's. In the one-task reference the caller reads two deltas of the
first stream, runs the second, then reads the rest of the first.
"""

import asyncio

from ctxreset.repro.consumer import Placement, consume, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    first = probe.new_run()
    first.result = library.start_run(first)
    stream = library.stream_events(first.result)
    if place.one_task:
        await drain(library, probe, first, stream=stream, texts=2)
    else:
        reading = asyncio.ensure_future(drain(library, probe, first, stream=stream))
        while len(first.texts) < 2 and not reading.done():
            await asyncio.sleep(0)
    second = probe.new_run(nested_in=first.index)
    second.result = library.start_run(second)
    await consume(library, probe, second)
    if place.one_task:
        await drain(library, probe, first, stream=stream)
    else:
        await reading
    for run in (first, second):
        await let_go(library, probe, run)
