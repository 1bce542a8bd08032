"""The input guardrail is slower than the whole stream (a moderation call that lags).

Stands for a remote moderation check. The stream is read to its end before the guardrail
answers; what the library does with the guardrail then (wait for it, or cancel it) is its
own business, but its span must still be closed, once, inside the run's trace.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import Guardrail, ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(guardrails=(Guardrail("input", slow=True),)))
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
