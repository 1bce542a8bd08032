"""Applying a fix and reverting it leaves the library exactly as it was."""

from __future__ import annotations

import pytest

from ctxreset import fixes
from ctxreset.catalogue import judged_on
from ctxreset.libraries.held_only import HeldOnlyLibrary
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


def _namespaces(library):
    classes = []
    if library.held_points is not None:
        classes += [library.held_points.block, library.held_points.stream]
    if not isinstance(library, HeldOnlyLibrary):
        points = library.points
        classes += [points.scope, points.runner, points.streaming_result]
    return {cls: dict(vars(cls)) for cls in classes}


def _shape_scenario(matrix, target, fix="none"):
    """The scenario that shows the bug on ``target``: another task's stream, or (a held-shape
    target, or a held fix) another task's ``aclose()``."""
    held = matrix.excluded(target, "other_task", "asyncio", "3.11") or not judged_on(
        fix, "other_task")
    return "held_aclose" if held else "other_task"


def test_revert_restores_every_attribute(target, fix, library_of):
    library = library_of(target)
    before = _namespaces(library)
    with fixes.applied(fix, library):
        pass
    assert _namespaces(library) == before  # the very same objects, not look-alikes


def test_unpatched_behaviour_returns_after_revert(target, fix, matrix, library_of):
    library = library_of(target)
    scenario = _shape_scenario(matrix, target, fix)
    before = run_cell(library, scenario, "none", "asyncio", target=target)
    with fixes.applied(fix, library):
        pass
    after = run_cell(library, scenario, "none", "asyncio", target=target)
    assert after.failing == before.failing
    expected = matrix.expectation(target, "none", scenario, "asyncio", "3.11")
    if expected.reproduces:  # on an affected target, "the same" means the bug is back
        assert "no-error" in after.failing
        assert "different Context" in after.properties["no-error"]["evidence"][0]


def test_a_fix_changes_behaviour_while_applied(target, matrix, library_of):
    """The revert tests would pass for a fix that never patched anything: prove one does."""
    library = library_of(target)
    for fix, scenario, shown in (("context_rerun", "other_task", "no-error"),
                                 ("held_private_context", "held_aclose", "no-leak")):
        if fix not in matrix.fixes_for(target):
            continue
        assert shown in run_cell(library, scenario, "none", "asyncio", target=target).failing
        patched = run_cell(library, scenario, fix, "asyncio", target=target)
        assert shown not in patched.failing
        return
    pytest.skip(f"neither context_rerun nor held_private_context applies to {target}")


def test_unknown_fix_is_refused():
    with pytest.raises(ValueError, match="unknown fix 'nope'; allowed: none, context_rerun"):
        fixes.get_fix("nope")
