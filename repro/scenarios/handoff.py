"""The starting agent hands the run over to a specialist agent, which answers.

Stands for triage agents. The run task ends the first agent's span and opens the second's
(with a handoff span between) while the consumer is reading: both agent spans, and every
span under them, belong in the run's one trace.
"""

from ctxreset.repro.consumer import Placement, consume, let_go
from ctxreset.repro.model_script import Handoff, ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run(ModelScript(before=(Handoff(),)))
    run.result = library.start_run(run)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
