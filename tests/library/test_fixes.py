"""Applying a fix and reverting it leaves the library exactly as it was."""

from __future__ import annotations

import pytest

from ctxreset import fixes
from ctxreset.pytest_plugin import MATRIX_KEY, TARGETS_KEY
from ctxreset.run.cell import run_cell


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    matrix = metafunc.config.stash[MATRIX_KEY]
    targets = metafunc.config.stash[TARGETS_KEY]
    if "fix" in metafunc.fixturenames:
        pairs = [(t, f) for t in targets for f in matrix.fixes_for(t)]
        metafunc.parametrize(("target", "fix"), pairs, ids=[f"{t}-{f}" for t, f in pairs])
    elif "target" in metafunc.fixturenames:
        metafunc.parametrize("target", targets)


def _namespaces(points):
    return {cls: dict(vars(cls)) for cls in (points.scope, points.runner, points.streaming_result)}


def test_revert_restores_every_attribute(target, fix, library_of):
    library = library_of(target)
    before = _namespaces(library.points)
    with fixes.applied(fix, library):
        pass
    assert _namespaces(library.points) == before  # the very same objects, not look-alikes


def test_unpatched_behaviour_returns_after_revert(target, fix, matrix, library_of):
    library = library_of(target)
    before = run_cell(library, "other_task", "none", "asyncio", target=target)
    with fixes.applied(fix, library):
        pass
    after = run_cell(library, "other_task", "none", "asyncio", target=target)
    assert after.failing == before.failing
    expected = matrix.expectation(target, "none", "other_task", "asyncio", "3.11")
    if expected.reproduces:  # on an affected target, "the same" means the bug is back
        assert "no-error" in after.failing
        assert "different Context" in after.properties["no-error"]["evidence"][0]


def test_a_fix_changes_behaviour_while_applied(target, matrix, library_of):
    """The revert tests would pass for a fix that never patched anything: prove one does."""
    library = library_of(target)
    if "context_rerun" not in matrix.fixes_for(target):
        pytest.skip(f"context_rerun does not apply to {target}")
    assert "no-error" in run_cell(library, "other_task", "none", "asyncio", target=target).failing
    patched = run_cell(library, "other_task", "context_rerun", "asyncio", target=target)
    assert "no-error" not in patched.failing


def test_unknown_fix_is_refused():
    with pytest.raises(ValueError, match="unknown fix 'nope'; allowed: none, context_rerun"):
        fixes.get_fix("nope")
