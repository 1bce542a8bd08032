"""The run owns its trace: shown to whoever reads the run, ended once, revoked everywhere.

Strategy, in four parts (the current-value machinery is ``fixes/_revocable.py``):

1. Revocable "current". The Scope's ContextVars hold revocable entries: a Token reset
   revokes its entry in every Context that copied it, and a reset from a foreign Context is
   tolerated (the revocation did its work). Nothing is ever reset in a Context that did not
   set it.
2. Shown where the run is read, set lazily on the pull (the agent-framework strategy, made
   to survive every place a pull can come from). ``Runner.run_streamed`` lets the library
   mark the trace current only for the run task it creates; the caller's Context is left as
   it was. ``stream_events()`` returns an iterator whose ``__anext__`` is synchronous: it
   runs in the task that asks for the next event, even when the step is awaited elsewhere
   (``wait_for`` before 3.12, ``ensure_future(stream.__anext__())``), and if that task's
   Context does not show the trace it pushes it there, so spans the consumer opens while
   handling the event, and the tasks it spawns, join the run's trace. When the stream is
   let go (read to its end, failed, closed or dropped) every such entry is revoked.
3. One owner ends the trace, once, without a reset (the library's own end-of-stream
   ``trace.finish(reset_current=True)`` reaches a stand-in instead): when the run's task is
   done, its reader has let go (a stream let go or ended, or the result dropped unread),
   and every span made current under the trace has closed. If only spans the run itself
   left running hold it (0.0.11 does not cancel an input guardrail slower than the stream),
   their tasks are cancelled so they close. Ending revokes every entry of the trace.
4. A run does not join a trace only because its caller is reading another run: a new
   streamed run starts under the nearest trace the *user* made current (``with
   trace(...)``), skipping entries the fix pushed for readers, so it gets its own trace (a
   nested run may have either; the checker allows both) and still joins an enclosing trace.
   And where the library ends a stream quietly because the pulling step was cancelled
   (0.0.11 swallows that ``CancelledError``), the pull raises ``CancelledError`` and the
   run task is cancelled, so a per-event timeout reaches the consumer as a timeout, not as
   the end of the answer (Python 3.11+, where ``Task.cancelling()`` says so).

Patches: ``Scope.get/set/reset_current_trace``, ``Scope.get/set/reset_current_span``,
``Runner.run_streamed``, ``RunResultStreaming.stream_events``; it reads the result's trace
and run-task attributes (``PatchPoints.trace_attr``, ``run_task_attr``).

Upstream API: ``stream_events()`` returns an async iterator object (with ``aclose()``)
rather than a bare async generator; ``Scope``'s ContextVars hold entries (code reading them
directly, not through ``Scope`` or ``get_current_trace()``, would see the entry); the
caller's Context no longer shows the run's trace until it reads the stream; a streamed run
started while only another run's trace is shown starts its own trace instead of joining it;
a trace ends only after the spans made current under it have closed.

Trade-off: the trace lives as long as its stream is held: a consumer that stops reading
but keeps the iterator keeps it open (and shown in its Context) until it drops it; a span
never closed keeps it open for ever; a task the run leaves running with a span open is
cancelled once nobody reads the run. Code between ``run_streamed()`` and the first pull
does not see the trace. Revoked entries stay referenced by the Contexts that copied them
until those die (memory, not state). Cost (``nox -s bench``; profiled with cProfile): about
fifty more Python-level calls per run than the unpatched library (bookkeeping at the start,
the first pull, the end and per span; none per event), x1.09-1.12 per same-task streamed run
on a shared 2-core machine: over the 5% budget. Without the span count (and so failing
``slow_guardrail``'s spans-closed, as the unpatched library does) about x1.07.
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

_NOTHING = object()

_LOCK = threading.Lock()
"""Guards every Ownership's counts (a stream may be read on another thread's loop); held for
a few instructions at a time."""


class Ownership:
    """One run's trace and what holds it open; ends it once, when nothing does.

    Holders: the run (until its task is seen done), its reader (until a stream is let go or
    ends, or the result is dropped unread), each stream handed out (until let go) and each
    span made current under the trace (until reset). One count; the trace ends when it
    reaches zero. The run's task is only watched (a done callback) once nothing else holds
    the trace: a stream read to its end usually finds the task already done.
    """

    __slots__ = (
        "_held",
        "_holds",
        "_reader",
        "_result_ref",
        "_run",
        "_run_side",
        "_streams",
        "_watching",
        "entries",
        "finished",
        "run_entry",
        "run_task",
        "trace",
    )

    def __init__(self) -> None:
        self.trace: Any = None
        self.entries: list[Entry] = []
        self.run_entry: Optional[Entry] = None
        """The entry the library's own start pushed: current in the run task and its tasks."""
        self.run_task: Optional[asyncio.Task[Any]] = None
        self.finished = False
        self._held = 2  # the run and its reader
        self._run = True
        self._reader = True
        self._streams = 0
        self._holds: list[Hold] = []
        self._run_side: Optional[dict[int, asyncio.Task[Any]]] = None
        """Tasks of the run itself (not of a reader) holding a span open, by span entry."""
        self._watching = False
        self._result_ref: Optional[weakref.ref[Any]] = None

    def watch(self, result: Any) -> None:
        """A result dropped unread lets go of the trace too."""
        self._result_ref = weakref.ref(result, self._result_dropped)

    def _result_dropped(self, _ref: Any) -> None:
        with _LOCK:
            held = self._let_reader_go()
        self._settle(held)

    def run_task_done(self, _task: Any = None) -> None:
        with _LOCK:
            if self._run:
                self._run = False
                self._held -= 1
            held = self._held
        self._settle(held)

    def stream_opened(self, hold: Hold) -> None:
        with _LOCK:
            self._holds.append(hold)
            self._streams += 1
            self._held += 1

    def stream_let_go(self) -> None:
        with _LOCK:
            self._streams -= 1
            self._held -= 1
            held = self._let_reader_go()
        self._settle(held)

    def streams_ended(self) -> None:
        """A stream reached its end: the events are all read, every stream is let go."""
        with _LOCK:
            holds, self._holds = self._holds, []
            for hold in holds:
                if not hold.done:
                    hold.done = True
                    self._streams -= 1
                    self._held -= 1
            held = self._let_reader_go()
        for hold in holds:  # no longer current where the streams showed it
            for entry in hold.shown:
                entry.live = False
        self._settle(held)

    def _let_reader_go(self) -> int:
        if self._reader:
            self._reader = False
            self._held -= 1
        return self._held

    def closed(self, entry: Entry) -> None:
        """A span made current under the trace was reset (ended)."""
        with _LOCK:
            self._held -= 1
            if self._run_side:
                self._run_side.pop(id(entry), None)
            held = self._held
        if held == 0 or not (self._reader or self._streams):
            self._settle(held)

    def _settle(self, held: int) -> None:
        if held:
            if self._reader or self._streams:
                return
            if self._run:  # only the run holds it now: is it done?
                task = self.run_task
                if task is None or task.done():
                    self.run_task_done()
                elif not self._watching:
                    self._watching = True
                    task.add_done_callback(self.run_task_done)
                return
            if self._run_side:
                self._cancel_orphans()
            return
        with _LOCK:
            if self.finished:
                return
            self.finished = True
        self.trace.finish(reset_current=False)
        entries, self.entries, self._holds, self.run_entry = self.entries, [], [], None
        for entry in entries:  # and no cycle left to keep the trace alive
            entry.live = False
            entry.shows = None

    def _cancel_orphans(self) -> None:
        """The run is over and nobody reads it: what it left running under its trace (a
        guardrail 0.0.11 does not cancel) is cancelled, so its spans close and the trace
        can end."""
        with _LOCK:
            orphans = list(self._run_side.values()) if self._run_side else []
            self._run_side = None
        for task in orphans:
            task.get_loop().call_soon_threadsafe(task.cancel)


