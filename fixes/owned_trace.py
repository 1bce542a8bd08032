"""The run owns its trace: current wherever the run is used, revoked everywhere when it ends.

Strategy, in four parts (the current-value machinery is ``fixes/_revocable.py``):

1. Revocable "current". The Scope's ContextVars hold revocable entries: a Token reset
   revokes its entry in every Context that copied it, and a reset from a foreign Context is
   tolerated (the revocation did its work). Nothing is ever reset in a Context that did not
   set it.
2. Exposed like the unpatched library, never reset. ``Runner.run_streamed`` starts the run in
   a private copy of the caller's Context (the run task inherits it), then pushes the trace
   on the caller's Context as a *run entry*, exactly where the unpatched library marks it
   current: every task created from the caller afterwards (a StreamingResponse's task, a
   worker, the consumer's own child tasks and ``wait_for`` steps) sees it, so the consumer's
   spans join the run's trace wherever it reads. A consumer whose Context does not show the
   trace on a pull (a task created before the run, or one reading two streams in turn) gets
   it pushed there on that pull, replacing the one its previous pull pushed.
3. One owner ends the trace, once, without a reset. The library no longer finishes it; the
   fix does, when the run task has finished, every stream handed out has been let go
   (exhausted, failed, closed or dropped) or the result itself was dropped, and every span
   made current under the trace has closed (a guardrail task cancelled after the run ends
   its span later). Ending revokes every entry of the trace, in every Context.
4. Runs do not join a trace only because a consumer is reading another run. A new streamed
   run starts under the nearest trace the *user* made current (``with trace(...)``), skipping
   run entries, so a second run started while a first stream is held gets a trace of its own
   (a nested one: its own trace, which the checker allows), and joins an enclosing trace as
   before. And a pull whose step was cancelled but which the library ended quietly (0.0.11
   swallows the ``CancelledError`` of a cancelled step and ends the stream) raises
   ``CancelledError``, so a per-event timeout reaches the consumer as a timeout, not as the
   end of the answer (Python 3.11+, where ``Task.cancelling()`` says a cancel is pending).

Patches: ``Scope.get/set/reset_current_trace``, ``Scope.get/set/reset_current_span``,
``Runner.run_streamed``, ``Runner._run_streamed_impl``, ``RunResultStreaming.stream_events``
(now returns an async iterator object with ``aclose()`` that knows when it is let go).

Upstream API: ``stream_events()`` returns an async iterator object rather than a bare async
generator; ``Scope``'s ContextVars hold entries (code reading them directly, not through
``Scope`` or ``get_current_trace()``, would see the entry); a streamed run started while only
another streamed run's trace is current starts its own trace instead of joining it; and a
trace ends only after the spans made current under it have closed.

Trade-off: the trace lives as long as its stream is held. A consumer that stops reading but
keeps the iterator keeps the trace open (current in the Contexts that copied it) until it
drops it; a span opened under the trace and never closed keeps it open for ever. Revoked
entries stay referenced by the Contexts that copied them until those die (memory, not
state). Cost: an ``Entry`` per set, a loop step per get, a coroutine per event.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref
from typing import Any, Awaitable, Callable, Optional

from ctxreset.fixes._patching import Patches
from ctxreset.fixes._revocable import Entry, Revocable, prune, resolve

from ctxreset.contract import PatchPoints, Undo

_OWNER_ATTR = "_fix_owned_trace"


class Ownership:
    """One run's trace and what holds it open; ends it once, when nothing does."""

    def __init__(self, trace: Any, owned: dict[str, Ownership]) -> None:
        self.trace = trace
        self.entries: list[Entry] = []
        self.finished = False
        self._owned = owned
        self._run_done = False
        self._let_go = False
        self._streams = 0
        self._spans = 0
        self._lock = threading.Lock()
        self._result_ref: Optional[weakref.ref[Any]] = None
        self.run_entry: Optional[Entry] = None
        self._run_side: dict[int, asyncio.Task[Any]] = {}
        """Tasks of the run itself (not of a consumer) holding a span open, by span entry."""

    def watch(self, result: Any) -> None:
        """A result dropped unread lets go of the trace too."""
        self._result_ref = weakref.ref(result, self._result_dropped)

    def _result_dropped(self, _ref: Any) -> None:
        self._update(let_go=True)

    def run_finished(self) -> None:
        self._update(run_done=True)

    def stream_opened(self) -> None:
        self._update(streams=1)

    def stream_let_go(self) -> None:
        self._update(streams=-1, let_go=True)

    def span_opened(self, entry: Entry, run_side: Optional[asyncio.Task[Any]]) -> None:
        entry.owner = self
        if run_side is not None:
            self._run_side[id(entry)] = run_side
        self._update(spans=1)

    def closed(self, entry: Entry) -> None:
        """A span made current under the trace was reset (ended)."""
        self._run_side.pop(id(entry), None)
        self._update(spans=-1)

    def _update(self, *, run_done: bool = False, let_go: bool = False, streams: int = 0,
                spans: int = 0) -> None:
        with self._lock:
            self._run_done |= run_done
            self._let_go |= let_go
            self._streams += streams
            self._spans += spans
            if self.finished or not self._run_done or not self._let_go or self._streams:
                return
            if self._spans > 0:
                orphans = list(self._run_side.values())
                self._run_side.clear()
            else:
                orphans = []
                self.finished = True
        if orphans:
            # The run is over and nobody reads it: what it left running under its trace (a
            # guardrail 0.0.11 does not cancel) is cancelled, so its spans close and the
            # trace can end.
            for task in orphans:
                task.get_loop().call_soon_threadsafe(task.cancel)
            return
        if not self.finished:
            return
        self._owned.pop(str(self.trace.trace_id), None)
        self.trace.finish(reset_current=False)
        for entry in self.entries:
            entry.live = False


