"""A streaming-specific trace: owned by the run task, current for the consumer while it iterates.

Strategy: ``Runner.run_streamed`` runs in a throwaway copy of the caller's Context, so the
trace it starts is current only there and in the run task (which copies it); the caller's
Context is untouched. ``Runner._run_streamed_impl`` finishes the trace in its ``finally``,
inside the run task. ``stream_events`` no longer finishes the trace; instead it marks the
trace current in the consumer's Context when iteration starts and resets it when iteration
ends, so the consumer's own spans attach to the run's trace.

Patches: ``Runner.run_streamed``, ``Runner._run_streamed_impl``,
``RunResultStreaming.stream_events``.

Trade-off: the consumer's reset lives in the generator's ``finally``. If the consumer
abandons the stream (``break``), the loop's finalizer closes the generator in another task,
where that reset is foreign again; and the trace can end while the consumer still has spans
open under it.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from typing import Any

from ctxreset.fixes._patching import Patches

from ctxreset.contract import PatchPoints, Undo

_TRACE_ATTR = "_fix_streaming_trace"


def apply(points: PatchPoints) -> Undo:
    patches = Patches()
    scope = points.scope
    run_streamed = patches.original(points.runner, "run_streamed")
    run_streamed_impl = patches.original(points.runner, "_run_streamed_impl")
    stream_events = patches.original(points.streaming_result, "stream_events")

    def patched_run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        result = contextvars.copy_context().run(run_streamed, cls, *args, **kwargs)
        trace = getattr(result, points.trace_attr)
        setattr(result, points.trace_attr, None)  # stream_events must not finish it
        object.__setattr__(result, _TRACE_ATTR, trace)
        return result

    async def patched_run_streamed_impl(cls: type, *args: Any, **kwargs: Any) -> Any:
        result = kwargs["streamed_result"]
        try:
            return await run_streamed_impl(cls, *args, **kwargs)
        finally:
            trace = getattr(result, _TRACE_ATTR, None)
            if trace is not None:
                trace.finish(reset_current=False)  # the run task's Context dies with it

    async def patched_stream_events(self: Any) -> AsyncIterator[Any]:
        trace = getattr(self, _TRACE_ATTR, None)
        token = scope.set_current_trace(trace) if trace is not None else None
        try:
            async for event in stream_events(self):
                yield event
        finally:
            if token is not None:
                scope.reset_current_trace(token)

    patches.replace(points.runner, "run_streamed", patched_run_streamed)
    patches.replace(points.runner, "_run_streamed_impl", patched_run_streamed_impl)
    patches.replace(points.streaming_result, "stream_events", patched_stream_events)
    return patches.undo
