"""The consumer's own handling of an event fails, inside its span, and the error leaves the
``async for``: the stream is dropped unfinished and the consumer logs the error.

Stands for a bug or a failed write in the code that handles each event (serialising a chunk,
writing to a closed socket): the handler raises out of ``async for event in
stream_events()``, the server logs it and goes on. The run's trace must still end once, the
handler's failed span must be in it, and nothing of the run may stay current.
"""

from ctxreset.repro.consumer import Placement, consumer_span, let_go, note, snapshot

from ctxreset.contract import Library
from ctxreset.probe import Probe


class HandlerError(Exception):
    """What the consumer's handler raises."""


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    probe.opens_consumer_spans = True
    run = probe.new_run(stop_after=2, expect_error=HandlerError)
    run.result = library.start_run(run)

    async def read() -> None:
        try:
            async for event in library.stream_events(run.result):
                note(library, run, event)
                if len(run.texts) == 2:
                    with consumer_span(library, run, f"write-{run.events}"):
                        raise HandlerError("the client went away mid-write")
        except HandlerError as exc:
            # logged, as a server would; kept without its traceback, which would keep this
            # frame (and so the dropped stream) alive
            run.consumer_error = exc.with_traceback(None)
        snapshot(library, probe, f"consumer of run {run.index}", run)

    await place.run(read())
    await let_go(library, probe, run)
