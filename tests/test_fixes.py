"""Applying a fix and reverting it leaves the library exactly as it was."""

from __future__ import annotations

import pytest

import fixes
from harness.cell import run_cell
from tests.conftest import get_library, library_names


def _patched_namespaces(points):
    return {
        cls: dict(vars(cls))
        for cls in (points.scope, points.runner, points.streaming_result)
    }


@pytest.mark.parametrize("library_name", library_names())
@pytest.mark.parametrize("fix", list(fixes.FIXES))
def test_revert_restores_every_attribute(library_name, fix):
    library = get_library(library_name)
    before = _patched_namespaces(library.points)
    with fixes.applied(fix, library):
        pass
    after = _patched_namespaces(library.points)
    assert after == before  # the very same objects, not look-alikes


@pytest.mark.parametrize("library_name", library_names())
def test_bug_reproduces_again_after_each_fix_is_reverted(library_name):
    library = get_library(library_name)
    for fix in fixes.FIXES:
        with fixes.applied(fix, library):
            pass
        result = run_cell(library, "other_task", "none", "asyncio")
        assert "no-error" in result.failing, fix
        assert "different Context" in result.properties["no-error"]["evidence"][0]


@pytest.mark.parametrize("library_name", library_names())
def test_context_rerun_changes_behaviour_while_applied(library_name):
    """The revert test above would pass for a fix that never patched anything: prove it did."""
    library = get_library(library_name)
    result = run_cell(library, "other_task", "context_rerun", "asyncio")
    assert "no-error" not in result.failing


def test_unknown_fix_is_refused():
    with pytest.raises(ValueError, match="unknown fix 'nope'; allowed: none, context_rerun"):
        fixes.get_fix("nope")
