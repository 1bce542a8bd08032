"""The model keeps calling its tool until the run's ``max_turns`` is exceeded.

Stands for an agent stuck in a tool loop: the library stops it and raises
``MaxTurnsExceeded`` to whoever reads the stream. That error, and only it, must reach the
consumer; the trace and every span must still end.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import ModelScript, ToolCall

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    script = ModelScript(before=(ToolCall(),) * 3, max_turns=2)
    run = probe.new_run(script, expect_error=library.error_class("max_turns"))
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
