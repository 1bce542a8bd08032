"""Over real HTTP, the client reads two events and disconnects while the model is paused.

Stands for a browser tab closed, or a user pressing "stop", mid-answer. uvicorn reports the
disconnect, Starlette cancels the task sending the body, and the run's stream is left while
it waits for the next event: the server-side cousin of ``cancelled_consumer``.
"""

from ctxreset.contract import Library
from ctxreset.probe import Probe

EVENTS_BEFORE_DISCONNECT = 2


async def scenario(library: Library, probe: Probe) -> None:
    from ctxreset.repro.loopback_server import run_client, serving, stream_run
    from ctxreset.repro.server_app import build_app

    app = build_app(library, probe)
    async with serving(app) as base_url:
        await run_client(base_url, lambda client: stream_run(
            client, probe,
            pause_after=EVENTS_BEFORE_DISCONNECT, disconnect_after=EVENTS_BEFORE_DISCONNECT,
        ))
        await app.wait_finished(1)
