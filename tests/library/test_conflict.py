"""The premise of each proven conflict (``ctxreset.catalogue.CONFLICTS``): its two scenarios
do the same thing until the point where a fix has to decide.

The argument that no fix can pass both rests on this: a fix decides from what has happened,
so if what happened up to the decision is the same, it decides the same in both. Here each
fix runs both scenarios (and both one-task references) and the trace and span events each
recorded before the scenarios part (their ``WINDOW_OVER`` snapshot) must be the same, ids
aside; after it the first one's consumer opens its late span and the second one's never
does, or the pair would not be two usages at all.
"""

from __future__ import annotations

import contextvars
from typing import Any, Optional

import pytest
from ctxreset.repro.outliving import WINDOW_OVER
from ctxreset.repro.scenarios import get_scenario

from ctxreset import fixes
from ctxreset.catalogue import CONFLICTS, ONE_TASK_SUFFIX, judged_on
from ctxreset.contract import TraceEvent
from ctxreset.probe import Probe
from ctxreset.pytest_plugin import MATRIX_KEY, TARGETS_KEY
from ctxreset.run.loops import new_loop, run_on_loop

Shape = tuple[str, str, str, Optional[int], Optional[int], Optional[int]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    matrix = metafunc.config.stash[MATRIX_KEY]
    cases = [(target, fix, conflict.first + suffix, conflict.second + suffix)
             for target in metafunc.config.stash[TARGETS_KEY]
             for conflict in CONFLICTS
             for suffix in ("", ONE_TASK_SUFFIX)
             if not matrix.excluded(target, conflict.first, "asyncio", "3.11")
             for fix in matrix.fixes_for(target)
             if judged_on(fix, conflict.first)]
    metafunc.parametrize(("target", "fix", "first", "second"), cases,
                         ids=[f"{t}-{f}-{a}" for t, f, a, _ in cases])


def shapes(events: list[TraceEvent]) -> list[Shape]:
    """The events with their random ids replaced by the order each id was first seen."""
    seen: dict[str, int] = {}

    def number(value: Optional[str]) -> Optional[int]:
        return None if value is None else seen.setdefault(value, len(seen))

    return [(e.kind, e.name, e.span_type, number(e.trace_id), number(e.span_id),
             number(e.parent_id)) for e in events]


def history(library: Any, scenario: str) -> tuple[list[Shape], int]:
    """The events ``scenario`` recorded before its ``WINDOW_OVER`` snapshot, and how many
    spans its consumers opened (real or no-op)."""
    recording = library.start_recording()
    probe = Probe(events=recording.events, model_spans=library.model_spans,
                  current=library.current_state)
    run = get_scenario(scenario)
    contextvars.Context().run(run_on_loop, new_loop("asyncio"), lambda: run(library, probe))
    (cut,) = [s.events_seen for s in probe.snapshots if s.label == WINDOW_OVER]
    return shapes(list(recording.events))[:cut], sum(len(r.consumer_spans) for r in probe.runs)


def test_the_two_scenarios_are_the_same_until_a_fix_must_decide(
        target, fix, first, second, library_of):
    library = library_of(target)
    with fixes.applied(fix, library):
        before_one, spans_one = history(library, first)
        before_other, spans_other = history(library, second)
    assert any(kind == "trace_start" for kind, *_ in before_one), "the run started no trace"
    assert before_one == before_other
    assert (spans_one, spans_other) == (1, 0), "the two scenarios never part"