class Hold:
    """One stream's hold on the trace, and where it showed the trace as current."""

    __slots__ = ("done", "owner", "shown")

    def __init__(self, owner: Ownership) -> None:
        self.owner = owner
        self.shown: list[Entry] = []
        self.done = False
        owner.stream_opened(self)

    def release(self) -> None:
        if not self.done:
            self.done = True
            for entry in self.shown:  # no longer current where this stream showed it
                entry.live = False
            self.owner.stream_let_go()


class OwnedStream:
    """What ``stream_events()`` returns: the library's own async generator, behind an
    iterator that shows the trace to whichever task pulls and knows when it is dropped.

    ``__anext__`` is synchronous on purpose: it runs in the task that asks for the next
    event, even when the step itself is awaited in another task (``wait_for`` before 3.12,
    ``ensure_future(stream.__anext__())``), so that task's Context shows the trace; and it
    hands back the library's own step, so an event costs no extra coroutine. The end of the
    stream (exhausted, failed, or ended because a step was cancelled) reaches the owner
    through ``StreamEnd``, which the library calls there.
    """

    __slots__ = ("_events", "_hold", "_last", "_var")

    def __init__(self, events: Any, hold: Hold, var: contextvars.ContextVar[Any]) -> None:
        self._events = events
        self._hold = hold
        self._var = var
        self._last: Any = _NOTHING

    def __aiter__(self) -> OwnedStream:
        return self

    def __anext__(self) -> Awaitable[Any]:
        raw = self._var.get(None)
        if raw is not self._last or not raw.live:
            hold = self._hold
            trace = hold.owner.trace
            if not hold.done and not hold.owner.finished and resolve(raw) is not trace:
                raw = Entry(trace, prune(raw), run=True, shows=hold.owner)
                hold.shown.append(raw)
                self._var.set(raw)
            self._last = raw if type(raw) is Entry else _NOTHING
        events: Awaitable[Any] = self._events.__anext__()
        return events

    def aclose(self) -> Awaitable[None]:
        self._hold.release()
        closing: Awaitable[None] = self._events.aclose()
        return closing

    def __del__(self) -> None:
        # Dropped unfinished (an abandoned ``async for``): the library's generator is closed
        # later by the loop's finalizer, in another task, and has nothing left to do.
        self._hold.release()


