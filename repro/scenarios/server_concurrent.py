"""Fifty concurrent streaming requests to one uvicorn server, each on its own connection.

Stands for a server under load. Every request must get its own trace, every span must carry
its own request's trace id, no request's trace may leak into another request's Context, and
every client must read its whole stream.
"""

import asyncio
from typing import Any

from ctxreset.contract import Library
from ctxreset.probe import Probe

REQUESTS = 50


async def scenario(library: Library, probe: Probe) -> None:
    from ctxreset.repro.loopback_server import run_client, serving, stream_run
    from ctxreset.repro.server_app import build_app

    async def fifty_at_once(client: Any) -> None:
        await asyncio.gather(*(stream_run(client, probe) for _ in range(REQUESTS)))

    app = build_app(library, probe)
    async with serving(app) as base_url:
        await run_client(base_url, fifty_at_once, connections=REQUESTS)
        await app.wait_finished(REQUESTS)
