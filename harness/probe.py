"""What a scenario observes while it runs: its runs, what consumers received, context snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from repro.model_script import ModelScript


@dataclass(frozen=True)
class ContextSnapshot:
    """The current trace and span ids as seen from one task's Context at one moment."""

    label: str
    trace_id: Optional[str]
    span_id: Optional[str]


@dataclass(frozen=True)
class ConsumerSpan:
    name: str
    trace_id: Optional[str]  # None: the library handed out a no-op span
    span_id: Optional[str]


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

    def new_run(
        self,
        script: Optional[ModelScript] = None,
        *,
        stop_after: Optional[int] = None,
        expect_error: Optional[type] = None,
    ) -> RunRecord:
        """Register a run; ``stop_after`` deltas means the consumer leaves early."""
        script = script or ModelScript()
        received = script.deltas
        for limit in (stop_after, script.fail_after, script.pause_after):
            if limit is not None:
                received = received[:limit]
        finishes = received == script.deltas and expect_error is None
        run = RunRecord(
            index=len(self.runs) + 1,
            script=script,
            expect_texts=received,
            expect_final_output=script.text if finishes else None,
            expect_error=expect_error,
        )
        self.runs.append(run)
        return run
