"""The run finishes (every event queued) before another task reads its stream.

Stands for fire-and-collect code: start runs, wait for them (or for a slow client), then
stream the buffered result out from whatever task serves the client.
"""

from ctxreset.repro.consumer import Placement, consume, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    run = probe.new_run()
    run.result = library.start_run(run)
    await library.wait_for_run_task(run.result)
    await place.run(consume(library, probe, run))
    await let_go(library, probe, run)
