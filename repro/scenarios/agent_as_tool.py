"""The model calls another agent as a tool (``Agent.as_tool``): a nested ``Runner.run`` inside
the run task, then answers.

Stands for orchestrator agents that consult specialists. The nested run starts inside the
outer run's tool call; its agent and response spans belong under that function span, in the
outer run's trace.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import ModelScript, ToolCall

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    call = ToolCall(tool="ask_expert", arguments='{"input": "is it sunny?"}')
    run = probe.new_run(ModelScript(before=(call,)))
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
