"""What a scenario observes while it runs: its runs, what consumers received, context snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ctxreset.repro.model_script import ModelScript


def describe(exc: BaseException) -> str:
    """An exception as one line: its type and message."""
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class CurrentState:
    """What is current in the calling task's Context: an opaque, comparable snapshot in the ids
    the library's ``TraceEvent``s use. ``trace_id``: the run's trace (or the scope, or the
    OpenTelemetry trace) that new spans would join; ``span_id``: the innermost open span."""

    trace_id: Optional[str] = None
    span_id: Optional[str] = None


@dataclass(frozen=True)
class ContextSnapshot:
    """The current trace and span ids as seen from one task's Context at one moment."""

    label: str
    trace_id: Optional[str]
    span_id: Optional[str]
    run: Optional[int] = None
    """The run whose consumer took it: it must be back to what was current when that run was
    registered (``RunRecord.context_before``). None: back to the caller's "before"."""
    events_seen: int = 0
    """How many trace events the recorder had seen when it was taken."""


@dataclass(frozen=True)
class ConsumerSpan:
    name: str
    trace_id: Optional[str]  # None: the library handed out a no-op span
    span_id: Optional[str]


LET_GO_TURNS = 10
"""Loop turns (after one full gc pass) a trace may take to end once its run is done and
every consumer has let go of its stream."""


@dataclass(frozen=True)
class LetGo:
    """A checkpoint taken once a run was done and every consumer had let go of its stream."""

    run: int
    trace_ended: bool
    """Whether the run's trace had ended by then."""
    loop_turns: int
    """Loop turns (after one gc pass) it took for the trace to end; -1: it had not ended."""
    current_here: bool
    """Whether the trace was still current in the task that took the checkpoint."""
    run_done: bool = True
    """Whether the run's own task had finished by then."""


@dataclass
class RunRecord:
    """One streamed run: what was asked of it and what its consumer got."""

    index: int
    script: ModelScript
    expect_texts: tuple[str, ...]
    expect_final_output: Optional[str]
    """None: the run is not expected to finish (early break, cancellation, model error)."""
    expect_error: Optional[type] = None
    """An exception the consumer must see (the model's failure); anything else is an error."""
    texts_may_stop_early: bool = False
    """The consumer may get any prefix of ``expect_texts`` (a guardrail trips part-way)."""
    trace_name: str = ""
    """The name of the trace the run belongs in: its own (the workflow name, the default) or
    the enclosing ``trace(...)`` it was started in."""
    nested_in: Optional[int] = None
    """The run this one was started from inside (its trace may be that run's)."""
    streamed: bool = True
    context_before: tuple[Optional[str], Optional[str]] = (None, None)
    """The current trace and span ids when the run was registered, in the registering task."""
    tool_calls: list[str] = field(default_factory=list)
    """The tools that actually ran, in order."""
    result: Any = None
    texts: list[str] = field(default_factory=list)
    events: int = 0
    final_output: Any = None
    consumer_error: Optional[BaseException] = None
    consumer_spans: list[ConsumerSpan] = field(default_factory=list)
    client_texts: Optional[list[str]] = None
    """What an HTTP client read of this run's stream (server scenarios only)."""
    client_error: Optional[str] = None
    """The error the HTTP client got while reading, if any."""
    held_state: Any = None
    """A held-shape run: its stream's state (whether its block has been left)."""

    def __post_init__(self) -> None:
        self.trace_name = self.trace_name or self.workflow_name

    @property
    def agent_name(self) -> str:
        return f"agent-{self.index}"

    @property
    def workflow_name(self) -> str:
        return f"run-{self.index}"


@dataclass
class Probe:
    runs: list[RunRecord] = field(default_factory=list)
    snapshots: list[ContextSnapshot] = field(default_factory=list)
    opens_consumer_spans: bool = False
    let_go: list[LetGo] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    """The recorder's trace events as they happen (the cell shares its list here)."""
    model_spans: bool = False
    """Whether the library's model opens a span per call (openai-agents: response spans)."""
    current: Callable[[], CurrentState] = CurrentState
    notes: list[str] = field(default_factory=list)
    """What the scenario measured on the way (how long a finalizer took), for the record."""
    """What is current in the calling task (the cell wires in ``Library.current_state``)."""

    def new_run(
        self,
        script: Optional[ModelScript] = None,
        *,
        stop_after: Optional[int] = None,
        expect_error: Optional[type] = None,
        trace_name: str = "",
        nested_in: Optional[int] = None,
        streamed: bool = True,
        may_stop_early: bool = False,
    ) -> RunRecord:
        """Register a run; ``stop_after`` deltas means the consumer leaves early.

        ``may_stop_early``: the run is cut short at an unscripted point (a guardrail trips),
        so any prefix of the deltas is right. A script whose tool calls and handoffs exceed
        its ``max_turns`` never reaches its text turn.
        """
        script = script or ModelScript()
        received = script.deltas
        if script.max_turns is not None and script.turns > script.max_turns:
            received = ()
        if not streamed:
            received = ()  # ``Runner.run``: only the final output
        for limit in (stop_after, script.fail_after, script.pause_after):
            if limit is not None:
                received = received[:limit]
        finishes = (received == script.deltas or not streamed) and expect_error is None
        before = self.current()
        run = RunRecord(
            index=len(self.runs) + 1,
            script=script,
            expect_texts=received,
            expect_final_output=script.text if finishes else None,
            expect_error=expect_error,
            texts_may_stop_early=may_stop_early,
            trace_name=trace_name,
            nested_in=nested_in,
            streamed=streamed,
            context_before=(before.trace_id, before.span_id),
        )
        self.runs.append(run)
        return run
