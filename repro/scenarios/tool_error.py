"""The model calls a tool that raises; the library hands the error to the model as the tool's
result, and the model answers anyway.

Stands for a flaky backend behind a tool. The error is the library's to report (on the
function span, and in its logs as it chooses); the run must still finish, and every span end.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import ModelScript, ToolCall

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(before=(ToolCall(tool="broken"),)))
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
