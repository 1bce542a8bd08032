"""The caller traces its own work after starting the run and before the stream is read.

Stands for an endpoint or worker that starts the run, then does instrumented work of its
own under the run's trace (records the request, checks a quota, builds the response:
``with custom_span("prepare"):``), and only then hands the stream to its reader. The
unpatched library shows the run's trace in the caller's Context from ``run_streamed()``
on, so that span joins the run's trace; a fix that shows the trace only where the stream is
read turns it into a no-op span.
"""

import asyncio

from ctxreset.repro.consumer import Placement, consumer_span, drain, let_go

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    probe.opens_consumer_spans = True
    run = probe.new_run()
    run.result = library.start_run(run)
    with consumer_span(library, run, "prepare"):
        await asyncio.sleep(0)  # the caller's own awaited work (a quota check, a write)
    await place.run(drain(library, probe, run))
    await let_go(library, probe, run)
