"""Applying a fix and reverting it leaves the library exactly as it was."""

from __future__ import annotations

import pytest

import fixes
from harness.cell import run_cell
from tests.conftest import applicable_fixes, get_library, library_names


def _applicable() -> list:
    return [
        pytest.param(name, fix, id=f"{target}-{fix}") for name, target, fix in applicable_fixes()
    ]


def _namespaces(points):
    return {cls: dict(vars(cls)) for cls in (points.scope, points.runner, points.streaming_result)}


@pytest.mark.parametrize(("library_name", "fix"), _applicable())
def test_revert_restores_every_attribute(library_name, fix):
    library = get_library(library_name)
    before = _namespaces(library.points)
    with fixes.applied(fix, library):
        pass
    assert _namespaces(library.points) == before  # the very same objects, not look-alikes


@pytest.mark.parametrize(("library_name", "fix"), _applicable())
def test_unpatched_behaviour_returns_after_revert(library_name, fix, matrix):
    library = get_library(library_name)
    target = matrix.target_id(library.target_label)
    before = run_cell(library, "other_task", "none", "asyncio")
    with fixes.applied(fix, library):
        pass
    after = run_cell(library, "other_task", "none", "asyncio")
    assert after.failing == before.failing
    expected = matrix.expectation(target, "none", "other_task", "asyncio", "3.11")
    if expected.reproduces:  # on an affected target, "the same" means the bug is back
        assert "no-error" in after.failing
        assert "different Context" in after.properties["no-error"]["evidence"][0]


@pytest.mark.parametrize("library_name", library_names())
def test_a_fix_changes_behaviour_while_applied(library_name, matrix):
    """The revert tests would pass for a fix that never patched anything: prove one does."""
    library = get_library(library_name)
    target = matrix.target_id(library.target_label)
    if "context_rerun" not in matrix.fixes_for(target):
        pytest.skip(f"context_rerun does not apply to {target}")
    assert "no-error" in run_cell(library, "other_task", "none", "asyncio").failing
    assert "no-error" not in run_cell(library, "other_task", "context_rerun", "asyncio").failing


def test_unknown_fix_is_refused():
    with pytest.raises(ValueError, match="unknown fix 'nope'; allowed: none, context_rerun"):
        fixes.get_fix("nope")
