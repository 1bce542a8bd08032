"""A real uvicorn server on 127.0.0.1, and a real httpx client on a thread of its own.

``serving(app)`` binds a free loopback port, starts uvicorn's ``Server`` on it (h11 protocol,
no lifespan, no logging configuration, so its error log reaches the harness's sink) and stops
it when the block ends. The server runs on whatever loop the cell runs (asyncio, eager tasks,
uvloop, rloop), which is why it is started per cell rather than once per test session.

The client is somebody else's program: ``run_client`` drives it on a plain asyncio loop in a
worker thread, so the loop under test serves the requests and nothing else, and the client's
own stack (httpx on anyio, which rejects eager tasks when it connects) is not what a cell
measures.

Stopping: uvicorn's own ``serve()`` polls for an exit flag every 0.1 s and its ``shutdown()``
sleeps 0.1 s before waiting for connections, which would add a fixed 0.2 s to each of hundreds
of cells. ``serving`` does the same steps without the fixed sleeps: stop listening, ask the
open connections to close, wait (bounded) until uvicorn has no connection or task left.

``stream_run`` is the client side of one request: it reads server-sent events and keeps what
arrived on the run it belongs to (the server names the run in a response header).
"""

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, Callable, Optional

import httpx
import uvicorn
from ctxreset.repro.server_app import RUN_INDEX_HEADER, STREAM_PATH

from ctxreset.probe import Probe, describe

SHUTDOWN_TIMEOUT = 5.0


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) for the block; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http="h11", ws="none", lifespan="off",
        log_config=None, access_log=False,
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[sock])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await _stop(server)
        sock.close()


async def _stop(server: uvicorn.Server) -> None:
    for listener in server.servers:
        listener.close()
    for connection in list(server.server_state.connections):
        connection.shutdown()
    state = server.server_state
    deadline = asyncio.get_running_loop().time() + SHUTDOWN_TIMEOUT
    while state.connections or any(not task.done() for task in state.tasks):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"uvicorn still has {len(state.connections)} connection(s) open")
        await asyncio.sleep(0.001)
    for listener in server.servers:
        await listener.wait_closed()


ClientMain = Callable[[httpx.AsyncClient], Awaitable[None]]


async def run_client(base_url: str, client_main: ClientMain, *, connections: int = 10) -> None:
    """Run ``client_main(client)`` on its own asyncio loop in a worker thread; wait for it."""

    async def main() -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(  # no proxies from the environment: loopback only
            base_url=base_url, timeout=httpx.Timeout(10.0), limits=limits, trust_env=False
        ) as client:
            await client_main(client)

    await asyncio.get_running_loop().run_in_executor(None, asyncio.run, main())


async def stream_run(
    client: httpx.AsyncClient,
    probe: Probe,
    *,
    pause_after: Optional[int] = None,
    disconnect_after: Optional[int] = None,
    path: str = STREAM_PATH,
) -> None:
    """GET ``path`` (``/stream``) and read its events; ``disconnect_after`` events: close the
    connection."""
    params = {} if pause_after is None else {"pause_after": str(pause_after)}
    async with client.stream("GET", path, params=params) as response:
        run = probe.runs[int(response.headers[RUN_INDEX_HEADER]) - 1]
        run.client_texts = []
        try:
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                run.client_texts.append(line[len("data: "):])
                if len(run.client_texts) == disconnect_after:
                    break  # leaving the block closes the connection mid-stream
        except httpx.HTTPError as exc:
            run.client_error = describe(exc)
