"""Judges one scenario run on named properties, each pass / fail / n/a with evidence.

A fix passes a cell only on these properties, never on "no exception":

- no-error: nothing raised, logged at ERROR, sent to the loop's exception handler, to
  ``sys.unraisablehook`` or ``threading.excepthook``, or left unretrieved in a task, except
  the model failure a scenario expects its consumer to see.
- trace-ended-once: every run has a trace; every trace started once and ended once.
- spans-closed: every span started once, ended once, and before its trace ended.
- no-leak: the current trace and span are back to their prior values in the caller's and
  every consumer's Context afterwards: what was current when the consumer's run was
  registered, or, for a trace that has ended since, what was current when its own run was
  registered (runs started one over another unwind like a stack).
- isolated: runs have distinct traces, and every span carries its own run's trace id.
- consumer-spans-attached: spans the consumer opens, and spans of the tasks it spawns while
  handling an event, are real spans in the run's trace.
- output-intact: each consumer got exactly the expected deltas, the final output, and only
  the error it was meant to see; the scripted tools ran; over HTTP, the client read exactly
  those deltas, cleanly.
- spans-filed: every span the library opens (agent, response, function, handoff, guardrail)
  is recorded, in its own run's trace, under a parent in that trace; a nested run's spans
  are in its own trace or in the enclosing run's.
- released: once a run is done and every consumer has let go of its stream (exhausted,
  closed, cancelled or dropped), its trace ends within one gc pass and ``LET_GO_TURNS`` loop
  turns, and is not current in the task that let go.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from ctxreset.contract import TraceEvent
from ctxreset.probe import LET_GO_TURNS, ContextSnapshot, Probe, RunRecord, describe
from ctxreset.run.errors import ErrorRecord

LIBRARY_SPAN_TYPES = ("agent", "response", "function", "handoff", "guardrail")


@dataclass(frozen=True)
class PropertyResult:
    status: str  # "pass", "fail", "n/a"
    evidence: tuple[str, ...] = ()


@dataclass
class CellJudgement:
    """The checker's judgement of one cell: each property pass, fail or n/a, with evidence."""

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
        if run.consumer_error is not None and not _expected_consumer_error(run):
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
        """The trace started for this run (named after its workflow, or the enclosing trace it
        was started in), if there is one."""
        return next((t for t, n in self.trace_names.items() if n == run.trace_name), None)

    def trace_of(self, run: RunRecord, runs: list[RunRecord]) -> Optional[str]:
        """The trace this run's spans belong in: its own; for a nested run that started none,
        the enclosing run's."""
        own = self.own_trace(run)
        if own is None and run.nested_in is not None:
            return self.trace_of(runs[run.nested_in - 1], runs)
        return own

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
        if log.trace_of(run, probe.runs) is None:
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


def _ended_before(probe: Probe, trace_id: str, snap: ContextSnapshot) -> bool:
    """Trace ``trace_id`` had ended when ``snap`` was taken."""
    return any(e.kind == "trace_end" and e.trace_id == trace_id
               for e in probe.events[:snap.events_seen])


def _expected_after(probe: Probe, registered: tuple[Optional[str], Optional[str]],
                    snap: ContextSnapshot, caller_before: tuple[Optional[str], Optional[str]]
                    ) -> tuple[Optional[str], Optional[str]]:
    """What must be current in a run's consumer afterwards: what was current when the run
    was registered. A trace that has ended since must not be current anywhere: then what was
    current when *that* trace's run was registered, and so on (runs started one over
    another unwind like a stack); the caller's before when the trace is no run's own."""
    own_run = {run.trace_name: run for run in probe.runs}
    names = {e.trace_id: e.name for e in probe.events if e.kind == "trace_start"}
    expected = registered
    for _ in probe.runs:  # each step moves to an earlier run: no cycle
        if expected[0] is None or not _ended_before(probe, expected[0], snap):
            return expected
        run = own_run.get(names.get(expected[0], ""))
        if run is None:
            break
        expected = run.context_before
    return caller_before


def check_no_leak(probe: Probe) -> PropertyResult:
    snapshots = probe.snapshots
    before = next((s for s in snapshots if s.label == "caller before"), None)
    if before is None:
        return PropertyResult("fail", ("no snapshot of the caller before the run",))
    evidence = []
    for snap in snapshots:
        if snap is before:
            continue
        trace_id, span_id = before.trace_id, before.span_id
        if snap.run is not None and 0 < snap.run <= len(probe.runs):
            trace_id, span_id = _expected_after(
                probe, probe.runs[snap.run - 1].context_before, snap, (trace_id, span_id))
        if snap.trace_id != trace_id:
            evidence.append(f"{snap.label}: current trace is {snap.trace_id} (was {trace_id})")
        if snap.span_id != span_id:
            evidence.append(f"{snap.label}: current span is {snap.span_id} (was {span_id})")
    return _result(evidence)


