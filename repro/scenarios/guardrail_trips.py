"""The input guardrail trips while the answer streams.

Stands for moderation rejecting a request. The consumer must see the tripwire exception and
nothing else (how many deltas it read first depends on when the guardrail answered); the
trace and every span must still end.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import Guardrail, ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    script = ModelScript(guardrails=(Guardrail("input", trips=True, delay_turns=2),))
    run = probe.new_run(
        script, expect_error=library.error_class("input_tripwire"), may_stop_early=True
    )
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
