"""The library contract: what a scenario may call, what a fix may patch, and how a library
shows the probe what is current.

Scenarios (ctxreset.repro) and fixes (ctxreset.fixes) depend on this module only; each library
under test has an adapter in ctxreset.libraries that implements ``Library``. It is written for
more than openai-agents: "current" is whatever a library keeps in a ContextVar for the task
that runs (openai-agents: a trace and a span; sentry-sdk: a scope; OpenTelemetry: a context
with a span), reported as a ``CurrentState`` of ids, the same ids its ``TraceEvent``s carry.

- ``Library``: start a streamed run, read its events, open user spans, report what is current,
  record every trace and span event (an adapter-provided recorder), and the ``PatchPoints``.
- ``PatchPoints``: the classes a fix may patch, typed by the ``Scope``, ``Runner`` and
  ``StreamingResult`` protocols, so a fix's attribute accesses are checked (mypy).
- ``Fix``: ``apply(points) -> undo``, and a docstring stating strategy, patches, trade-off.
- The held-across-a-yield shape: ``HeldBlock`` (the library's block that makes something
  current, and its parts), ``HeldStream`` (the async generator that holds a block open across
  its yields), ``HeldPoints`` (both, where a held-shape fix patches) and ``HeldFix``.
- ``Unsupported``: the library has no such feature; the cell is judged without it.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Literal, Optional, Protocol

from ctxreset.probe import ConsumerSpan, CurrentState, RunRecord

Undo = Callable[[], None]
"""Reverts a fix exactly (every patched attribute back to the very object it held)."""


class Unsupported(RuntimeError):
    """The library has no such feature (the stdlib model has no tools, handoffs, guardrails)."""


@dataclass(frozen=True)
class TraceEvent:
    """One trace or span event, as the adapter's recorder saw it, in order."""

    seq: int
    kind: str  # "trace_start", "trace_end", "span_start", "span_end"
    trace_id: str
    span_id: Optional[str] = None
    parent_id: Optional[str] = None
    name: str = ""
    span_type: str = ""  # "agent", "response", "function", "handoff", "guardrail", "custom"


class Recording(Protocol):
    """What an adapter's recorder gives the checker: every event so far, in order."""

    events: list[TraceEvent]


class Scope(Protocol):
    """Where the library keeps what is current (openai-agents' ``agents.tracing.scope.Scope``)."""

    @classmethod
    def get_current_trace(cls) -> Any: ...
    @classmethod
    def set_current_trace(cls, trace: Any) -> Any: ...
    @classmethod
    def reset_current_trace(cls, token: Any) -> None: ...
    @classmethod
    def get_current_span(cls) -> Any: ...
    @classmethod
    def set_current_span(cls, span: Any) -> Any: ...
    @classmethod
    def reset_current_span(cls, token: Any) -> None: ...


class Runner(Protocol):
    """Starts runs (openai-agents' ``agents.run.Runner``)."""

    @classmethod
    def run_streamed(cls, *args: Any, **kwargs: Any) -> Any: ...
    @classmethod
    async def _run_streamed_impl(cls, *args: Any, **kwargs: Any) -> Any: ...


class StreamingResult(Protocol):
    """The handle a streamed run returns (openai-agents' ``RunResultStreaming``)."""

    def stream_events(self) -> AsyncIterator[Any]: ...


ScopeMethod = Literal["get_current_trace", "set_current_trace", "reset_current_trace",
                      "get_current_span", "set_current_span", "reset_current_span"]
RunnerMethod = Literal["run_streamed", "_run_streamed_impl"]
StreamingResultMethod = Literal["stream_events"]
"""What a fix may patch on each point, by name (``ctxreset.fixes._patching.Patches`` takes
only these, so a misspelled name is a type error too)."""

CURRENT_SETTERS: tuple[tuple[ScopeMethod, ScopeMethod], ...] = (
    ("set_current_trace", "reset_current_trace"), ("set_current_span", "reset_current_span"))
"""The Scope's set/reset pairs, for fixes that patch the trace's and the span's alike."""


@dataclass(frozen=True)
class PatchPoints:
    """Where a fix may patch: the same shape in the stdlib model and in openai-agents."""

    scope: type[Scope]
    runner: type[Runner]
    streaming_result: type[StreamingResult]
    trace_attr: str
    """Attribute of the streaming result holding the run's trace."""
    run_task_attr: str = "_run_impl_task"
    """Attribute of the streaming result holding the task that drives the run (set by
    ``run_streamed``)."""
    complete_attr: str = "is_complete"
    """Attribute of the streaming result that turns true once the run has completed or
    failed (before the stream's last event is queued)."""


class HeldBlock(Protocol):
    """The block a library makes something current with (a trace, a scope, a span), as user
    code opens it, and the parts a fix may rebuild it from. Each adapter's class calls the
    library's own functions at call time, so a fix patches here and the library stays real."""

    @classmethod
    def open(cls, name: str) -> AbstractContextManager[Any]:
        """The library's own block, as users write it (``with isolation_scope():``)."""
    @classmethod
    def start(cls, name: str) -> Any:
        """Start the thing ``open`` would make current (recorded as started), not current."""
    @classmethod
    def make_current(cls, thing: Any) -> Any:
        """Make ``thing`` current in the calling Context; return the token(s) to restore."""
    @classmethod
    def restore(cls, token: Any) -> None:
        """Put back what was current before ``make_current`` returned ``token`` (raises the
        foreign-Context ValueError in another Context), without ending the thing."""
    @classmethod
    def end(cls, thing: Any) -> None:
        """End ``thing`` (recorded as ended) without touching what is current."""


