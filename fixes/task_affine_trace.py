"""The run's trace is current for the task consuming the stream; it ends when both let go.

Strategy, in three parts:

1. ``Runner.run_streamed`` runs in a throwaway copy of the caller's Context. The trace it
   starts is current there and in the run task (which copies it), never in the caller's
   Context, and no token is ever reset in a Context that did not create it.
2. ``Scope.get_current_trace`` gains a task-affine fallback: when a task's Context has no
   current trace, it is the trace of the stream that task is consuming, if any. A task
   consumes a stream from its first ``__anext__`` until it lets go of the stream: the stream
   is exhausted, raises, is closed, or is dropped (an abandoned ``async for`` drops it at once;
   CPython frees the iterator when the loop exits). The fallback is kept in a dict keyed by
   task, not in a ContextVar, so any task may end it. Spans the consumer opens between events
   therefore join the run's trace, and nothing stays current once it lets go.
3. The trace has two holders, the run task and the consumer, and ends (``finish`` without a
   reset) when the second of them lets go: never while the consumer still has spans open,
   never before the run task's own spans close, exactly once.

Patches: ``Runner.run_streamed``, ``Runner._run_streamed_impl``,
``RunResultStreaming.stream_events`` (now returns an async iterator that knows when it is let
go), ``Scope.get_current_trace``.

Upstream, this would be public-API visible in two places: ``stream_events()`` returns an
async iterator object with ``aclose()`` rather than a bare async generator, and "current
trace" is no longer only a ContextVar: it falls back to a per-task registry while a task
consumes a stream (so child tasks the consumer spawns do not inherit the trace, unlike a
ContextVar). Its cost: a dict lookup when a Context has no current trace.

Trade-off: relies on the stream being let go. A consumer that keeps a reference to the
iterator and stops iterating keeps the trace current in its task, and open, until it drops
the reference or the result is garbage-collected.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref
from typing import Any, Optional

from ctxreset.fixes._patching import Patches

from ctxreset.contract import PatchPoints, Undo

_OWNERSHIP_ATTR = "_fix_task_affine_trace"


class SharedTrace:
    """A trace held by the run task and the consumer; finished once, when both let go."""

    def __init__(self, trace: Any) -> None:
        self.trace = trace
        self._holders = {"run", "consumer"}
        self._lock = threading.Lock()

    def release(self, holder: str) -> None:
        with self._lock:
            if holder not in self._holders:
                return
            self._holders.discard(holder)
            last = not self._holders
        if last:
            self.trace.finish(reset_current=False)


class ConsumingTasks:
    """Which task is consuming which stream's trace (a weak map: tasks come and go)."""

    def __init__(self) -> None:
        self._traces: weakref.WeakKeyDictionary[asyncio.Task[Any], Any] = (
            weakref.WeakKeyDictionary()
        )

    def trace_of_current_task(self) -> Optional[Any]:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running loop: sync code has no consuming task
            return None
        return None if task is None else self._traces.get(task)

    def add(self, task: asyncio.Task[Any], trace: Any) -> None:
        self._traces[task] = trace

    def discard(self, task: asyncio.Task[Any]) -> None:
        self._traces.pop(task, None)


class ConsumerStream:
    """The async iterator ``stream_events()`` returns: marks its consuming task while held."""

    def __init__(self, events: Any, shared: SharedTrace, consuming: ConsumingTasks) -> None:
        self._events = events
        self._shared = shared
        self._consuming = consuming
        self._tasks: list[asyncio.Task[Any]] = []
        self._done = False

    def __aiter__(self) -> ConsumerStream:
        return self

    async def __anext__(self) -> Any:
        if self._done:
            raise StopAsyncIteration
        task = asyncio.current_task()
        if task is not None and task not in self._tasks:
            self._tasks.append(task)
            self._consuming.add(task, self._shared.trace)
        try:
            return await self._events.__anext__()
        except BaseException:  # exhausted, failed or cancelled: the consumer is done with it
            self._let_go()
            raise

    async def aclose(self) -> None:
        self._let_go()
        await self._events.aclose()

    def _let_go(self) -> None:
        if self._done:
            return
        self._done = True
        for task in self._tasks:
            self._consuming.discard(task)
        self._shared.release("consumer")

    def __del__(self) -> None:
        # An abandoned ``async for`` drops the iterator right away; the library's generator is
        # closed later, in another task, by the loop's finalizer, and has nothing left to do.
        self._let_go()


def apply(points: PatchPoints) -> Undo:
    patches = Patches()
    consuming = ConsumingTasks()
    run_streamed = patches.original(points.runner, "run_streamed")
    run_streamed_impl = patches.original(points.runner, "_run_streamed_impl")
    stream_events = patches.original(points.streaming_result, "stream_events")
    get_current_trace = patches.original(points.scope, "get_current_trace")

    def patched_run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        result = contextvars.copy_context().run(run_streamed, cls, *args, **kwargs)
        trace = getattr(result, points.trace_attr)
        if trace is not None:  # a new trace of its own (not joined to an enclosing one)
            setattr(result, points.trace_attr, None)  # the library must not finish it
            shared = SharedTrace(trace)
            object.__setattr__(result, _OWNERSHIP_ATTR, shared)
            weakref.finalize(result, shared.release, "consumer")  # never iterated at all
        return result

    async def patched_run_streamed_impl(cls: type, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run_streamed_impl(cls, *args, **kwargs)
        finally:
            shared = getattr(kwargs["streamed_result"], _OWNERSHIP_ATTR, None)
            if shared is not None:
                shared.release("run")

    def patched_stream_events(self: Any) -> Any:
        shared = getattr(self, _OWNERSHIP_ATTR, None)
        events = stream_events(self)
        return events if shared is None else ConsumerStream(events, shared, consuming)

    def patched_get_current_trace(cls: type) -> Any:
        trace = get_current_trace(cls)
        return trace if trace is not None else consuming.trace_of_current_task()

    patches.replace(points.runner, "run_streamed", patched_run_streamed)
    patches.replace(points.runner, "_run_streamed_impl", patched_run_streamed_impl)
    patches.replace(points.streaming_result, "stream_events", patched_stream_events)
    patches.replace(points.scope, "get_current_trace", patched_get_current_trace)
    return patches.undo