def _cancel_pending() -> bool:
    """Whether the calling task has a cancellation requested and not yet taken back."""
    task = _current_task()
    cancelling: Optional[Callable[[], int]] = getattr(task, "cancelling", None)
    return cancelling is not None and cancelling() > 0


class OwnedStream:
    """What ``stream_events()`` returns: the library's events, holding the trace open while
    held, and showing it as current to whichever task pulls, until the stream is let go."""

    def __init__(self, events: Any, owner: Ownership, traces: Revocable) -> None:
        self._events = events
        self._owner = owner
        self._var = traces.var
        self._shown: list[Entry] = []
        self._done = False
        owner.stream_opened()

    def __aiter__(self) -> OwnedStream:
        return self

    def __anext__(self) -> Awaitable[Any]:
        # Synchronous on purpose: this part runs in the task that asks for the next event,
        # even when the step itself is awaited in another task (``wait_for`` before 3.12,
        # ``ensure_future(stream.__anext__())``), so that task's Context shows the trace.
        if not self._done and not self._owner.finished:
            raw = self._var.get(None)
            if resolve(raw) is not self._owner.trace:
                entry = Entry(self._owner.trace, prune(raw), run=True)
                self._shown.append(entry)
                self._var.set(entry)
        return self._step()

    async def _step(self) -> Any:
        if self._done:
            raise StopAsyncIteration
        try:
            return await self._events.__anext__()
        except StopAsyncIteration:
            self._release()
            if _cancel_pending():  # the library swallowed this step's cancellation
                raise asyncio.CancelledError() from None
            raise
        except BaseException:
            self._release()
            raise

    async def aclose(self) -> None:
        self._release()
        await self._events.aclose()

    def _release(self) -> None:
        if not self._done:
            self._done = True
            for entry in self._shown:  # no longer current where this stream showed it
                entry.live = False
            self._owner.stream_let_go()

    def __del__(self) -> None:
        # Dropped unfinished (an abandoned ``async for``): the library's generator is closed
        # later by the loop's finalizer, in another task, and has nothing left to do.
        self._release()


def _live_entry(raw: Any) -> Optional[Entry]:
    while type(raw) is Entry:
        if raw.live:
            return raw
        raw = raw.below
    return None


def _current_task() -> Optional[asyncio.Task[Any]]:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _user_visible(raw: Any) -> Any:
    """``raw`` without the run entries and revoked entries on top: what the user made
    current."""
    while type(raw) is Entry and (raw.run or not raw.live):
        raw = raw.below
    return raw


def apply(points: PatchPoints) -> Undo:
    patches = Patches()
    owned: dict[str, Ownership] = {}

    def on_span_set(entry: Entry) -> None:
        owner = owned.get(str(getattr(entry.value, "trace_id", "")))
        if owner is not None and not owner.finished:
            run_side = None
            if owner.run_entry is not None and _live_entry(traces.top()) is owner.run_entry:
                run_side = _current_task()
            owner.span_opened(entry, run_side)

    traces = Revocable(patches, points, "trace")
    spans = Revocable(patches, points, "span", on_set=on_span_set)
    run_streamed = patches.original(points.runner, "run_streamed")
    run_streamed_impl = patches.original(points.runner, "_run_streamed_impl")
    stream_events = patches.original(points.streaming_result, "stream_events")

    def start(cls: type, raw: Any, args: Any, kwargs: Any) -> Any:
        visible = _user_visible(raw)
        if visible is not raw:
            traces.push(visible)
            span = resolve(spans.top())
            if span is not None and getattr(span, "trace_id", None) != getattr(
                    resolve(visible), "trace_id", None):
                spans.push(None)  # a span of the hidden run is no parent for this one
        return run_streamed(cls, *args, **kwargs)

    def patched_run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        raw = traces.top()
        home = contextvars.copy_context()
        result = home.run(start, cls, raw, args, kwargs)
        trace = getattr(result, points.trace_attr)
        if trace is None:  # joined a trace the user made current: theirs to end
            return result
        setattr(result, points.trace_attr, None)  # the library must not finish it
        owner = Ownership(trace, owned)
        run_entry = home.run(traces.top)
        if type(run_entry) is Entry and run_entry.value is trace:
            owner.entries.append(run_entry)  # current in the run task and its own tasks
            owner.run_entry = run_entry
        owned[str(trace.trace_id)] = owner
        owner.watch(result)
        object.__setattr__(result, _OWNER_ATTR, owner)
        return result

    async def patched_run_streamed_impl(cls: type, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run_streamed_impl(cls, *args, **kwargs)
        finally:
            owner = getattr(kwargs["streamed_result"], _OWNER_ATTR, None)
            if owner is not None:
                owner.run_finished()

    def patched_stream_events(self: Any) -> Any:
        owner = getattr(self, _OWNER_ATTR, None)
        events = stream_events(self)
        return events if owner is None else OwnedStream(events, owner, traces)

    patches.replace(points.runner, "run_streamed", patched_run_streamed)
    patches.replace(points.runner, "_run_streamed_impl", patched_run_streamed_impl)
    patches.replace(points.streaming_result, "stream_events", patched_stream_events)
    return patches.undo
