"""The bug with the standard library alone: a Token reset in a Context that did not create it.

A tiny tracing library shaped like openai-agents 0.0.11 (``Scope``, ``Trace``, ``Span``,
``Runner.run_streamed`` and ``RunResultStreaming.stream_events``): the caller starts the trace
and marks it current, the run goes on in a task, and the stream, when exhausted, finishes the
trace with ``reset_current=True``. Consume that stream in another task and the reset runs in
the consumer's Context, so ``ContextVar.reset`` raises ``ValueError``.

The second shape, ``python -m repro.minimal --shape held``: a ``with trace(...)`` block held
open across the ``yield`` of an async generator. One task reads the first item (the block
sets the trace in its Context), another task closes the generator with ``aclose()``, and the
block's reset runs in the closing task's Context: the same ValueError.

``python -m repro.minimal`` shows it and exits 1. The harness also runs every scenario and
every candidate fix against this model (target ``minimal``), so it works where openai-agents
cannot be installed. Runs on CPython 3.9+ with nothing installed.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import sys
import traceback
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, Optional

_ids = itertools.count(1)
_current_trace: contextvars.ContextVar[Optional[Trace]] = contextvars.ContextVar(
    "current_trace", default=None
)
_current_span: contextvars.ContextVar[Optional[Span]] = contextvars.ContextVar(
    "current_span", default=None
)
processors: list[Any] = []  # objects with on_trace_start/_end and on_span_start/_end


class Scope:
    """The current trace and span, held in ContextVars (as agents.tracing.scope.Scope)."""

    @classmethod
    def get_current_trace(cls) -> Optional[Trace]:
        return _current_trace.get()

    @classmethod
    def set_current_trace(cls, trace: Optional[Trace]) -> contextvars.Token:
        return _current_trace.set(trace)

    @classmethod
    def reset_current_trace(cls, token: contextvars.Token) -> None:
        _current_trace.reset(token)

    @classmethod
    def get_current_span(cls) -> Optional[Span]:
        return _current_span.get()

    @classmethod
    def set_current_span(cls, span: Optional[Span]) -> contextvars.Token:
        return _current_span.set(span)

    @classmethod
    def reset_current_span(cls, token: contextvars.Token) -> None:
        _current_span.reset(token)


class Trace:
    def __init__(self, name: str) -> None:
        self.name, self.trace_id = name, f"trace_{next(_ids)}"
        self._prev_context_token: Optional[contextvars.Token] = None

    def start(self, mark_as_current: bool = False) -> None:
        for p in processors:
            p.on_trace_start(self)
        if mark_as_current:
            self._prev_context_token = Scope.set_current_trace(self)

    def finish(self, reset_current: bool = False) -> None:
        for p in processors:
            p.on_trace_end(self)
        if reset_current and self._prev_context_token is not None:
            Scope.reset_current_trace(self._prev_context_token)  # <- raises in a foreign Context
            self._prev_context_token = None


class Span:
    def __init__(
        self, name: str, trace: Trace, parent: Optional[Span], span_type: str = "custom"
    ) -> None:
        self.name, self.trace_id, self.span_id = name, trace.trace_id, f"span_{next(_ids)}"
        self.span_type = span_type
        self.parent_id = parent.span_id if parent else None
        self._prev_span_token: Optional[contextvars.Token] = None

    def start(self, mark_as_current: bool = False) -> None:
        for p in processors:
            p.on_span_start(self)
        if mark_as_current:
            self._prev_span_token = Scope.set_current_span(self)

    def finish(self, reset_current: bool = False) -> None:
        for p in processors:
            p.on_span_end(self)
        if reset_current and self._prev_span_token is not None:
            Scope.reset_current_span(self._prev_span_token)
            self._prev_span_token = None


@contextmanager
def custom_span(name: str) -> Iterator[Optional[Span]]:
    """A span under the current trace, or no span at all when there is none (agents: NoOp)."""
    trace = Scope.get_current_trace()
    if trace is None:
        yield None
        return
    span = Span(name, trace, Scope.get_current_span())
    span.start(mark_as_current=True)
    try:
        yield span
    finally:
        span.finish(reset_current=True)


@contextmanager
def trace(name: str) -> Iterator[Trace]:
    """An enclosing trace, current for the block (as ``agents.trace``)."""
    enclosing = Trace(name)
    enclosing.start(mark_as_current=True)
    try:
        yield enclosing
    finally:
        enclosing.finish(reset_current=True)


class RunResultStreaming:
    def __init__(self, trace: Optional[Trace]) -> None:
        self._trace = trace
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._run_impl_task: Optional[asyncio.Task[Any]] = None
        self.final_output: Optional[str] = None
        self.is_complete = False  # set before the end is queued (as 0.0.11's)

    async def stream_events(self) -> AsyncIterator[str]:
        while True:
            try:
                item = await self._queue.get()
            except asyncio.CancelledError:
                break
            if item is None or isinstance(item, Exception):
                break
            yield item
        if self._trace:
            self._trace.finish(reset_current=True)  # the bug: runs in the consumer's Context
        if self._run_impl_task and not self._run_impl_task.done():
            self._run_impl_task.cancel()
        if isinstance(item, Exception):
            raise item


class Runner:
    @classmethod
    def run_streamed(cls, agent_name: str, deltas: AsyncIterator[str], workflow: str) -> Any:
        trace = None if Scope.get_current_trace() else Trace(workflow)
        if trace:
            trace.start(mark_as_current=True)  # set in the caller's Context
        result = RunResultStreaming(trace)
        result._run_impl_task = asyncio.ensure_future(
            cls._run_streamed_impl(agent_name=agent_name, deltas=deltas, streamed_result=result)
        )
        return result

    @classmethod
    async def _run_streamed_impl(
        cls, agent_name: str, deltas: Any, streamed_result: RunResultStreaming
    ) -> None:
        trace = Scope.get_current_trace()
        span = Span(agent_name, trace, Scope.get_current_span(), "agent") if trace else None
        if span:
            span.start(mark_as_current=True)
        try:
            text = ""
            async for delta in deltas:  # the model's stream
                text += delta
                streamed_result._queue.put_nowait(delta)
            streamed_result.final_output = text
            streamed_result.is_complete = True
            streamed_result._queue.put_nowait(None)
        except Exception as exc:  # handed to the consumer, which raises it
            streamed_result.is_complete = True
            streamed_result._queue.put_nowait(exc)
        finally:
            if span:
                span.finish(reset_current=True)


async def _words(*words: str) -> AsyncIterator[str]:
    for word in words:
        yield word


async def _demo() -> None:
    result = Runner.run_streamed("agent", _words("hello ", "world"), "demo")

    async def consume() -> None:  # another task, as a StreamingResponse would
        async for _ in result.stream_events():
            pass

    await asyncio.create_task(consume())


async def _held_words(*words: str) -> AsyncGenerator[str, None]:
    with trace("held"):  # sets the trace in whichever Context takes the first step
        for word in words:
            yield word


async def _held_demo() -> None:
    stream = _held_words("hello ", "world")
    await stream.__anext__()  # this task enters the block
    await asyncio.ensure_future(stream.aclose())  # another task leaves it


SHAPES = {
    "split": (_demo, (
        "The trace is marked current in the caller's Context; the stream is consumed in",
        "another task, whose Context is a copy, so resetting the caller's Token there fails:")),
    "held": (_held_demo, (
        "A `with trace(...)` block is held open across a yield; this task reads the first",
        "item, another task closes the generator, so the block's reset runs there and fails:")),
}


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    shape = "split"
    if args[:1] == ["--shape"] and len(args) == 2 and args[1] in SHAPES:
        shape = args[1]
    elif args:
        print(f"usage: python -m repro.minimal [--shape {'|'.join(SHAPES)}]; got {' '.join(args)}",
              file=sys.stderr)
        return 2
    demo, explanation = SHAPES[shape]
    print("\n".join(explanation))
    try:
        asyncio.run(demo())
    except ValueError:
        traceback.print_exc()
        return 1
    print("no error: the bug did not reproduce")
    return 0


if __name__ == "__main__":
    sys.exit(main())