class StreamEnd:
    """Stands in for the trace on the streaming result: where the library finishes the
    trace at the end of a stream, it tells the owner that the stream was let go instead."""

    __slots__ = ("owner",)

    def __init__(self, owner: Ownership) -> None:
        self.owner = owner

    def finish(self, reset_current: bool = False) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        cancelling: Optional[Callable[[], int]] = getattr(task, "cancelling", None)
        cancelled = cancelling is not None and cancelling() > 0
        run_task = self.owner.run_task
        if cancelled and run_task is not None:
            run_task.cancel()  # what the library's own clean-up would have done next
        self.owner.streams_ended()
        if cancelled:
            # The library swallowed the step's CancelledError and ended the stream: the
            # consumer asked to stop waiting, not for the end of the answer.
            raise asyncio.CancelledError()


def _live_entry(raw: Any) -> Optional[Entry]:
    while type(raw) is Entry:
        if raw.live:
            return raw
        raw = raw.below
    return None


def _user_visible(raw: Any) -> Any:
    """``raw`` without the run entries and revoked entries on top: what the user made
    current."""
    while type(raw) is Entry and (raw.run or not raw.live):
        raw = raw.below
    return raw


def apply(points: PatchPoints) -> Undo:
    patches = Patches()

    def on_span_set(entry: Entry) -> None:
        # A span made current where a run's trace is (the run's own tasks, a reader) is
        # that run's: it holds the trace open until it is reset. (Inlined: this runs for
        # every span the library opens.)
        shown = trace_var_get(None)
        if type(shown) is not Entry:
            return
        if not shown.live:
            shown = _live_entry(shown)
            if shown is None:
                return
        owner: Optional[Ownership] = shown.shows
        if owner is None or owner.finished:
            return
        entry.owner = owner
        task = None
        if shown is owner.run_entry:
            try:  # noqa: SIM105 (contextlib.suppress costs three calls on every span)
                task = asyncio.current_task()
            except RuntimeError:  # no running loop: no task to cancel
                pass
        with _LOCK:
            owner._held += 1
            if task is not None:
                if owner._run_side is None:
                    owner._run_side = {}
                owner._run_side[id(entry)] = task

    claiming = threading.local()
    """The owner of the run ``run_streamed`` is starting on this thread, until it returns."""

    def on_trace_set(entry: Entry) -> None:
        owner: Optional[Ownership] = getattr(claiming, "owner", None)
        if owner is not None and owner.run_entry is None:  # the library starting the run's
            owner.trace = entry.value
            owner.run_entry = entry
            owner.entries.append(entry)
            entry.shows = owner

    traces = Revocable(patches, points, "trace", on_set=on_trace_set)
    trace_var_get = traces.var.get
    spans = Revocable(patches, points, "span", on_set=on_span_set)
    run_streamed = patches.original(points.runner, "run_streamed")
    stream_events = patches.original(points.streaming_result, "stream_events")

    trace_var = traces.var
    trace_attr, run_task_attr = points.trace_attr, points.run_task_attr
    span_var = spans.var

    def patched_run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        # The run task copies the caller's Context while ``run_streamed`` runs; everything
        # set here for it is reset before returning, in this same Context (LIFO), so the
        # caller's Context is left as it was. The owner exists before the library starts the
        # trace: an eager task factory runs the run's first steps (its spans, its guardrail
        # tasks) inside ``run_streamed`` already.
        raw = trace_var.get(None)
        visible = _user_visible(raw)
        undo: list[contextvars.Token[Any]] = []
        if visible is not raw and resolve(visible) is not resolve(raw):
            undo.append(trace_var.set(visible))
            span = resolve(span_var.get(None))
            if span is not None and getattr(span, "trace_id", None) != getattr(
                    resolve(visible), "trace_id", None):
                undo.append(span_var.set(None))  # a span of the hidden run is no parent
        owner = Ownership()
        claiming.owner = owner
        try:
            result = run_streamed(cls, *args, **kwargs)
        finally:
            claiming.owner = None
            run_entry = owner.run_entry
            if run_entry is not None and run_entry.token is not None:
                trace_var.reset(run_entry.token)  # current in the run task only
                run_entry.token = None
            for token in reversed(undo):
                token.var.reset(token)
        trace = getattr(result, trace_attr)
        if trace is None or run_entry is None or trace is not owner.trace:
            if run_entry is not None:  # not the run's own trace after all
                run_entry.shows = None
            return result  # joined a trace the user made current: theirs to end
        owner.run_task = getattr(result, run_task_attr, None)
        setattr(result, trace_attr, StreamEnd(owner))  # not the library's
        owner.watch(result)
        return result

    def patched_stream_events(self: Any) -> Any:
        # The owner travels in the stand-in at the trace's own attribute: an attribute the
        # class does not declare would cost every instance its specialised attribute access.
        end = getattr(self, trace_attr, None)
        events = stream_events(self)
        if type(end) is not StreamEnd:
            return events
        owner = end.owner
        return OwnedStream(events, Hold(owner), traces.var)

    patches.replace(points.runner, "run_streamed", patched_run_streamed)
    patches.replace(points.streaming_result, "stream_events", patched_stream_events)
    return patches.undo
