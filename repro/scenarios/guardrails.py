"""The agent has an input and an output guardrail; both pass.

Stands for moderation around a streamed answer. The input guardrail runs in a task the run
task spawns, beside the model's stream; the output guardrail runs after the last turn. Their
guardrail spans belong in the run's trace.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import Guardrail, ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    guardrails = (Guardrail("input"), Guardrail("output"))
    run = probe.new_run(ModelScript(guardrails=guardrails))
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
