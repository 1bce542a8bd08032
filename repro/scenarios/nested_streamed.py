"""While handling the first event of a stream, the consumer starts a second streamed run
and reads it to the end, then goes on with the first.

Stands for an agent-as-a-tool or a follow-up question asked from the code that reads the
first answer. The nested run's spans belong in its own trace or in the enclosing run's.
"""

from ctxreset.repro.consumer import Placement, consume, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    outer = probe.new_run()
    outer.result = library.start_run(outer)
    nested = []

    async def handle(number: int) -> None:
        if number != 1:
            return
        inner = probe.new_run(nested_in=outer.index)
        nested.append(inner)
        inner.result = library.start_run(inner)
        await consume(library, probe, inner)

    await place.run(drain(library, probe, outer, handle=handle))
    for run in (outer, *nested):
        await let_go(library, probe, run)
