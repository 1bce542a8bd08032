"""Held across a yield, over real HTTP: the endpoint takes the stream's first item in the
request's task and returns a ``StreamingResponse`` of the rest; the client reads two events
and disconnects while the model stalls.

Stands for the browser tab closed mid-answer. uvicorn reports the disconnect and Starlette
cancels the task sending the body; the cancellation unwinds the library's block in that task,
whose Context is not the request task's, where the block was entered. (A stream read entirely
by Starlette's body task enters and leaves the block in one Context: no bug to see.)
"""

from ctxreset.repro.consumer import Placement

from ctxreset.contract import Library
from ctxreset.probe import Probe

EVENTS_BEFORE_DISCONNECT = 2


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    from ctxreset.repro.held import done_with
    from ctxreset.repro.loopback_server import run_client, serving, stream_run
    from ctxreset.repro.server_app import HELD_PATH, build_app

    app = build_app(library, probe)
    async with serving(app) as base_url:
        await run_client(base_url, lambda client: stream_run(
            client, probe, path=HELD_PATH,
            pause_after=EVENTS_BEFORE_DISCONNECT, disconnect_after=EVENTS_BEFORE_DISCONNECT,
        ))
        await app.wait_finished(1)
        await done_with(library, probe, probe.runs[0], "caller after the request finished")
