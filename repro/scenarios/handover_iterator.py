"""One task reads the first deltas of a stream; another task continues the same iterator.

Stands for a worker that starts answering and hands the open stream to the task that owns
the client connection (a queue of iterators, a connection manager).
"""

from ctxreset.repro.consumer import Placement, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run()
    run.result = library.start_run(run)
    stream = library.stream_events(run.result)
    await place.run(drain(library, probe, run, stream=stream, texts=2))
    await place.run(drain(library, probe, run, stream=stream))
    await let_go(library, probe, run)
