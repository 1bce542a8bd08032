"""The run owns its trace: shown to whoever reads the run, ended once, revoked everywhere.

Strategy, in four parts (the current-value machinery is ``fixes/_revocable.py``):

1. Revocable "current" trace. The Scope's trace ContextVar holds revocable entries: a
   Token reset revokes its entry in every Context that copied it, and a reset from a
   foreign Context is tolerated (the revocation did its work). Nothing is ever reset in a
   Context that did not set it. Spans stay bare values in their ContextVar (the library
   sets and resets each in one Context); the fix only counts the ones opened under a trace
   it owns.
2. Shown to the caller and wherever the run is read, set lazily on the pull (the
   agent-framework strategy, made to survive every place a pull can come from).
   ``Runner.run_streamed`` lets the library mark the trace current for the run task it
   creates, then shows it in the caller's Context through an entry of the fix's own (so
   work the caller traces before the first read, and tasks it spawns then, join the run's
   trace, as with the unpatched library), revoked once the caller's reading is over (a
   stream let go or ended, or the result dropped). ``stream_events()`` returns an iterator
   whose ``__anext__`` is synchronous: it
   runs in the task that asks for the next event, even when the step is awaited elsewhere
   (``wait_for`` before 3.12, ``ensure_future(stream.__anext__())``), and if that task's
   Context does not show the trace it pushes it there, so spans the consumer opens while
   handling the event, and the tasks it spawns, join the run's trace (a copy of the caller's
   Context gets an entry of its own too: the caller's Token resets only in the caller's own
   Context, which tells them apart). That entry sits over what was current when the run
   started, where that is the reading Context's own past (runs started one over another
   unwind like a stack), and elsewhere (a task handed the stream) over what the user made
   current, not over another run's entry. When the stream is let go (failed, closed or
   dropped) every such entry is revoked. When it is read to its end in the Context that
   shows it, that entry is reset there instead and left to the tasks the reader spawned
   while reading, as any ContextVar's value is (work a handler started for the last events
   still joins the run's trace); an end that runs elsewhere (a ``wait_for`` step's task
   before 3.12) revokes it with the rest.
3. One owner ends the trace, once, without a reset (the library's own end-of-stream
   ``trace.finish(reset_current=True)`` reaches a stand-in instead): when the run's task is
   done, its reader has let go (a stream let go or ended, or the result dropped unread),
   and every span made current under the trace has closed. If only spans the run itself
   left running hold it (0.0.11 does not cancel an input guardrail slower than the stream),
   their tasks are cancelled so they close. Ending revokes every entry of the trace but the
   one left to the reader's tasks.
4. A run does not join a trace only because its caller is reading another run: a new
   streamed run starts under the nearest trace the *user* made current (``with
   trace(...)``), skipping entries the fix pushed for readers, so it gets its own trace (a
   nested run may have either; the checker allows both) and still joins an enclosing trace.
   And where the library ends a stream quietly because the pulling step was cancelled
   (0.0.11 swallows that ``CancelledError``), the pull raises ``CancelledError`` and the
   run task is cancelled, so a per-event timeout reaches the consumer as a timeout, not as
   the end of the answer. The fix tells that end from the others by the library's own
   state, the same on every Python: the stream ended while the result does not say the run
   completed or failed (``is_complete``, which 0.0.11 sets before it queues the end).
   ``Task.cancelling()`` would say it only from 3.11, and also for a cancel that arrived
   with the last event, when the answer was whole.

Patches: ``Scope.get/set/reset_current_trace``, ``Scope.set/reset_current_span``,
``Runner.run_streamed``, ``RunResultStreaming.stream_events``; it reads the result's trace,
run-task and completion attributes (``PatchPoints.trace_attr``, ``run_task_attr``,
``complete_attr``).

Upstream API: ``stream_events()`` returns an async iterator object (with ``aclose()``)
rather than a bare async generator; ``Scope``'s trace ContextVar holds entries (code reading it
directly, not through ``Scope`` or ``get_current_trace()``, would see the entry); a streamed
run started while only another run's trace is shown starts its own trace instead of joining
it; a trace ends only after the spans made current under it have closed; the streaming
result's ``is_complete`` is read to tell a swallowed cancel from the end of the answer.

Trade-off: the trace lives as long as its stream is held: a consumer that stops reading but
keeps the iterator keeps it open (and shown in its Context) until it drops it; a span never
closed keeps it open for ever; a task the reader spawned keeps showing the trace after it
has ended, as with the unpatched library, so a span it opens late ends after its trace
(``background_spans``; the proven conflict: ``tasks_hold_trace`` waits for such tasks
instead, and a task that lives on then keeps the trace open); a task the run leaves running
with a span open is cancelled once nobody reads the run. Revoked entries stay referenced by
the Contexts that copied them until those die, a few bytes each: a revoked entry drops its
trace, so a task that runs one streamed run after another keeps none of the earlier traces
alive. Cost (``nox -s bench``; where it goes, by py-spy sampling and timers per phase, is in
the README): x1.07-1.10 per same-task streamed run on a 2-core machine, over the 5% budget;
patching in at these points alone, with pass-through wrappers, costs x1.02 of it (the
bench's ``interposition`` reference). The rest is bookkeeping at the start, the first pull,
the end and per span, about 0.1 us a pull.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref
from asyncio import current_task
from threading import get_ident
from typing import Any, Awaitable, Optional

from ctxreset.fixes._patching import Patches
from ctxreset.fixes._revocable import Entry, Revocable, prune, resolve, stacked_on

from ctxreset.contract import PatchPoints, Undo

_NOTHING = object()
_READER = "the result"
"""The holder that stands for the run's reader until a stream is let go or ends, or the
result is dropped unread."""

_LOCK = threading.Lock()
"""Serialises the decision to end a trace (a stream may be read on another thread's loop);
taken when a reader or the run lets go, never per span or per event."""


class Ownership:
    """One run's trace and what holds it open; ends it once, when nothing does.

    Holders: the run (until its task is seen done), the readers (the result until a stream
    is let go or ends, or the result is dropped unread; each stream handed out until it is
    let go) and the spans made current under the trace (until reset). A span only adds and
    removes itself (one dict operation each, atomic under the GIL, no lock). Whoever lets go
    of a reader or of the run, or closes a span once nobody reads, settles under the lock:
    each writes its own removal before it reads the others', so two threads letting go at
    once cannot both miss the end.
    """

    __slots__ = (
        "_cancelled_orphans",
        "_watching",
        "caller_entry",
        "complete_attr",
        "finished",
        "left_to_copies",
        "loop",
        "pushed",
        "readers",
        "result",
        "run",
        "run_entry",
        "run_task",
        "spans",
        "thread",
        "trace",
        "var",
    )

    def __init__(self, complete_attr: str, var: contextvars.ContextVar[Any]) -> None:
        self.complete_attr = complete_attr
        self.var = var
        self.trace: Any = None
        self.run_entry: Optional[Entry] = None
        """The entry the library's own start pushed: current in the run task and its tasks."""
        self.run_task: Optional[asyncio.Task[Any]] = None
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        """The run task's loop, once known: it runs on ``thread``, the caller's."""
        self.thread = get_ident()
        self.result: Optional[weakref.ref[Any]] = None
        self.run = True
        self.readers: set[object] = {_READER}
        self.spans: dict[int, Optional[asyncio.Task[Any]]] = {}
        """Spans made current under the trace and not reset yet, by their Token's id: the
        task of a span the run itself opened (cancelled if the run leaves it running once
        nobody reads), None for a reader's span."""
        self.pushed: list[Entry] = []
        """Entries the streams pushed to show the trace where it is read."""
        self.caller_entry: Optional[Entry] = None
        """The entry that shows the trace in the caller's Context until its reader lets go."""
        self.left_to_copies: Optional[Entry] = None
        """The entry the stream's reader showed when the stream ended, reset in the reader's
        own Context there: never revoked, so tasks the reader spawned while reading keep it,
        as a task keeps any ContextVar's value from when it was spawned."""
        self.finished = False
        self._watching = False
        self._cancelled_orphans = False

    def result_dropped(self, _ref: Any) -> None:
        if not self.finished:
            self._reader_let_go()
            self.settle()

    def stream_let_go(self, stream: OwnedStream) -> None:
        self.readers.discard(id(stream))
        self._reader_let_go()
        self.settle()

    def revoke(self, entry: Entry) -> None:
        """``entry`` is current nowhere any more, unless it is the one left to copies."""
        if entry is not self.left_to_copies:
            entry.revoke()

    def _reader_let_go(self) -> None:
        """The caller's reading is over (a stream let go or ended, or the result dropped):
        its Context no longer shows the trace."""
        self.readers.discard(_READER)
        if self.caller_entry is not None:
            self.revoke(self.caller_entry)

    def streams_ended(self) -> None:
        """A stream reached its end: the events are all read, every stream is let go. Where
        the end runs in the reading Context itself, the entry it shows is reset there and left
        to the tasks it spawned while reading; every other entry is revoked."""
        self._reset_where_read()
        self._reader_let_go()
        self.readers.clear()
        for entry in self.pushed:  # no longer current where the streams showed it
            self.revoke(entry)
        self.settle()

    def _reset_where_read(self) -> None:
        """Reset the entry the calling Context shows (under revoked ones), if it is one of
        this run's and was set in this very Context: a Token resets only there, so the end of
        a stream that runs in a copy (a ``wait_for`` step's task before 3.12) resets nothing,
        and its entry is revoked with the rest."""
        shown = prune(self.var.get(None))
        if type(shown) is not Entry or shown.shows is not self or shown.token is None:
            return
        token, shown.token = shown.token, None
        if not _reset_here(self.var, token):
            return
        if prune(token.old_value) is not shown.below:
            # it was pushed over another run's entry: unwind past it, as a revoked entry would
            self.var.set(shown.below)
        self.left_to_copies = shown

    def run_done(self, _task: Any = None) -> None:
        self.run = False
        self.settle()

    def settle(self) -> None:
        """Something let go: end the trace if nothing holds it any more."""
        watch: Optional[asyncio.Task[Any]] = None
        orphans: list[asyncio.Task[Any]] = []
        with _LOCK:
            if self.finished or self.readers:
                return
            if self.run:  # only the run (and spans) can hold it now: is the run done?
                task = self.run_task
                if task is None or task.done():
                    self.run = False
                elif self._watching:
                    return
                else:
                    self._watching = True
                    watch = task
            if watch is None:
                if not self.spans:
                    self.finished = True
                elif not self._cancelled_orphans:
                    self._cancelled_orphans = True
                    orphans = [task for task in list(self.spans.values()) if task is not None]
        if watch is not None:
            watch.add_done_callback(self.run_done)
        elif self.finished:
            self._end()
        else:
            # The run is over and nobody reads it: what it left running under its trace (a
            # guardrail slower than the stream, which 0.0.11 leaves running) is cancelled,
            # so its spans close and the trace can end.
            for orphan in orphans:
                orphan.get_loop().call_soon_threadsafe(orphan.cancel)

    def _end(self) -> None:
        self.trace.finish(reset_current=False)
        for entry in (*self.pushed, self.run_entry, self.caller_entry):
            if entry is not None:  # revoked everywhere, and no cycle left to keep it alive
                self.revoke(entry)
                entry.shows = None
        self.pushed = []
        self.run_entry = self.caller_entry = None

    def finish(self, reset_current: bool = False) -> None:
        """Where the library finishes the trace at the end of a stream (the owner stands in
        for the trace on the streaming result): the streams are let go instead."""
        self.streams_ended()
        result = self.result() if self.result is not None else None
        if result is not None and not getattr(result, self.complete_attr, True):
            # The library ends a stream while its run neither completed nor failed only when
            # it swallowed the pulling step's CancelledError: the consumer asked to stop
            # waiting, not for the end of the answer. Do what the library's clean-up would
            # have done next (cancel the run) and let the cancel reach the consumer.
            if self.run_task is not None:
                self.run_task.cancel()
            raise asyncio.CancelledError()


class OwnedStream:
    """What ``stream_events()`` returns: the library's own async generator, behind an
    iterator that shows the trace to whichever task pulls and knows when it is dropped.

    ``__anext__`` is synchronous on purpose: it runs in the task that asks for the next
    event, even when the step itself is awaited in another task (``wait_for`` before 3.12,
    ``ensure_future(stream.__anext__())``), so that task's Context shows the trace; and it
    hands back the library's own step, so an event costs no extra coroutine. The end of the
    stream (exhausted, failed, or ended because a step was cancelled) reaches the owner
    through ``Ownership.finish``, which the library calls there.
    """

    __slots__ = ("_done", "_events", "_last", "_owner", "_shown", "_var")

    def __init__(self, events: Any, owner: Ownership, var: contextvars.ContextVar[Any]) -> None:
        self._events = events
        self._owner = owner
        self._var = var
        self._last: Any = _NOTHING
        self._shown: list[Entry] = []
        self._done = False
        owner.readers.add(id(self))

    def __aiter__(self) -> OwnedStream:
        return self

    def __anext__(self) -> Awaitable[Any]:
        raw = self._var.get(None)
        if raw is not self._last or not raw.live:
            self._show(raw)
        events: Awaitable[Any] = self._events.__anext__()
        return events

    def _show(self, raw: Any) -> None:
        """Make the trace current in the pulling task's Context, unless it already is, in an
        entry of the reader's own (the caller's entry shows it in a copy of the caller's
        Context too, but the caller's must be revoked when its reading is over)."""
        owner = self._owner
        trace = owner.trace
        if not self._done and not owner.finished and (
                resolve(raw) is not trace or not self._in_callers_context(raw)):
            raw = Entry(trace, _reader_below(raw, owner.caller_entry), True, owner)
            self._shown.append(raw)
            owner.pushed.append(raw)
            raw.token = self._var.set(raw)
        self._last = raw if type(raw) is Entry else _NOTHING

    def _in_callers_context(self, raw: Any) -> bool:
        """Whether the calling Context shows the trace through anything but the caller's
        entry in a copy of the caller's Context. The caller's Token resets only in the
        caller's own Context: reset it and set the entry again there."""
        caller = self._owner.caller_entry
        if caller is None or prune(raw) is not caller or caller.token is None:
            return True
        if not _reset_here(self._var, caller.token):
            return False
        caller.token = self._var.set(caller)
        return True

    def _release(self) -> None:
        if not self._done and not self._owner.finished:
            self._done = True
            for entry in self._shown:  # no longer current where this stream showed it
                self._owner.revoke(entry)
            self._owner.stream_let_go(self)

    def aclose(self) -> Awaitable[None]:
        self._release()
        closing: Awaitable[None] = self._events.aclose()
        return closing

    def __del__(self) -> None:
        # Dropped unfinished (an abandoned ``async for``): the library's generator is closed
        # later by the loop's finalizer, in another task, and has nothing left to do.
        self._release()


def _reset_here(var: contextvars.ContextVar[Any], token: contextvars.Token[Any]) -> bool:
    """Reset ``token`` if the calling Context is the one that set it (a Token resets only
    there: the cheapest test of "is this that Context, not a copy of it"); False if not."""
    try:
        var.reset(token)
    except ValueError:
        return False
    return True


def _live_entry(raw: Any) -> Optional[Entry]:
    while type(raw) is Entry:
        if raw.live:
            return raw
        raw = raw.below
    return None


def _reader_below(raw: Any, caller_entry: Optional[Entry]) -> Any:
    """What a reader's entry sits over, so that once the reading is over its Context shows
    what was current when the run started (runs started one over another unwind like a
    stack) wherever that is this Context's own past: a Context copied from the caller after
    the start (the run's caller entry is in it), or one that shows the state the run started
    in. Elsewhere (a task handed the stream) what the user made current, not another run's
    entry: that run is not this task's to show."""
    if caller_entry is None:
        return _user_visible(raw)
    started_over = caller_entry.below
    if stacked_on(raw, caller_entry):
        return started_over
    if prune(raw) is prune(started_over):
        return started_over
    return _user_visible(raw)


def _user_visible(raw: Any) -> Any:
    """``raw`` without the run entries and revoked entries on top: what the user made
    current."""
    while type(raw) is Entry and (raw.run or not raw.live):
        raw = raw.below
    return raw


def apply(points: PatchPoints) -> Undo:
    return patch(points, Ownership)


def patch(points: PatchPoints, ownership: type[Ownership]) -> Undo:
    """The patches, with ``ownership`` deciding when each run's trace ends (a variant of
    this fix subclasses ``Ownership``)."""
    patches = Patches()
    scope = points.scope
    claiming = threading.local()
    """The owner of the run ``run_streamed`` is starting on this thread, until it returns."""

    def on_trace_set(entry: Entry) -> None:
        owner: Optional[Ownership] = getattr(claiming, "owner", None)
        if owner is not None and owner.run_entry is None:  # the library starting the run's
            owner.trace = entry.value
            owner.run_entry = entry
            entry.shows = owner

    traces = Revocable(patches, points, "trace", on_set=on_trace_set)
    trace_var = traces.var
    trace_var_get = trace_var.get
    span_var: contextvars.ContextVar[Any] = contextvars.Context().run(
        patches.original(scope, "set_current_span"), scope, None).var
    run_streamed = patches.original(points.runner, "run_streamed")
    stream_events = patches.original(points.streaming_result, "stream_events")
    trace_attr, run_task_attr = points.trace_attr, points.run_task_attr
    complete_attr = points.complete_attr
    open_spans: dict[int, tuple[Ownership, contextvars.Token[Any]]] = {}
    """Spans made current under an owned trace and not reset yet, by their Token's id (the
    Token is kept, so its id stays unique)."""

    def _hide_readers_trace(raw: Entry) -> Optional[list[contextvars.Token[Any]]]:
        """Make what the user made current the current trace (and no span of the hidden run
        the current span): a new run does not join a run this Context only reads. The Tokens
        to reset, in reverse order; None if nothing needed hiding."""
        visible = _user_visible(raw)
        if resolve(visible) is resolve(raw):
            return None
        undo = [trace_var.set(visible)]
        span = span_var.get(None)
        if span is not None and getattr(span, "trace_id", None) != getattr(
                resolve(visible), "trace_id", None):
            undo.append(span_var.set(None))  # a span of the hidden run is no parent
        return undo

    # The span hooks run for every span the library opens: beyond the ContextVar's own
    # set or reset they cost one read and a type check when no owned trace is shown, and a
    # set insertion when one is. They keep the span in the ContextVar the library's own
    # methods use, directly (those only set and reset it).
    def set_current_span(cls: type, span: Any) -> contextvars.Token[Any]:
        token = span_var.set(span)
        shown = trace_var_get(None)
        if type(shown) is Entry:
            if not shown.live:
                shown = _live_entry(shown)
                if shown is None:
                    return token
            owner: Optional[Ownership] = shown.shows
            if owner is not None and not owner.finished:
                task = None
                if shown is owner.run_entry:  # the run's own: cancelled if left running
                    loop = owner.loop
                    if loop is not None and get_ident() == owner.thread:
                        # the run's loop runs on this thread: its current task, without
                        # asking which loop runs here (a getpid() system call before 3.12)
                        task = current_task(loop)
                    else:
                        try:  # noqa: SIM105 (contextlib.suppress costs three calls a span)
                            task = current_task()
                        except RuntimeError:  # no running loop: no task to cancel
                            pass
                key = id(token)
                owner.spans[key] = task
                open_spans[key] = (owner, token)
        return token

    def reset_current_span(cls: type, token: contextvars.Token[Any]) -> None:
        if open_spans:
            held = open_spans.pop(id(token), None)
            if held is not None:
                owner = held[0]
                owner.spans.pop(id(token), None)
                if not owner.readers:  # nobody reads: this span may be the last holder
                    owner.settle()
        span_var.reset(token)

    def patched_run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        # The run task copies the caller's Context while ``run_streamed`` runs; everything
        # set here for it is reset before returning, in this same Context (LIFO), so the
        # caller's Context is left as it was. The owner exists before the library starts the
        # trace: an eager task factory runs the run's first steps (its spans, its guardrail
        # tasks) inside ``run_streamed`` already.
        undo: Optional[list[contextvars.Token[Any]]] = None
        raw = trace_var_get(None)
        if type(raw) is Entry:
            shown = raw if raw.live else _live_entry(raw)
            if shown is not None and shown.run:  # hide what a reader was shown
                undo = _hide_readers_trace(raw)
        owner = ownership(complete_attr, trace_var)
        claiming.owner = owner
        try:
            result = run_streamed(cls, *args, **kwargs)
        finally:
            claiming.owner = None
            run_entry = owner.run_entry
            if run_entry is not None and run_entry.token is not None:
                trace_var.reset(run_entry.token)  # current in the run task only
                run_entry.token = None
            while undo:
                token = undo.pop()
                token.var.reset(token)
        trace = getattr(result, trace_attr)
        if trace is None or run_entry is None or trace is not owner.trace:
            if run_entry is not None:  # not the run's own trace after all
                run_entry.shows = None
            return result  # joined a trace the user made current: theirs to end
        run_task = owner.run_task = getattr(result, run_task_attr, None)
        if run_task is not None:
            owner.loop = run_task.get_loop()
        owner.result = weakref.ref(result, owner.result_dropped)
        setattr(result, trace_attr, owner)  # the library's end of stream reaches the owner
        # The caller's Context shows the trace from here on, as the unpatched library's does
        # (code between ``run_streamed()`` and the first read traces under the run), but
        # through an entry of its own, revoked once its reading is over.
        below = raw  # what the caller's Context shows again, everything set here reset
        if type(below) is Entry and not below.live:
            below = prune(below)
        shown = Entry(trace, below, True, owner)
        owner.caller_entry = shown
        shown.token = trace_var.set(shown)
        return result

    def patched_stream_events(self: Any) -> Any:
        # The owner stands in at the trace's own attribute: an attribute the class does not
        # declare would cost every instance its specialised attribute access.
        owner = getattr(self, trace_attr, None)
        events = stream_events(self)
        if type(owner) is not ownership:
            return events
        return OwnedStream(events, owner, trace_var)

    patches.replace(scope, "set_current_span", set_current_span)
    patches.replace(scope, "reset_current_span", reset_current_span)
    patches.replace(points.runner, "run_streamed", patched_run_streamed)
    patches.replace(points.streaming_result, "stream_events", patched_stream_events)
    return patches.undo
