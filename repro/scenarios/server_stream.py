"""A FastAPI endpoint served by uvicorn streams one run to an httpx client, to the end.

Stands for the setups of upstream issues #435, #538 and #634, over real HTTP on loopback: the
endpoint starts the run in the request's task, Starlette sends the body from another task.
Unpatched, the end of the stream raises the ValueError there and uvicorn logs it as
"Exception in ASGI application"; the client's chunked body is cut short.
"""

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe) -> None:
    from ctxreset.repro.loopback_server import run_client, serving, stream_run
    from ctxreset.repro.server_app import build_app

    app = build_app(library, probe)
    async with serving(app) as base_url:
        await run_client(base_url, lambda client: stream_run(client, probe))
        await app.wait_finished(1)
