"""The FastAPI app a user would write: an endpoint streaming a run as server-sent events.

``GET /held`` takes the first item of a stream holding the library's block across its yields
(``repro.held``) and returns a ``StreamingResponse`` of the rest. ``GET /stream`` calls
``run_streamed()`` in the request's task and returns a ``StreamingResponse`` over the run's
events, the shape of the endpoints in upstream issues #435, #538 and #634. Starlette sends the
body from a task of its own (uvicorn speaks ASGI HTTP 2.3, so the response listens for the
disconnect in a task group), which is why the stream ends in a Context other than the one that
started the trace.

The body generator lets the library's errors propagate as user code would: uvicorn then logs
"Exception in ASGI application", which the harness's error sink sees. A thin ASGI wrapper
snapshots each request task's Context once its response is done, and counts finished
requests so a scenario can wait for the server side to settle before it stops the server.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Optional

from ctxreset.repro.consumer import deliver, snapshot
from ctxreset.repro.held import open_held
from ctxreset.repro.model_script import ModelScript
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from ctxreset.contract import Library
from ctxreset.probe import Probe

RUN_INDEX_HEADER = "x-run-index"
STREAM_PATH = "/stream"
HELD_PATH = "/held"


def build_fastapi_app(library: Library, probe: Probe) -> FastAPI:
    app = FastAPI()

    @app.get(STREAM_PATH)
    async def stream(pause_after: Optional[int] = None) -> StreamingResponse:
        run = probe.new_run(ModelScript(pause_after=pause_after))
        run.result = library.start_run(run)

        async def server_sent_events() -> AsyncIterator[str]:
            async for text in deliver(library, probe, run):
                yield f"data: {text}\n\n"
            error = run.consumer_error
            if error is not None and not isinstance(error, asyncio.CancelledError):
                raise error  # what user code does: it never catches the library's error

        return StreamingResponse(
            server_sent_events(),
            media_type="text/event-stream",
            headers={RUN_INDEX_HEADER: str(run.index)},
        )

    @app.get(HELD_PATH)
    async def held(pause_after: Optional[int] = None) -> StreamingResponse:
        """The held shape: the stream holds the library's block across its yields. The
        endpoint awaits the first item itself (so an early failure becomes an error status),
        then hands the rest to ``StreamingResponse``, which reads it in a task of its own."""
        run = probe.new_run(ModelScript(pause_after=pause_after))
        stream = open_held(library, run)
        first = await stream.__anext__()
        run.texts.append(first)

        async def server_sent_events() -> AsyncIterator[str]:
            yield f"data: {first}\n\n"
            async for text in stream:
                run.texts.append(text)
                yield f"data: {text}\n\n"

        return StreamingResponse(
            server_sent_events(),
            media_type="text/event-stream",
            headers={RUN_INDEX_HEADER: str(run.index)},
        )

    return app


class RequestTracker:
    """ASGI wrapper: snapshot each request task's Context after its response; count them."""

    def __init__(self, app: Any, library: Library, probe: Probe) -> None:
        self.app = app
        self.library = library
        self.probe = probe
        self.finished = 0
        self._changed = asyncio.Condition()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.finished += 1
            snapshot(self.library, self.probe, f"request task {self.finished} after its response")
            async with self._changed:
                self._changed.notify_all()

    async def wait_finished(self, count: int) -> None:
        """Until ``count`` requests have finished on the server side."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.finished >= count)


def build_app(library: Library, probe: Probe) -> RequestTracker:
    """The ASGI app uvicorn serves: the FastAPI app inside the request tracker."""
    return RequestTracker(build_fastapi_app(library, probe), library, probe)
