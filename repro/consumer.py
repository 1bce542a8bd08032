"""The consumer side every scenario shares: iterate the library's stream and note what arrives."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Optional

from ctxreset.contract import Library
from ctxreset.probe import LET_GO_TURNS, ContextSnapshot, LetGo, Probe, RunRecord


def snapshot(
    library: Library, probe: Probe, label: str, run: Optional[RunRecord] = None
) -> None:
    """Record the current trace and span as the calling task's Context sees them; ``run``:
    taken by that run's consumer, once it is done with the stream."""
    state = library.current_state()
    probe.snapshots.append(ContextSnapshot(
        label, state.trace_id, state.span_id,
        None if run is None else run.index, len(probe.events),
    ))


def start_runs(library: Library, probe: Probe, count: int) -> list[RunRecord]:
    """Start ``count`` runs from this task, one after another, each registered as it starts
    (so each must unwind to what the ones before it made current)."""
    runs = []
    for _ in range(count):
        run = probe.new_run()
        run.result = library.start_run(run)
        runs.append(run)
    return runs


async def deliver(
    library: Library,
    probe: Probe,
    run: RunRecord,
    *,
    stop_after: Optional[int] = None,
    open_spans: bool = False,
) -> AsyncIterator[str]:
    """Iterate ``run``'s stream in whichever task drives this generator; yield each text delta.

    ``stop_after`` text deltas: leave the stream early with ``break``. ``open_spans``: wrap the
    handling of each event in a ``custom_span``, as instrumented user code would. Errors are
    kept on the run (the checker decides whether they were expected); cancellation propagates.
    The consumer's Context is snapshotted when the stream is done with.
    """
    try:
        async for event in library.stream_events(run.result):
            run.events += 1
            if open_spans:
                name = f"consume-{run.index}-{run.events}"
                with library.custom_span(name) as span:
                    run.consumer_spans.append(library.consumer_span(name, span))
                    text = library.delta_text(event)
            else:
                text = library.delta_text(event)
            if text is None:
                continue
            run.texts.append(text)
            yield text
            if len(run.texts) == stop_after:
                break
        run.final_output = library.final_output(run.result)
    except asyncio.CancelledError as exc:
        run.consumer_error = exc
        raise
    except Exception as exc:
        run.consumer_error = exc
    finally:
        snapshot(library, probe, f"consumer of run {run.index}", run)


async def consume(
    library: Library,
    probe: Probe,
    run: RunRecord,
    *,
    stop_after: Optional[int] = None,
    open_spans: bool = False,
) -> None:
    """Drain ``deliver`` in the current task."""
    async for _text in deliver(library, probe, run, stop_after=stop_after, open_spans=open_spans):
        pass


def note(library: Library, run: RunRecord, event: Any) -> Optional[str]:
    """Count one event of ``run``'s stream; keep and return its text delta, if it has one."""
    run.events += 1
    text = library.delta_text(event)
    if text is not None:
        run.texts.append(text)
    return text


@contextmanager
def consumer_span(library: Library, run: RunRecord, label: str) -> Iterator[None]:
    """A span user code opens while handling ``run``'s events (in the consumer or a task the
    consumer spawned); it belongs in the run's trace."""
    name = f"consume-{run.index}-{label}"
    with library.custom_span(name) as span:
        run.consumer_spans.append(library.consumer_span(name, span))
        yield


def finish(library: Library, run: RunRecord) -> None:
    """The stream was read to its end: keep the run's final output."""
    run.final_output = library.final_output(run.result)


class Placement:
    """Where a scenario's consumer runs: in a task of its own (``elsewhere``, the shape
    servers and workers produce) or in the caller's own task (the one-task reference, the
    usage the unpatched library's Context handling was written for). Tasks the usage itself
    spawns (``wait_for`` before 3.12, a raced ``__anext__``) stay tasks in both."""

    def __init__(self, one_task: bool) -> None:
        self.one_task = one_task

    async def run(self, work: Awaitable[Any]) -> Any:
        """Await ``work`` in the caller's task, or in a new task."""
        if self.one_task:
            return await work
        return await asyncio.ensure_future(work)

    async def run_all(self, works: list[Awaitable[Any]]) -> None:
        """All of ``works``: one after another in the caller's task, or concurrently in a
        task each."""
        if self.one_task:
            for work in works:
                await work
        else:
            await asyncio.gather(*(asyncio.ensure_future(work) for work in works))


ELSEWHERE = Placement(one_task=False)
ONE_TASK = Placement(one_task=True)

def _trace_state(probe: Probe, run: RunRecord) -> tuple[Optional[str], bool]:
    """(the name of the trace ``run`` is in, whether it has ended) from the recorder's events
    so far: its own trace, or for a nested run that started none, the enclosing run's."""
    names = [run.trace_name]
    if run.nested_in is not None:
        names.append(probe.runs[run.nested_in - 1].trace_name)
    for name in names:
        started = {e.trace_id for e in probe.events if e.kind == "trace_start" and e.name == name}
        if started:
            ended = any(e.kind == "trace_end" and e.trace_id in started for e in probe.events)
            return name, ended
    return None, False


async def let_go(library: Library, probe: Probe, run: RunRecord) -> None:
    """Checkpoint: ``run`` is done and every consumer has let go of its stream (exhausted,
    closed, cancelled or dropped). Measure how long its trace takes to end: one gc pass, then
    up to ``LET_GO_TURNS`` loop turns; and whether it is still current in this task."""
    task = library.run_task(run.result) if run.result is not None else None
    gc.collect()
    turns = 0
    name, ended = _trace_state(probe, run)
    while (not ended or (task is not None and not task.done())) and turns < LET_GO_TURNS:
        await asyncio.sleep(0)
        turns += 1
        name, ended = _trace_state(probe, run)
    run_done = task is None or task.done()
    current = name is not None and library.current_trace_name() == name
    probe.let_go.append(LetGo(run.index, ended, turns if ended else -1, current, run_done))


Fetch = Callable[[AsyncIterator[Any]], Awaitable[Any]]
Handle = Callable[[int], Awaitable[None]]


async def drain(
    library: Library,
    probe: Probe,
    run: RunRecord,
    *,
    fetch: Optional[Fetch] = None,
    handle: Optional[Handle] = None,
    stream: Optional[AsyncIterator[Any]] = None,
    texts: Optional[int] = None,
) -> None:
    """Read ``run``'s stream in the current task, as ``consume`` does, but getting each event
    with ``fetch(stream)`` (default: ``stream.__anext__()``) and handing each event's number to
    ``handle`` (user code per event: spans, child tasks).

    ``stream``: continue an iterator another task started (default: a new
    ``stream_events()``). ``texts``: stop, without closing the stream, once the run has that
    many text deltas (the rest is left for another reader).
    """
    if stream is None:
        stream = library.stream_events(run.result)
    try:
        while texts is None or len(run.texts) < texts:
            try:
                event = await (fetch(stream) if fetch else stream.__anext__())
            except StopAsyncIteration:
                finish(library, run)
                break
            note(library, run, event)
            if handle is not None:
                await handle(run.events)
    except asyncio.CancelledError as exc:
        run.consumer_error = exc
        raise
    except Exception as exc:
        run.consumer_error = exc
    else:
        if texts is not None and run.final_output is None:
            return  # stopped part-way on purpose: the stream is still being read
    snapshot(library, probe, f"consumer of run {run.index}", run)