def check_isolated(probe: Probe, log: TraceLog) -> PropertyResult:
    evidence = []
    own = {run.index: log.trace_of(run, probe.runs) for run in probe.runs}
    for run in probe.runs:
        if own[run.index] is None:
            joined = {
                e.trace_id for e in log.spans.values() if log.run_of_span(e.span_id) == run.index
            }
            where = ", ".join(sorted(joined)) or "no trace"
            evidence.append(f"run {run.index} has no trace of its own; its spans went to {where}")
    independent = [own[run.index] for run in probe.runs if run.nested_in is None]
    for trace_id, count in Counter(t for t in independent if t).items():
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
        if run.nested_in is not None and not run.consumer_spans:
            continue  # read by the consumer of the enclosing run, which opens its spans
        expected = log.trace_of(run, probe.runs)
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
        got = tuple(run.texts)
        if run.texts_may_stop_early and got == run.expect_texts[:len(got)]:
            pass
        elif got != run.expect_texts:
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
        if run.expect_final_output is not None and (
            len(run.tool_calls) != run.script.recorded_calls
        ):
            evidence.append(
                f"run {run.index}: tools ran {run.tool_calls!r},"
                f" the model called {[c.tool for c in run.script.tool_calls]!r}"
            )
        if run.client_error is not None:
            evidence.append(f"run {run.index}: the HTTP client got {run.client_error}")
        if run.expect_error is not None and not isinstance(run.consumer_error, run.expect_error):
            seen = describe(run.consumer_error) if run.consumer_error else "nothing"
            evidence.append(
                f"run {run.index}: consumer saw {seen}, expected {run.expect_error.__name__}"
            )
    return _result(evidence)


def _expected_library_spans(run: RunRecord, model_spans: bool) -> list[tuple[str, int]]:
    """(span type, how many) a finished run must have recorded: an agent span per agent, a
    response span per model call (libraries whose model opens one), a function span per tool
    call, a handoff span per handoff, a guardrail span per guardrail."""
    script = run.script
    expected = [("agent", 1 + len(script.handoffs))]
    if model_spans:
        expected.append(("response", script.turns))
    expected += [("function", script.function_calls), ("handoff", len(script.handoffs)),
                 ("guardrail", len(script.guardrails))]
    return [(kind, count) for kind, count in expected if count]


def check_spans_filed(probe: Probe, log: TraceLog) -> PropertyResult:
    evidence = []
    traces = {run.index: log.trace_of(run, probe.runs) for run in probe.runs}
    for span in log.spans.values():
        label = f"span {span.span_id} ({span.name})"
        if span.trace_id not in log.trace_names:
            evidence.append(f"{label} is in trace {span.trace_id}, which was never started")
            continue
        parent = log.spans.get(span.parent_id) if span.parent_id else None
        if span.parent_id and parent is None:
            evidence.append(f"{label}: its parent {span.parent_id} was never recorded")
        elif parent is not None and parent.trace_id != span.trace_id:
            evidence.append(
                f"{label} is in trace {span.trace_id}, its parent {parent.span_id} in"
                f" {parent.trace_id}"
            )
        index = log.run_of_span(span.span_id)
        if index is None:
            if span.trace_id not in traces.values():
                evidence.append(f"{label} is in trace {span.trace_id}, which is no run's")
            continue
        run = probe.runs[index - 1] if 0 < index <= len(probe.runs) else None
        if run is None:
            continue
        allowed = {traces[index]}
        if run.nested_in is not None:
            allowed.add(traces[run.nested_in])
        if span.trace_id not in allowed:
            name = log.trace_names.get(span.trace_id)
            evidence.append(
                f"{label} of run {index} is in trace {span.trace_id} ({name}),"
                f" not its run's {traces[index]}"
            )
    for run in probe.runs:
        if run.expect_final_output is None:
            continue  # cut short: which spans it got to open depends on where it stopped
        mine = [s for s in log.spans.values() if log.run_of_span(s.span_id) == run.index]
        for kind, count in _expected_library_spans(run, probe.model_spans):
            found = sum(1 for s in mine if s.span_type == kind)
            if found < count:
                evidence.append(
                    f"run {run.index}: {found} {kind} span(s) recorded, expected {count}"
                )
    return _result(evidence)


def check_released(probe: Probe) -> PropertyResult:
    if not probe.let_go:
        return PropertyResult("n/a", ("the scenario takes no let-go checkpoint",))
    evidence = []
    for point in probe.let_go:
        if not point.run_done:
            evidence.append(f"run {point.run}: its task still running after every consumer let go")
        if not point.trace_ended:
            evidence.append(
                f"run {point.run}: its trace had not ended one gc pass and {LET_GO_TURNS} loop"
                " turns after every consumer let go"
            )
        if point.current_here:
            evidence.append(f"run {point.run}: its trace still current after every consumer let go")
    return _result(evidence)


def check(
    probe: Probe, events: list[TraceEvent], errors: list[ErrorRecord], notes: list[str]
) -> CellJudgement:
    log = TraceLog(events)
    properties = {
        "no-error": check_no_error(probe, errors),
        "trace-ended-once": check_trace_ended_once(probe, log),
        "spans-closed": check_spans_closed(log),
        "no-leak": check_no_leak(probe),
        "isolated": check_isolated(probe, log),
        "consumer-spans-attached": check_consumer_spans_attached(probe, log),
        "output-intact": check_output_intact(probe),
        "spans-filed": check_spans_filed(probe, log),
        "released": check_released(probe),
    }
    notes = list(notes) + probe.notes
    for point in probe.let_go:
        if point.trace_ended:
            notes.append(f"run {point.run}: trace ended {point.loop_turns} loop turn(s) after"
                         " one gc pass once every consumer had let go")
    return CellJudgement(properties, notes)
