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
    "kept_reference_one_task": "the second run joins the unfinished first run's trace",
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
