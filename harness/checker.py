"""Judges one scenario run on named properties, each pass / fail / n/a with evidence.

A fix passes a cell only on these properties, never on "no exception":

- no-error: nothing raised, logged at ERROR, sent to the loop's exception handler, to
  ``sys.unraisablehook`` or ``threading.excepthook``, or left unretrieved in a task, except
  the model failure a scenario expects its consumer to see.
- trace-ended-once: every run has a trace; every trace started once and ended once.
- spans-closed: every span started once, ended once, and before its trace ended.
- no-leak: the current trace and span are back to their prior values in the caller's and
  every consumer's Context afterwards.
- isolated: runs have distinct traces, and every span carries its own run's trace id.
- consumer-spans-attached: spans the consumer opens are real spans in the run's trace.
- output-intact: each consumer got exactly the expected deltas, the final output, and only
  the error it was meant to see; over HTTP, the client read exactly those deltas, cleanly.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from harness.errors import ErrorRecord, describe
from harness.probe import ContextSnapshot, Probe, RunRecord
from harness.recorder import TraceEvent

PROPERTIES = (
    "no-error",
    "trace-ended-once",
    "spans-closed",
    "no-leak",
    "isolated",
    "consumer-spans-attached",
    "output-intact",
)

# How tables and reports name a failing property in a narrow cell.
SHORT_NAMES = {
    "no-error": "error",
    "trace-ended-once": "trace-end",
    "spans-closed": "spans",
    "no-leak": "leak",
    "isolated": "isolation",
    "consumer-spans-attached": "consumer-spans",
    "output-intact": "output",
}


@dataclass(frozen=True)
class PropertyResult:
    status: str  # "pass", "fail", "n/a"
    evidence: tuple[str, ...] = ()


@dataclass
class Verdict:
    properties: dict[str, PropertyResult]
    notes: list[str] = field(default_factory=list)

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(name for name, result in self.properties.items() if result.status == "fail")


def _result(evidence: list[str]) -> PropertyResult:
    return PropertyResult("fail" if evidence else "pass", tuple(evidence))


def _expected_consumer_error(run: RunRecord) -> bool:
    error = run.consumer_error
    if error is None or isinstance(error, asyncio.CancelledError):
        return True
    return run.expect_error is not None and isinstance(error, run.expect_error)


def check_no_error(probe: Probe, errors: list[ErrorRecord]) -> PropertyResult:
    evidence = [error.line() for error in errors]
    for run in probe.runs:
        if not _expected_consumer_error(run):
            evidence.append(f"[consumer of run {run.index}] {describe(run.consumer_error)}")
    return _result(evidence)


class TraceLog:
    """The recorder's events, indexed for the checks."""

    def __init__(self, events: list[TraceEvent]) -> None:
        self.events = events
        self.trace_names = {e.trace_id: e.name for e in events if e.kind == "trace_start"}
        self.spans = {e.span_id: e for e in events if e.kind == "span_start"}

    def count(self, kind: str, key: Optional[str], attr: str) -> int:
        return sum(1 for e in self.events if e.kind == kind and getattr(e, attr) == key)

    def first_seq(self, kind: str, key: Optional[str], attr: str) -> Optional[int]:
        matches = (e.seq for e in self.events if e.kind == kind and getattr(e, attr) == key)
        return next(matches, None)

    def own_trace(self, run: RunRecord) -> Optional[str]:
        """The trace started for this run (named after its workflow), if there is one."""
        return next((t for t, n in self.trace_names.items() if n == run.workflow_name), None)

    def run_of_span(self, span_id: Optional[str]) -> Optional[int]:
        """Which run a span belongs to: its own name, or the agent span it descends from."""
        seen: set[Optional[str]] = set()
        while span_id in self.spans and span_id not in seen:
            seen.add(span_id)
            event = self.spans[span_id]
            for prefix in ("agent-", "consume-"):
                if event.name.startswith(prefix):
                    return int(event.name[len(prefix):].split("-")[0])
            span_id = event.parent_id
        return None


def check_trace_ended_once(probe: Probe, log: TraceLog) -> PropertyResult:
    evidence = []
    for run in probe.runs:
        if log.own_trace(run) is None:
            evidence.append(f"run {run.index} started no trace of its own")
    for trace_id, name in log.trace_names.items():
        starts = log.count("trace_start", trace_id, "trace_id")
        ends = log.count("trace_end", trace_id, "trace_id")
        if (starts, ends) != (1, 1):
            evidence.append(f"trace {trace_id} ({name}) started {starts}x, ended {ends}x")
    return _result(evidence)


