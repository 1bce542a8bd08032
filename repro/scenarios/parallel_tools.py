"""The model calls its tool three times in one turn; the library runs the calls concurrently.

Stands for fan-out lookups ("check these three things, then answer"). Each call runs in a
task of its own that the run task spawns; every function span, and each tool's own span under
it, belongs in the run's trace.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import ModelScript, ToolCall

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(before=(ToolCall(calls=3),)))
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