HeldWork = AsyncIterator[str]
"""What a held stream produces its items from (the model's deltas)."""


class HeldStream(Protocol):
    """The async generator that holds a block open across each ``yield``: user code (a
    streaming endpoint wrapping its work in the library's block) or the library's own."""

    @classmethod
    def stream(cls, block: type[HeldBlock], name: str, work: HeldWork,
               closed: Callable[[], None], usage_limit: Optional[int] = None,
               ) -> AsyncGenerator[str, None]:
        """Open ``block`` named ``name``, yield ``work``'s items inside it; call ``closed``
        once the block has been left, however (exhausted, closed, cancelled, failed).
        ``usage_limit``: the output the library may produce before it stops the stream
        with its own error (a library without usage limits ignores it)."""


HeldMethod = Literal["open", "stream"]
"""What a held-shape fix may patch: ``HeldBlock.open`` or ``HeldStream.stream``."""


@dataclass(frozen=True)
class HeldPoints:
    """Where a held-shape fix may patch."""

    block: type[HeldBlock]
    stream: type[HeldStream]


class Fix(Protocol):
    """A candidate fix: a module (or object) with ``apply`` and a docstring."""

    __doc__: Optional[str]

    def apply(self, points: PatchPoints) -> Undo: ...


class HeldFix(Protocol):
    """A candidate fix for the held-across-a-yield shape (its module says ``SHAPE = "held"``)."""

    __doc__: Optional[str]

    def apply(self, points: HeldPoints) -> Undo: ...


class Library(abc.ABC):
    """One library under test, behind the calls scenarios make and the points fixes patch."""

    name: str
    """The distribution (``openai-agents``), or ``minimal`` for the stdlib model."""
    version: str
    points: PatchPoints
    """The streamed-run shape's patch points (a held-only library has none: Unsupported)."""
    held_points: Optional[HeldPoints] = None
    """The held-across-a-yield shape's patch points, where the library has that usage."""
    model_spans: ClassVar[bool] = False
    """Whether a run records a span per model call (openai-agents' response spans)."""

    @property
    def label(self) -> str:
        """``name==version`` (``minimal`` for the stdlib model), for people to read."""
        return self.name if self.name == "minimal" else f"{self.name}=={self.version}"

    @abc.abstractmethod
    def start_recording(self) -> Recording:
        """Make a recorder the only consumer of trace and span events (nothing is exported),
        and return it."""

    @abc.abstractmethod
    def current_state(self) -> CurrentState:
        """What is current in the calling task's Context."""

    @abc.abstractmethod
    def current_trace_name(self) -> Optional[str]:
        """The name of the trace (or scope) current in the calling task, if any."""

    def held(self) -> HeldPoints:
        """The held shape's points; Unsupported where the library has no such usage."""
        if self.held_points is None:
            raise Unsupported(f"{self.label} has no block held across a yield")
        return self.held_points

    @abc.abstractmethod
    def start_run(self, run: RunRecord) -> Any:
        """Call the library's streamed run from the current task; return its result object."""

    async def run_to_completion(self, run: RunRecord) -> Any:
        """The library's non-streamed run of ``run``'s script; its output."""
        raise Unsupported(f"{self.label} has no non-streamed run")

    @abc.abstractmethod
    def enclosing_trace(self, name: str) -> AbstractContextManager[Any]:
        """A trace opened by user code around the run (``with trace(name):``)."""

    def error_class(self, kind: str) -> type[BaseException]:
        """The exception the library raises to the consumer for ``kind``: ``max_turns``
        (turns exceeded), ``input_tripwire`` or ``output_tripwire`` (a guardrail tripped),
        ``usage_limit`` (a usage limit stopped the stream)."""
        raise Unsupported(f"{self.label} has no {kind} error")

    def stream_events(self, result: Any) -> AsyncIterator[Any]:
        """The library's own event stream of a streamed run, never wrapped."""
        events: AsyncIterator[Any] = result.stream_events()
        return events

    @abc.abstractmethod
    def run_task(self, result: Any) -> Optional[asyncio.Task[Any]]:
        """The background task that drives the run and queues its events."""

    async def wait_for_run_task(self, result: Any) -> None:
        """Until the run's background task has finished, so every event is queued."""
        task = self.run_task(result)
        if task is None:
            raise RuntimeError(f"{self.label}: the streamed result has no run task")
        await asyncio.wait({task})

    @abc.abstractmethod
    def delta_text(self, event: Any) -> Optional[str]:
        """The text delta an event carries, or None for other events."""

    def final_output(self, result: Any) -> Any:
        return result.final_output

    @abc.abstractmethod
    def custom_span(self, name: str) -> AbstractContextManager[Any]:
        """Open a span under whatever is current, as user code would."""

    @abc.abstractmethod
    def consumer_span(self, name: str, span: Any) -> ConsumerSpan:
        """Describe a span that ``custom_span`` handed out (no ids when it was a no-op)."""
