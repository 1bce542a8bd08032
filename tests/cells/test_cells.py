"""Every planned cell on this interpreter, judged against matrix.yaml.

The failing properties must equal the expected ones exactly: a repro that stops failing, a fix
that starts failing, or a fix that silently gets better all fail here until matrix.yaml says so.
A cell matrix.yaml rules out on this Python gets no test: the plugin records it "not run" with
its reason as the session starts. A cell of an optional loop that is not installed is recorded
"not run" with its reason and skipped.

Each cell's file is written before it runs (status "error": the process died mid-cell) and
replaced by its result; Ctrl-C during a cell records it "not run (interrupted)".
"""

from __future__ import annotations

import re

import pytest

from ctxreset.catalogue import BASIC, ONE_TASK_SUFFIX
from ctxreset.matrix.plan import ruled_out
from ctxreset.records import INTERRUPTED, CellId, not_run, started
from ctxreset.run.cell import run_cell


def test_cell_matches_expectation(cell: CellId, matrix, results_sink, library_of, cell_timeout):
    """One cell (the plugin, ctxreset.pytest_plugin, parametrizes ``cell``)."""
    assert not ruled_out(matrix, cell), "the plugin records ruled-out cells; they get no test"
    results_sink(started(cell))
    try:
        result = run_cell(
            library_of(cell.target), cell.scenario, cell.fix, cell.loop, target=cell.target,
            timeout=cell_timeout,
        )
    except KeyboardInterrupt:
        results_sink(not_run(cell, INTERRUPTED))
        raise
    results_sink(result)
    if result.status == "not run" and matrix.loops[cell.loop].optional:
        pytest.skip(f"optional loop {cell.loop}: {result.reason}")
    expected = matrix.expectation(cell.target, cell.fix, cell.scenario, cell.loop, cell.python)

    assert result.status == "checked", result.reason
    evidence = {n: p["evidence"] for n, p in result.properties.items() if p["status"] == "fail"}
    assert set(result.failing) == expected.fails, evidence
    if expected.reproduces:
        lines = result.properties["no-error"]["evidence"]
        assert any(re.search(expected.reproduces, line) for line in lines), lines


def test_affected_targets_have_teeth(matrix):
    """The data itself keeps the repro honest: scenarios 2 and 3 must reproduce, 1 must not."""
    for target in ("minimal", "agents-0.0.11"):
        for loop in matrix.loops:
            for scenario in ("other_task", "streaming_response"):
                expected = matrix.expectation(target, "none", scenario, loop, "3.11")
                assert "no-error" in expected.fails
                assert expected.reproduces and "different Context" in expected.reproduces
            control = matrix.expectation(target, "none", "same_task", loop, "3.11")
            assert control.fails == frozenset()


NO_SPLIT_TOKEN = {
    "enclosing_trace": "the run joins the application's trace and sets no token of its own",
    "never_iterated": "nobody reads the stream, so nothing resets the token",
    "kept_reference": "the first stream is never finished; the second run joins its trace",
    "handler_error": "the handler's error drops the stream before its end, and 0.0.11 resets "
                     "the token only after the loop",
}
"""Realistic scenarios in which unpatched 0.0.11 truly does not raise the ValueError."""

REFERENCES_THE_LIBRARY_GETS_WRONG = {
    "slow_guardrail_one_task": "the trace ends before the cancelled guardrail's span",
    "guardrail_trips_one_task": "the trace ends before the run task's spans",
    "race_disconnect_one_task": "each step runs in a task of its own, as the usage has it",
    "timeout_per_event_one_task": "0.0.11 swallows the cancelled step: the consumer never sees "
                                  "the timeout, and the run's spans end after the trace",
    "timeout_whole_one_task": "the same, around the whole loop",
    "interleaved_runs_one_task": "the second run joins the first run's current trace",
    "concurrent_from_one_caller_one_task": "later runs join the first run's current trace",
    "fan_out_out_of_order_one_task": "later runs join the first run's current trace",
    "kept_reference_one_task": "the second run joins the unfinished first run's trace",
    "background_spans_one_task": "the trace ends at the end of the stream, before the span a "
                                 "task spawned for the last event opens and closes under it",
    "late_background_span_one_task": "the trace ends at the end of the stream, long before "
                                     "the save the consumer started opens its span under it",
    "handler_error_one_task": "the dropped stream never ends its trace (0.0.11 finishes it only "
                              "after the loop), and the run goes on after its reader failed",
}
"""One-task references that unpatched 0.0.11 fails on its own, with the reason (read from the
evidence): a fix is not blamed for these, since the reference does no better."""


def _realistic(matrix):
    return [s for s in matrix.scenarios
            if s not in BASIC and not s.endswith(ONE_TASK_SUFFIX)]


