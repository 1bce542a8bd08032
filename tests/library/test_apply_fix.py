"""``-p ctxreset.apply_fix``: a foreign test suite runs with a candidate fix in place.

The foreign suite is ``tests/library/foreign_suite/stream_endpoint.py``, run by pytest in a
subprocess (never in this process, whose library must stay unpatched). Which fix makes it pass
and which one does not apply are read from matrix.yaml for the installed release, so the same
tests hold on every target.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Optional

import pytest

from ctxreset import apply_fix
from ctxreset.catalogue import fix_names
from ctxreset.libraries import installed_version, load_library, target_of
from ctxreset.matrix.loader import Matrix
from ctxreset.pytest_plugin import TARGETS_KEY

pytest_plugins = ["pytester"]


FOREIGN_TEST = Path(__file__).parent / "foreign_suite" / "stream_endpoint.py"
PLUGIN = ("-p", "ctxreset.apply_fix", "-p", "no:hypothesispytest")
"""The plugin under test; hypothesis's, installed here as one of the harness's own test tools
and no part of the foreign suite, left out (it costs each run about a second of CPU)."""
TIMEOUT = 120


@pytest.fixture
def foreign_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A scratch directory holding the foreign test; the fix variable unset."""
    monkeypatch.delenv(apply_fix.ENV_VAR, raising=False)
    pytester.makepyfile(test_stream_endpoint=FOREIGN_TEST.read_text())
    return pytester


def _agents_target(request: pytest.FixtureRequest, matrix: Matrix) -> str:
    """The matrix target of the installed openai-agents, or skip."""
    pytest.importorskip("agents", reason="openai-agents is not installed here")
    version = installed_version("openai-agents")
    target = target_of(matrix, "openai-agents", version)
    if target is None:
        pytest.skip(f"openai-agents {version} is not a matrix.yaml target")
    if target not in request.config.stash[TARGETS_KEY]:
        pytest.skip(f"target {target} not selected in this session")
    if matrix.excluded(target, "other_task", "asyncio", platform.python_version()):
        pytest.skip(f"{target} is a held-shape target: the foreign suite streams a run")
    return target


def _passing_fix(matrix: Matrix, target: str) -> str:
    """A fix matrix.yaml expects to pass the other_task scenario (the foreign test's shape)."""
    python = platform.python_version()
    for fix in matrix.fixes_for(target):
        if fix != "none" and not matrix.expectation(target, fix, "other_task", "asyncio",
                                                    python).fails:
            return fix
    raise AssertionError(f"matrix.yaml: no fix passes other_task on {target}")


def _affected(matrix: Matrix, target: str) -> bool:
    """Whether matrix.yaml says the unpatched release reproduces the bug in another task."""
    if "none" not in matrix.fixes_for(target):
        return False
    rule = matrix.expectation(target, "none", "other_task", "asyncio", platform.python_version())
    return rule.reproduces is not None


def _foreign_fix(matrix: Matrix, version: Optional[str]) -> str:
    """A fix that does not apply to the installed release."""
    if version is not None:
        target = target_of(matrix, "openai-agents", version)
        if target is None:
            return "context_rerun"
        return next(f for f in ("upstream", "context_rerun") if target not in matrix.fixes[f])
    return "context_rerun"


def test_foreign_test_shows_the_bug_without_a_fix(foreign_suite, request, matrix):
    target = _agents_target(request, matrix)
    result = foreign_suite.runpytest_subprocess(*PLUGIN, timeout=TIMEOUT)
    result.stdout.fnmatch_lines(["ctxreset: no fix applied (use --apply-fix FIX or *)"])
    if _affected(matrix, target):
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([
            "E  * ValueError: <Token var=<ContextVar name='current_trace'*"
            "was created in a different Context",
        ])
    else:
        result.assert_outcomes(passed=1)


def test_foreign_test_passes_with_the_fix(foreign_suite, request, matrix):
    target = _agents_target(request, matrix)
    fix = _passing_fix(matrix, target)
    result = foreign_suite.runpytest_subprocess(*PLUGIN, "--apply-fix", fix, timeout=TIMEOUT)
    result.assert_outcomes(passed=1)
    version = installed_version("openai-agents")
    result.stdout.fnmatch_lines([f"ctxreset: fix {fix} applied to openai-agents {version}"])
    assert "different Context" not in result.stdout.str()


