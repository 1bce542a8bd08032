"""The two patch files under patches/ against openai-agents 0.0.11's installed source: each
applies (to a copy of the installed package), and the patched library shows the properties
the catalogue's runtime fixes of the same strategies show, as observed in every cell of
``nox -s candidate`` on them (catch_and_ignore: what safe_reset_swallow, upstream PR #516,
fails; trace_in_run_task: what the upstream fix released in 0.0.12 fails):

- catch_and_ignore hides the ValueError but leaves the finished trace current in the caller's
  Context (``no-leak``), where trace_in_run_task leaves nothing current;
- trace_in_run_task no longer makes the trace current for the consumer, so spans the consumer
  opens are no-op spans (``consumer-spans-attached``, and 0.0.11 logs "No active trace" at
  ERROR when there is none): there it does worse than unpatched 0.0.11, which is why the
  report's rule never recommends it, while catch_and_ignore regresses nowhere.

Scenario by scenario (every one, asyncio, this Python), each patched library fails exactly
what matrix.yaml records for the catalogue's fix of the same strategy, so the report ranks the
patches as it ranks those fixes. A patch that does not apply is refused with one line and
leaves the files as they were.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH
from ctxreset.matrix.sources import SourceError, apply_patch

PATCHES = DEFAULT_MATRIX_PATH.parent / "patches"
SCENARIOS = ("other_task", "same_task", "child_task_spans_one_task")

RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
import ctxreset.run.netguard as guard
import agents
assert agents.__file__.startswith(sys.argv[1]), agents.__file__
from ctxreset.libraries import load_library
from ctxreset.run.cell import run_cell
library = load_library("openai-agents")
found = {s: list(run_cell(library, s, "none", "asyncio", target="agents-0.0.11").failing)
         for s in sys.argv[2:]}
assert not guard.BLOCKED_ATTEMPTS, guard.BLOCKED_ATTEMPTS
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def installed() -> Path:
    try:
        version = metadata.version("openai-agents")
    except metadata.PackageNotFoundError:
        version = None
    if version != "0.0.11":
        pytest.skip("the patches are written against openai-agents 0.0.11")
    import agents

    return Path(agents.__file__).parent


def _patched(installed: Path, tmp_path: Path, name: str) -> Path:
    site = tmp_path / name
    shutil.copytree(installed, site / "agents", ignore=shutil.ignore_patterns("__pycache__"))
    apply_patch(site, PATCHES / f"{name}.diff")
    return site


def _failing(site: Path, scenarios=SCENARIOS) -> dict[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", RUN, str(site), *scenarios],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return {k: set(v) for k, v in json.loads(done.stdout.splitlines()[-1]).items()}


def _scenarios(matrix) -> list[str]:
    """Every scenario matrix.yaml runs on agents-0.0.11 with asyncio on this Python."""
    python = ".".join(platform.python_version().split(".")[:2])
    return [s for s in matrix.scenarios
            if not matrix.excluded("agents-0.0.11", s, "asyncio", python)]


@pytest.fixture(scope="module")
def patched_failing(installed, tmp_path_factory, matrix) -> dict[str, dict[str, set[str]]]:
    """Per patch, what the patched library fails in every scenario: one process per patch,
    shared by the tests below (each process imports openai-agents, seconds each)."""
    scenarios = _scenarios(matrix)
    assert set(SCENARIOS) <= set(scenarios)
    root = tmp_path_factory.mktemp("patched")
    return {name: _failing(_patched(installed, root, name), scenarios)
            for name in ("catch_and_ignore", "trace_in_run_task")}


def test_catch_and_ignore_leaks_where_trace_in_run_task_regresses(installed, patched_failing):
    ignore = patched_failing["catch_and_ignore"]
    in_task = patched_failing["trace_in_run_task"]
    unpatched = _failing(installed.parent)
    assert unpatched["other_task"] == {"no-error", "no-leak", "output-intact"}
    assert ignore["other_task"] == {"no-leak"}  # the error hidden, the trace left current
    assert in_task["other_task"] == set()
    assert unpatched["same_task"] == ignore["same_task"] == in_task["same_task"] == set()
    assert unpatched["child_task_spans_one_task"] == set()
    assert ignore["child_task_spans_one_task"] == set()
    assert in_task["child_task_spans_one_task"] == {"consumer-spans-attached", "no-error"}


def test_a_patch_that_does_not_apply_is_refused_and_changes_nothing(installed, tmp_path):
    site = _patched(installed, tmp_path, "trace_in_run_task")
    before = {p: p.read_bytes() for p in (site / "agents").rglob("*.py")}
    with pytest.raises(SourceError) as info:
        apply_patch(site, PATCHES / "trace_in_run_task.diff")  # already applied
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(f"{PATCHES / 'trace_in_run_task.diff'}: does not apply to")
    assert {p: p.read_bytes() for p in (site / "agents").rglob("*.py")} == before


@pytest.mark.parametrize(("patch", "target", "fix"), [
    ("catch_and_ignore", "agents-0.0.11", "safe_reset_swallow"),  # PR #516's strategy
    ("trace_in_run_task", "agents-0.0.12", "upstream"),  # PR #540's, released in 0.0.12
])
def test_each_patch_fails_what_the_catalogue_records_for_its_strategy(
        patched_failing, matrix, patch, target, fix):
    """Every scenario, asyncio, this Python: the patched library fails exactly what
    matrix.yaml records for the catalogue's fix of the same strategy, so the report ranks
    the two patches as it ranks those fixes (safe_reset_swallow regresses nowhere; upstream
    regresses on the consumer's spans)."""
    python = ".".join(platform.python_version().split(".")[:2])
    found = patched_failing[patch]
    expected = {s: set(matrix.expectation(target, fix, s, "asyncio", python).fails)
                for s in _scenarios(matrix)}
    assert found.keys() == expected.keys()
    assert {s: sorted(v) for s, v in found.items() if v != expected[s]} == {}
