"""Two runs started one after the other; one task reads both streams, alternating.

Stands for comparing two agents side by side, or merging a main answer with a background
run's progress into one response.
"""

from ctxreset.repro.consumer import Placement, finish, let_go, note, snapshot

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    runs = [probe.new_run(), probe.new_run()]
    for run in runs:
        run.result = library.start_run(run)

    async def alternate() -> None:
        streams = {run.index: library.stream_events(run.result) for run in runs}
        try:
            while streams:
                for run in runs:
                    if run.index not in streams:
                        continue
                    try:
                        note(library, run, await streams[run.index].__anext__())
                    except StopAsyncIteration:
                        del streams[run.index]
                        finish(library, run)
                    except Exception as exc:
                        del streams[run.index]
                        run.consumer_error = exc
        finally:
            snapshot(library, probe, "consumer of both runs")

    await place.run(alternate())
    for run in runs:
        await let_go(library, probe, run)