def test_env_var_applies_the_fix_in_every_xdist_worker(foreign_suite, request, matrix,
                                                        monkeypatch):
    target = _agents_target(request, matrix)
    fix = _passing_fix(matrix, target)
    monkeypatch.setenv(apply_fix.ENV_VAR, fix)
    result = foreign_suite.runpytest_subprocess(*PLUGIN, "-n", "2", timeout=TIMEOUT)
    result.assert_outcomes(passed=1)  # run by a worker: only its own patch can make it pass
    version = installed_version("openai-agents")
    result.stdout.fnmatch_lines([f"ctxreset: fix {fix} applied to openai-agents {version}"])


def test_unknown_fix_exits_2_with_one_line(foreign_suite):
    result = foreign_suite.runpytest_subprocess(*PLUGIN, "--apply-fix", "nope",
                                                timeout=TIMEOUT)
    assert result.ret == 2
    allowed = ", ".join(fix_names())
    assert result.errlines == [f"Exit: --apply-fix: unknown fix 'nope'; allowed: {allowed}"]
    assert result.outlines == []


def test_fix_for_another_release_exits_2_with_one_line(foreign_suite, matrix):
    version = installed_version("openai-agents")
    fix = _foreign_fix(matrix, version)
    result = foreign_suite.runpytest_subprocess(*PLUGIN, "--apply-fix", fix, timeout=TIMEOUT)
    assert result.ret == 2
    assert len(result.errlines) == 1, result.errlines
    if version is None:
        expected = f"fix {fix} does not apply: openai-agents is not installed here"
    else:
        expected = f"fix {fix} does not apply to openai-agents {version}"
    assert result.errlines[0].startswith(f"Exit: --apply-fix: {expected}")
    assert result.outlines == []


@pytest.mark.parametrize(
    ("fix", "version", "reason"),
    [
        ("context_rerun", None, "does not apply: openai-agents is not installed here ("),
        ("context_rerun", "9.9.9", "does not apply to openai-agents 9.9.9: no matrix.yaml "
         "target installs that release ("),
        ("upstream", "0.0.11", "does not apply to openai-agents 0.0.11 (matrix.yaml target "
         "agents-0.0.11; "),
        ("context_rerun", "0.0.12", "does not apply to openai-agents 0.0.12 (matrix.yaml target "
         "agents-0.0.12; "),
    ],
)
def test_not_applicable_reasons(fix, version, reason, matrix):
    releases = [matrix.targets[t].requirement for t in matrix.fixes[fix]]
    where = ", ".join(r for r in releases if r)  # e.g. openai-agents==0.0.11
    with pytest.raises(apply_fix.FixNotApplicable) as raised:
        apply_fix.target_for(fix, version)
    assert str(raised.value) == f"--apply-fix: fix {fix} {reason}it applies to {where})"


def test_applicable_fix_maps_the_release_to_its_target():
    assert apply_fix.target_for("context_rerun", "0.0.11") == "agents-0.0.11"
    assert apply_fix.target_for("upstream", "0.0.12") == "agents-0.0.12"


def _namespaces(points):
    return {cls: dict(vars(cls)) for cls in (points.scope, points.runner, points.streaming_result)}


def test_plugin_hooks_patch_for_the_run_and_revert_after_it(pytester, request, matrix,
                                                            monkeypatch):
    """In-process: the inner run sees patched classes; afterwards they hold the originals."""
    target = _agents_target(request, matrix)
    fix = _passing_fix(matrix, target)
    monkeypatch.delenv(apply_fix.ENV_VAR, raising=False)
    points = load_library("openai-agents").points
    before = _namespaces(points)
    patched = fix not in ("none", "upstream")  # the two that patch nothing
    original = id(vars(points.runner)["run_streamed"])
    pytester.makepyfile(test_inner=f"""
        from agents.run import Runner

        def test_patched():
            assert (id(vars(Runner)["run_streamed"]) != {original}) is {patched}
    """)
    result = pytester.runpytest_inprocess(*PLUGIN, "--apply-fix", fix, "-p", "no:asyncio")
    result.assert_outcomes(passed=1)
    assert _namespaces(points) == before  # the very same objects, not look-alikes
