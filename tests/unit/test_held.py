"""The held-across-a-yield shape on the stdlib model: the repro has teeth (it fails on the
unpatched model for the reason it claims), the control passes, a fix that keeps the block in
one Context passes every property, and held-shape fixes revert exactly."""

from __future__ import annotations

import re
import sys

import pytest

from ctxreset import fixes
from ctxreset.catalogue import HELD, HELD_FIXES, judged_on
from ctxreset.libraries import load_library
from ctxreset.run.cell import run_cell

FOREIGN = re.compile(r"ValueError: .*was created in a different Context")


@pytest.fixture(scope="module")
def minimal():
    return load_library("minimal")


def _cell(library, scenario, fix="none"):
    result = run_cell(library, scenario, fix, "asyncio", target="minimal")
    assert result.status == "checked", result.reason
    return result


@pytest.mark.parametrize("scenario", ["held_aclose", "held_break_gc", "held_interrupted",
                                      "held_server_disconnect"])
def test_unpatched_block_left_in_another_context_raises_and_leaks(minimal, scenario):
    result = _cell(minimal, scenario)
    errors = result.properties["no-error"]["evidence"]
    assert any(FOREIGN.search(line) for line in errors), errors
    leak = result.properties["no-leak"]["evidence"]
    assert any("current trace is trace_" in line for line in leak), leak


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="wait_for steps in the owner's task")
def test_wait_for_before_312_leaves_the_block_in_another_step_task(minimal):
    errors = _cell(minimal, "held_cancelled").properties["no-error"]["evidence"]
    assert any(FOREIGN.search(line) for line in errors), errors


@pytest.mark.skipif(sys.version_info < (3, 10), reason="contextlib.aclosing is new in 3.10")
def test_the_aclosing_control_passes_unpatched(minimal):
    assert _cell(minimal, "held_aclosing").failing == ()


def test_the_finalizer_is_polled_not_assumed(minimal):
    notes = _cell(minimal, "held_break_gc").notes
    assert any(re.search(r"block left after \d+ loop turn", note) for note in notes), notes


@pytest.mark.parametrize("fix", ["held_private_context", "held_activate_per_step"])
def test_keeping_the_block_in_one_context_passes_every_property(minimal, fix):
    for scenario in ("held_aclose", "held_break_gc", "held_interrupted"):
        assert _cell(minimal, scenario, fix).failing == (), (fix, scenario)


@pytest.mark.parametrize("fix", ["held_tolerate", "held_finish_without_reset"])
def test_hiding_the_error_keeps_the_leak(minimal, fix):
    failing = _cell(minimal, "held_aclose", fix).failing
    assert "no-error" not in failing and "no-leak" in failing


@pytest.mark.parametrize("fix", HELD_FIXES)
def test_held_fixes_revert_exactly(minimal, fix):
    points = minimal.held()
    before = {cls: dict(vars(cls)) for cls in (points.block, points.stream)}
    with fixes.applied(fix, minimal):
        assert {cls: dict(vars(cls)) for cls in (points.block, points.stream)} != before
    assert {cls: dict(vars(cls)) for cls in (points.block, points.stream)} == before


def test_fixes_are_judged_on_the_shape_they_patch():
    assert all(judged_on(fix, scenario) for fix in HELD_FIXES for scenario in HELD)
    assert not any(judged_on(fix, "other_task") for fix in HELD_FIXES)
    assert not judged_on("context_rerun", "held_aclose")
    assert judged_on("none", "held_aclose") and judged_on("upstream", "other_task")
