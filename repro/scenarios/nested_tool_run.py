"""While handling the first event of a stream, the consumer runs a second agent to completion
(``Runner.run``, not streamed) that calls a tool.

Stands for enrichment or classification of a streamed answer by another agent. The nested
run's spans belong in its own trace or in the enclosing run's, and its output is intact.
"""

from ctxreset.repro.consumer import Placement, drain, let_go
from ctxreset.repro.model_script import ModelScript, ToolCall

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    outer = probe.new_run()
    outer.result = library.start_run(outer)
    nested = []

    async def handle(number: int) -> None:
        if number != 1:
            return
        inner = probe.new_run(
            ModelScript(before=(ToolCall(),)), nested_in=outer.index, streamed=False
        )
        nested.append(inner)
        try:
            inner.final_output = await library.run_to_completion(inner)
        except Exception as exc:
            inner.consumer_error = exc

    await place.run(drain(library, probe, outer, handle=handle))
    await let_go(library, probe, outer)
    for run in nested:
        run.result = None
        await let_go(library, probe, run)
