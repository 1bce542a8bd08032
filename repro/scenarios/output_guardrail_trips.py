"""The output guardrail trips once the answer has streamed.

Stands for a policy check on the final answer. The consumer has read the deltas; it must then
see the tripwire exception and nothing else, and the trace and every span must still end.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import Guardrail, ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    script = ModelScript(guardrails=(Guardrail("output", trips=True),))
    run = probe.new_run(
        script, expect_error=library.error_class("output_tripwire"), may_stop_early=True
    )
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
