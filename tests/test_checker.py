"""The checker and the error sink catch what they claim to: each property can fail."""

from __future__ import annotations

import asyncio
import gc
import logging

from harness.checker import check
from harness.errors import ErrorSink
from harness.loops import new_loop, run_on_loop
from harness.probe import ConsumerSpan, ContextSnapshot, Probe
from harness.recorder import TraceEvent
from repro.model_script import ModelFailure, ModelScript


def _clean_run() -> tuple[Probe, list[TraceEvent]]:
    """One run that did everything right: the baseline each test spoils in one way."""
    probe = Probe()
    run = probe.new_run()
    run.texts = list(run.script.deltas)
    run.final_output = run.script.text
    probe.snapshots = [
        ContextSnapshot("caller before", None, None),
        ContextSnapshot("consumer of run 1", None, None),
        ContextSnapshot("caller after", None, None),
    ]
    events = [
        TraceEvent(0, "trace_start", "t1", name="run-1"),
        TraceEvent(1, "span_start", "t1", "s1", None, "agent-1"),
        TraceEvent(2, "span_end", "t1", "s1", None, "agent-1"),
        TraceEvent(3, "trace_end", "t1", name="run-1"),
    ]
    return probe, events


def _failing(probe, events, errors=()):
    return check(probe, events, list(errors), []).failing


def test_clean_run_passes_everything():
    probe, events = _clean_run()
    verdict = check(probe, events, [], [])
    assert verdict.failing == ()
    assert verdict.properties["consumer-spans-attached"].status == "n/a"


def test_error_only_logged_is_caught():
    probe, events = _clean_run()
    sink = ErrorSink()
    with sink.capturing():
        logging.getLogger("some.library").error("Error resetting token")
    assert _failing(probe, events, sink.errors) == ("no-error",)
    assert "Error resetting token" in sink.errors[0].summary


def test_warning_is_a_note_not_an_error():
    sink = ErrorSink()
    with sink.capturing():
        logging.getLogger("some.library").warning("restored by hand")
    assert sink.errors == []
    assert any("restored by hand" in note for note in sink.notes)


def test_leaked_trace_is_caught():
    probe, events = _clean_run()
    probe.snapshots[-1] = ContextSnapshot("caller after", "t1", None)
    verdict = check(probe, events, [], [])
    assert verdict.failing == ("no-leak",)
    assert "caller after: current trace is t1" in verdict.properties["no-leak"].evidence[0]


def test_unended_span_is_caught():
    probe, events = _clean_run()
    events = [e for e in events if e.kind != "span_end"]
    assert _failing(probe, events) == ("spans-closed",)


def test_span_ending_after_its_trace_is_caught():
    probe, events = _clean_run()
    events = [
        TraceEvent(0, "trace_start", "t1", name="run-1"),
        TraceEvent(1, "span_start", "t1", "s1", None, "agent-1"),
        TraceEvent(2, "trace_end", "t1", name="run-1"),
        TraceEvent(3, "span_end", "t1", "s1", None, "agent-1"),
    ]
    assert _failing(probe, events) == ("spans-closed",)


def test_trace_ended_twice_or_never_is_caught():
    probe, events = _clean_run()
    assert _failing(probe, [*events, TraceEvent(4, "trace_end", "t1", name="run-1")]) == (
        "trace-ended-once",
    )
    assert _failing(probe, events[:3]) == ("trace-ended-once",)


def test_run_joining_another_runs_trace_is_not_isolated():
    probe, events = _clean_run()
    second = probe.new_run()
    second.texts, second.final_output = list(second.script.deltas), second.script.text
    events += [
        TraceEvent(4, "span_start", "t1", "s2", None, "agent-2"),
        TraceEvent(5, "span_end", "t1", "s2", None, "agent-2"),
    ]
    assert set(_failing(probe, events)) == {"isolated", "trace-ended-once", "spans-closed"}


def test_no_op_consumer_span_is_caught():
    probe, events = _clean_run()
    probe.opens_consumer_spans = True
    probe.runs[0].consumer_spans = [ConsumerSpan("consume-1-1", None, None)]
    assert _failing(probe, events) == ("consumer-spans-attached",)


def test_lost_events_and_wrong_error_are_caught():
    probe, events = _clean_run()
    probe.runs[0].texts = probe.runs[0].texts[:-1]
    assert _failing(probe, events) == ("output-intact",)

    failing = Probe()
    run = failing.new_run(ModelScript(fail_after=2), expect_error=ModelFailure)
    run.texts = list(run.expect_texts)
    run.consumer_error = ValueError("created in a different Context")
    failing.snapshots = probe.snapshots
    assert set(_failing(failing, events)) == {"no-error", "output-intact"}


def _run_with_sink(main) -> ErrorSink:
    sink = ErrorSink()
    loop = new_loop("asyncio")
    sink.watch_loop(loop)
    with sink.capturing():
        run_on_loop(loop, main)
        sink.collect_unretrieved()
        gc.collect()
    return sink


def test_never_retrieved_task_exception_is_caught():
    async def main():
        async def fail():
            raise RuntimeError("nobody awaits me")

        asyncio.get_running_loop().create_task(fail())
        await asyncio.sleep(0.01)

    sink = _run_with_sink(main)
    assert [(e.source, e.summary) for e in sink.errors] == [
        ("unretrieved-task", "RuntimeError: nobody awaits me")
    ]


def test_loop_exception_handler_report_is_caught():
    async def main():
        asyncio.get_running_loop().call_soon(lambda: 1 / 0)
        await asyncio.sleep(0.01)

    sink = _run_with_sink(main)
    assert [e.source for e in sink.errors] == ["loop-handler"]
    assert "ZeroDivisionError" in sink.errors[0].summary


def test_unraisable_is_caught():
    class Explodes:
        def __del__(self):
            raise KeyError("from __del__")

    sink = ErrorSink()
    with sink.capturing():
        Explodes()
        gc.collect()
    assert [e.source for e in sink.errors] == ["unraisablehook"]
