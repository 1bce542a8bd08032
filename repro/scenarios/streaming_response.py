"""Starlette/FastAPI style: an endpoint returns a generator that a separate task drives.

Stands for ``StreamingResponse(sse(result))`` (upstream issues #435, #538): the endpoint task
calls ``run_streamed`` and wraps ``stream_events()`` in an async generator of server-sent
events; the server iterates that generator from a task of its own, so the stream ends in a
Context other than the endpoint's. No web framework here; the real uvicorn scenario is
separate.
"""

import asyncio
from collections.abc import AsyncIterator

from ctxreset.repro.consumer import deliver

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def endpoint(library: Library, probe: Probe) -> AsyncIterator[str]:
    """The request handler: start the run, return the response body."""
    run = probe.new_run()
    run.result = library.start_run(run)

    async def server_sent_events() -> AsyncIterator[str]:
        async for text in deliver(library, probe, run):
            yield f"data: {text}\n\n"

    return server_sent_events()


async def scenario(library: Library, probe: Probe) -> None:
    body = await asyncio.create_task(endpoint(library, probe))  # the request's task

    async def send_body() -> None:  # Starlette sends the body from a task of its own
        async for _chunk in body:
            pass

    await asyncio.create_task(send_body())
