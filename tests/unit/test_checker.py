"""The checker and the error sink catch what they claim to: each property can fail."""

from __future__ import annotations

import asyncio
import gc
import logging

from ctxreset.repro.model_script import ModelFailure, ModelScript, ToolCall

from ctxreset.contract import TraceEvent
from ctxreset.probe import ConsumerSpan, ContextSnapshot, LetGo, Probe
from ctxreset.run.checker import check
from ctxreset.run.errors import ErrorSink
from ctxreset.run.loops import new_loop, run_on_loop


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
        TraceEvent(1, "span_start", "t1", "s1", None, "agent-1", "agent"),
        TraceEvent(2, "span_end", "t1", "s1", None, "agent-1", "agent"),
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
        TraceEvent(1, "span_start", "t1", "s1", None, "agent-1", "agent"),
        TraceEvent(2, "trace_end", "t1", name="run-1"),
        TraceEvent(3, "span_end", "t1", "s1", None, "agent-1", "agent"),
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
        TraceEvent(4, "span_start", "t1", "s2", None, "agent-2", "agent"),
        TraceEvent(5, "span_end", "t1", "s2", None, "agent-2", "agent"),
    ]
    assert set(_failing(probe, events)) == {
        "isolated", "trace-ended-once", "spans-closed", "spans-filed"
    }


def test_no_op_consumer_span_is_caught():
    probe, events = _clean_run()
    probe.opens_consumer_spans = True
    probe.runs[0].consumer_spans = [ConsumerSpan("consume-1-1", None, None)]
    assert _failing(probe, events) == ("consumer-spans-attached",)


def test_no_op_span_of_a_consumers_child_task_is_caught():
    probe, events = _clean_run()
    probe.opens_consumer_spans = True
    events = [
        *events[:3],
        TraceEvent(3, "span_start", "t1", "s2", None, "consume-1-child-1", "custom"),
        TraceEvent(4, "span_end", "t1", "s2", None, "consume-1-child-1", "custom"),
        TraceEvent(5, "trace_end", "t1", name="run-1"),
    ]
    probe.runs[0].consumer_spans = [ConsumerSpan("consume-1-child-1", "t1", "s2"),
                                    ConsumerSpan("consume-1-child-2", None, None)]
    verdict = check(probe, events, [], [])
    assert verdict.failing == ("consumer-spans-attached",)
    assert "consume-1-child-2: a no-op span" in verdict.properties[
        "consumer-spans-attached"].evidence[0]


def test_span_under_a_parent_in_another_trace_is_caught():
    probe, events = _clean_run()
    second = probe.new_run()
    second.texts, second.final_output = list(second.script.deltas), second.script.text
    events = [
        TraceEvent(0, "trace_start", "t1", name="run-1"),
        TraceEvent(1, "trace_start", "t2", name="run-2"),
        TraceEvent(2, "span_start", "t1", "s1", None, "agent-1", "agent"),
        TraceEvent(3, "span_start", "t2", "s2", None, "agent-2", "agent"),
        TraceEvent(4, "span_start", "t2", "s3", "s1", "lookup", "function"),
        TraceEvent(5, "span_end", "t2", "s3", "s1", "lookup", "function"),
        TraceEvent(6, "span_end", "t2", "s2", None, "agent-2", "agent"),
        TraceEvent(7, "span_end", "t1", "s1", None, "agent-1", "agent"),
        TraceEvent(8, "trace_end", "t2", name="run-2"),
        TraceEvent(9, "trace_end", "t1", name="run-1"),
    ]
    verdict = check(probe, events, [], [])
    assert "spans-filed" in verdict.failing
    assert any("its parent s1 in t1" in line for line in verdict.properties["spans-filed"].evidence)


def test_lost_library_span_is_caught():
    probe = Probe(model_spans=True)
    run = probe.new_run(ModelScript(before=(ToolCall(),)))
    run.texts, run.final_output = list(run.script.deltas), run.script.text
    run.tool_calls = ["lookup"]
    probe.snapshots = [ContextSnapshot("caller before", None, None)]
    events = [
        TraceEvent(0, "trace_start", "t1", name="run-1"),
        TraceEvent(1, "span_start", "t1", "s1", None, "agent-1", "agent"),
        TraceEvent(2, "span_start", "t1", "s2", "s1", "response", "response"),
        TraceEvent(3, "span_end", "t1", "s2", "s1", "response", "response"),
        TraceEvent(4, "span_end", "t1", "s1", None, "agent-1", "agent"),
        TraceEvent(5, "trace_end", "t1", name="run-1"),
    ]
    verdict = check(probe, events, [], [])
    assert verdict.failing == ("spans-filed",)
    evidence = verdict.properties["spans-filed"].evidence
    assert "run 1: 1 response span(s) recorded, expected 2" in evidence
    assert "run 1: 0 function span(s) recorded, expected 1" in evidence


def test_nested_run_may_join_the_enclosing_runs_trace():
    probe, events = _clean_run()
    nested = probe.new_run(nested_in=1)
    nested.texts, nested.final_output = list(nested.script.deltas), nested.script.text
    events = [
        *events[:2],
        TraceEvent(2, "span_start", "t1", "s2", None, "agent-2", "agent"),
        TraceEvent(3, "span_end", "t1", "s2", None, "agent-2", "agent"),
        *events[2:],
    ]
    assert _failing(probe, events) == ()


def test_trace_held_open_or_current_after_let_go_is_caught():
    probe, events = _clean_run()
    probe.let_go = [LetGo(1, trace_ended=True, loop_turns=0, current_here=False)]
    assert check(probe, events, [], []).properties["released"].status == "pass"
    probe.let_go = [LetGo(1, trace_ended=False, loop_turns=-1, current_here=True,
                          run_done=False)]
    verdict = check(probe, events, [], [])
    assert verdict.failing == ("released",)
    assert len(verdict.properties["released"].evidence) == 3


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


def _three_runs_started_one_over_another() -> tuple[Probe, list[TraceEvent]]:
    """Runs 1-3 started from one Context, each registered as it started (so over the one
    before); run 2's trace has ended, runs 1 and 3 are still being read."""
    probe = Probe()
    for index, before in enumerate((None, "t1", "t2"), start=1):
        run = probe.new_run(trace_name=f"run-{index}")
        run.context_before = (before, None)
        run.texts = list(run.script.deltas)
        run.final_output = run.script.text
    events = [TraceEvent(seq, "trace_start", f"t{seq + 1}", name=f"run-{seq + 1}")
              for seq in range(3)]
    events.append(TraceEvent(3, "trace_end", "t2", name="run-2"))
    probe.events = events  # what the probe had seen when its snapshots were taken
    return probe, events


def _no_leak_with(probe, events, shown_after_run_3):
    probe.snapshots = [ContextSnapshot("caller before", None, None),
                       ContextSnapshot("consumer of run 3", shown_after_run_3, None, run=3,
                                       events_seen=len(events))]
    return check(probe, events, [], []).properties["no-leak"]


def test_a_consumer_unwinds_past_an_ended_trace_to_where_its_run_started():
    # Run 3 started over run 2's trace, which has ended since: its consumer must show what
    # was current when run 2 started (run 1's trace, not ended), as a stack unwinds.
    probe, events = _three_runs_started_one_over_another()
    assert _no_leak_with(probe, events, "t1").status == "pass"
    nothing = _no_leak_with(probe, events, None)
    assert nothing.status == "fail"
    assert nothing.evidence == ("consumer of run 3: current trace is None (was t1)",)
    assert _no_leak_with(probe, events, "t2").status == "fail"  # ended: current nowhere