def check_spans_closed(log: TraceLog) -> PropertyResult:
    evidence = []
    for span_id, start in log.spans.items():
        starts = log.count("span_start", span_id, "span_id")
        ends = log.count("span_end", span_id, "span_id")
        if (starts, ends) != (1, 1):
            evidence.append(f"span {span_id} ({start.name}) started {starts}x, ended {ends}x")
            continue
        span_end = log.first_seq("span_end", span_id, "span_id")
        trace_end = log.first_seq("trace_end", start.trace_id, "trace_id")
        if trace_end is not None and span_end is not None and span_end > trace_end:
            evidence.append(f"span {span_id} ({start.name}) ended after its trace {start.trace_id}")
    return _result(evidence)


def check_no_leak(snapshots: list[ContextSnapshot]) -> PropertyResult:
    before = next((s for s in snapshots if s.label == "caller before"), None)
    if before is None:
        return PropertyResult("fail", ("no snapshot of the caller before the run",))
    evidence = []
    for snap in snapshots:
        if snap is before:
            continue
        if snap.trace_id != before.trace_id:
            evidence.append(
                f"{snap.label}: current trace is {snap.trace_id} (was {before.trace_id})"
            )
        if snap.span_id != before.span_id:
            evidence.append(f"{snap.label}: current span is {snap.span_id} (was {before.span_id})")
    return _result(evidence)


def check_isolated(probe: Probe, log: TraceLog) -> PropertyResult:
    evidence = []
    own = {run.index: log.own_trace(run) for run in probe.runs}
    for run in probe.runs:
        if own[run.index] is None:
            joined = {
                e.trace_id for e in log.spans.values() if log.run_of_span(e.span_id) == run.index
            }
            where = ", ".join(sorted(joined)) or "no trace"
            evidence.append(f"run {run.index} has no trace of its own; its spans went to {where}")
    for trace_id, count in Counter(t for t in own.values() if t).items():
        if count > 1:
            evidence.append(f"trace {trace_id} is shared by {count} runs")
    for span in log.spans.values():
        index = log.run_of_span(span.span_id)
        expected = own.get(index) if index is not None else None
        if expected is not None and span.trace_id != expected:
            evidence.append(
                f"span {span.span_id} ({span.name}) of run {index} is in trace {span.trace_id},"
                f" not {expected}"
            )
    return _result(evidence)


def check_consumer_spans_attached(probe: Probe, log: TraceLog) -> PropertyResult:
    if not probe.opens_consumer_spans:
        return PropertyResult("n/a", ("the consumer opens no spans in this scenario",))
    evidence = []
    for run in probe.runs:
        expected = log.own_trace(run)
        if not run.consumer_spans:
            evidence.append(f"the consumer of run {run.index} opened no span")
        for span in run.consumer_spans:
            if span.trace_id is None:
                evidence.append(f"{span.name}: a no-op span (no current trace in the consumer)")
            elif span.trace_id != expected:
                evidence.append(f"{span.name}: in trace {span.trace_id}, not the run's {expected}")
            elif span.span_id not in log.spans:
                evidence.append(f"{span.name}: never reached the trace processor")
    return _result(evidence)


def check_output_intact(probe: Probe) -> PropertyResult:
    evidence = []
    for run in probe.runs:
        if tuple(run.texts) != run.expect_texts:
            evidence.append(
                f"run {run.index}: got deltas {run.texts!r}, expected {run.expect_texts!r}"
            )
        if run.expect_final_output is not None and run.final_output != run.expect_final_output:
            evidence.append(
                f"run {run.index}: final output {run.final_output!r},"
                f" expected {run.expect_final_output!r}"
            )
        if run.client_texts is not None and tuple(run.client_texts) != run.expect_texts:
            evidence.append(
                f"run {run.index}: the HTTP client read {run.client_texts!r},"
                f" expected {run.expect_texts!r}"
            )
        if run.client_error is not None:
            evidence.append(f"run {run.index}: the HTTP client got {run.client_error}")
        if run.expect_error is not None and not isinstance(run.consumer_error, run.expect_error):
            got = describe(run.consumer_error) if run.consumer_error else "nothing"
            evidence.append(
                f"run {run.index}: consumer saw {got}, expected {run.expect_error.__name__}"
            )
    return _result(evidence)


def check(
    probe: Probe, events: list[TraceEvent], errors: list[ErrorRecord], notes: list[str]
) -> Verdict:
    log = TraceLog(events)
    properties = {
        "no-error": check_no_error(probe, errors),
        "trace-ended-once": check_trace_ended_once(probe, log),
        "spans-closed": check_spans_closed(log),
        "no-leak": check_no_leak(probe.snapshots),
        "isolated": check_isolated(probe, log),
        "consumer-spans-attached": check_consumer_spans_attached(probe, log),
        "output-intact": check_output_intact(probe),
    }
    return Verdict(properties, list(notes))
