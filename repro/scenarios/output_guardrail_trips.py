"""The output guardrail trips once the answer has streamed.

Stands for a policy check on the final answer. The consumer has read the deltas; it must then
see the tripwire exception and nothing else, and the trace and every span must still end.
"""

from harness.probe import Probe
from harness.targets import Library
from repro.consumer import Placement, consume, let_go
from repro.model_script import Guardrail, ModelScript


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    script = ModelScript(guardrails=(Guardrail("output", trips=True),))
    run = probe.new_run(
        script, expect_error=library.error_class("output_tripwire"), may_stop_early=True
    )
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
