"""The consumer reads two deltas, stops, and the stream stays referenced while the caller
goes on to a second run; only then is the first stream dropped.

Stands for a chat session object that keeps the last result (and its iterator) around after
the user pressed "stop", and answers the next message.
"""

import gc

from ctxreset.repro.consumer import Placement, consume, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    first = probe.new_run(stop_after=2)
    first.result = library.start_run(first)
    kept = library.stream_events(first.result)
    await place.run(drain(library, probe, first, stream=kept, texts=2))
    await library.wait_for_run_task(first.result)

    second = probe.new_run()
    second.result = library.start_run(second)
    await place.run(consume(library, probe, second))
    await let_go(library, probe, second)

    del kept  # the session forgets the stopped answer
    gc.collect()
    await let_go(library, probe, first)
