"""One caller task starts three runs, then streams them concurrently, one task each.

Stands for fan-out from a single handler (ask three agents, stream all answers) rather than
one run per request handler. Each run must get its own trace.
"""

from ctxreset.repro.consumer import Placement, consume, let_go, start_runs

from ctxreset.contract import Library
from ctxreset.probe import Probe

RUNS = 3


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    runs = start_runs(library, probe, RUNS)
    await place.run_all([consume(library, probe, run) for run in runs])
    for run in runs:
        await let_go(library, probe, run)