def test_realistic_scenarios_reproduce_unpatched_where_the_token_is_split(matrix):
    """Every realistic scenario consumed in another task raises the foreign-Context ValueError
    on unpatched 0.0.11, on every loop (3.11), unless it is listed with the reason it cannot."""
    for scenario in _realistic(matrix):
        for loop in matrix.loops:
            if matrix.excluded("agents-0.0.11", scenario, loop, "3.11"):
                continue
            expected = matrix.expectation("agents-0.0.11", "none", scenario, loop, "3.11")
            if scenario in NO_SPLIT_TOKEN:
                assert not expected.reproduces, (scenario, loop)
                continue
            assert "no-error" in expected.fails, (scenario, loop)
            assert expected.reproduces and "different Context" in expected.reproduces


def test_one_task_references_pass_unpatched_unless_listed(matrix):
    """The same usage in one task is what the unpatched library gets right: it passes every
    property on 3.12 (where wait_for no longer spawns a task) unless listed with its reason."""
    references = [s for s in matrix.scenarios if s.endswith(ONE_TASK_SUFFIX)]
    assert len(references) >= 20
    for scenario in references:
        expected = matrix.expectation("agents-0.0.11", "none", scenario, "asyncio", "3.12")
        if scenario in REFERENCES_THE_LIBRARY_GETS_WRONG:
            assert expected.fails, scenario
            assert not expected.reproduces or scenario in (
                "race_disconnect_one_task",), scenario
        else:
            assert expected.fails == frozenset(), scenario


HELD_REPRODUCES = {
    "minimal": ("held_aclose", "held_break_gc", "held_cancelled", "held_interrupted",
                "held_server_disconnect"),
    "sentry-2.42.0": ("held_aclose", "held_break_gc", "held_cancelled", "held_interrupted",
                      "held_server_disconnect"),
    "otel-1.45.2": ("held_aclose", "held_break_gc", "held_cancelled", "held_interrupted",
                    "held_server_disconnect"),
    "agents-0.19.4": ("held_cancelled", "held_interrupted", "held_server_disconnect"),
    "pydantic-2.12.0": ("held_usage_limit",),
}
"""Where each affected release raises (or logs) the foreign-Context ValueError unpatched, on
3.11 and asyncio (held_cancelled: before 3.12 only). openai-agents 0.19.4 skips the reset when
its block is left by GeneratorExit: there it leaks without an error."""

HELD_CONTROL_FAILS = {
    "agents-0.19.4": "0.19.4 skips the reset on GeneratorExit: even closed by its owner, the "
                     "trace stays current",
    "pydantic-2.12.0": "closing run_stream early lets GeneratorExit escape (anyio), and the "
                       "library's own stream still detaches elsewhere",
    "pydantic-2.13.0": "closing run_stream early lets GeneratorExit escape (anyio)",
}
"""Targets whose unpatched (or fixed) release fails the aclosing control on its own, with the
reason read from the evidence."""


def test_held_shape_reproduces_on_every_affected_release(matrix):
    """The held shape's teeth, as data: each affected release must fail no-error with the
    foreign-Context ValueError in the scenarios it claims, and must leak where the block was
    entered when another task closes it."""
    for target, scenarios in HELD_REPRODUCES.items():
        for scenario in scenarios:
            expected = matrix.expectation(target, "none", scenario, "asyncio", "3.11")
            assert "no-error" in expected.fails, (target, scenario)
            assert expected.reproduces and "different Context" in expected.reproduces
        if "held_aclose" in matrix.scenarios and target in ("minimal", "sentry-2.42.0",
                                                            "otel-1.45.2", "agents-0.19.4"):
            leak = matrix.expectation(target, "none", "held_aclose", "asyncio", "3.11")
            assert "no-leak" in leak.fails, target


def test_the_aclosing_control_passes_unless_listed(matrix):
    """Closed in its owner, the block is left where it was entered: every held-shape target
    passes every property there, unpatched or fixed, unless listed with its reason."""
    for target in matrix.targets:
        if matrix.excluded(target, "held_aclosing", "asyncio", "3.11"):
            continue
        for fix in ("none", "upstream"):
            if target not in matrix.fixes[fix]:
                continue
            expected = matrix.expectation(target, fix, "held_aclosing", "asyncio", "3.11")
            if target in HELD_CONTROL_FAILS:
                assert expected.fails, target
            else:
                assert expected.fails == frozenset(), (target, fix)


def test_shipped_held_fixes_stop_the_error_not_the_leak(matrix):
    """What the fixed releases are recorded doing when another task closes the block:
    sentry 2.42.1 raises nothing and leaves the scope current in the Context that entered."""
    sentry = matrix.expectation("sentry-2.42.1", "upstream", "held_aclose", "asyncio", "3.11")
    assert "no-error" not in sentry.fails and "no-leak" in sentry.fails
    agents = matrix.expectation("agents-0.20.0", "upstream", "held_interrupted", "asyncio",
                                "3.11")
    assert "no-error" in agents.fails  # 0.20.0 tolerates GeneratorExit only
    pydantic = matrix.expectation("pydantic-2.13.0", "upstream", "held_usage_limit", "asyncio",
                                  "3.11")
    assert pydantic.fails == frozenset()
