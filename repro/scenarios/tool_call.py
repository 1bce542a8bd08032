"""A two-turn run: the model calls a function tool, the tool runs, then the model answers.

Stands for the commonest agent: "look it up, then answer", streamed to a client. The run
task opens the agent span, a response span per turn, a function span with the tool's own
span under it; the consumer gets the tool-call events and then the text.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import ModelScript, ToolCall

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(before=(ToolCall(),)))
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
