"""A fix keeps no finished run's trace alive that the unpatched library lets go.

Several streamed runs, one after another, each read in the task that started it: while that
task (and so its Context) lives, a fix must not make earlier runs' traces reachable. The
unpatched library resets each run's trace in the caller's Context, so nothing of a finished
run stays there. A fix that leaves something of its own in that Context instead (a revoked
entry, say) must not let it reach the trace: the trace holds the library's Token, the Token
the value that was current before it, and so on back to the first run.
"""

from __future__ import annotations

import contextvars
import gc
import weakref
from typing import Any

import pytest
from ctxreset.repro.scenarios import get_scenario

from ctxreset import fixes
from ctxreset.catalogue import judged_on
from ctxreset.libraries.recorder import RecordingProcessor
from ctxreset.probe import Probe
from ctxreset.pytest_plugin import MATRIX_KEY, TARGETS_KEY
from ctxreset.run.loops import new_loop, run_on_loop

RUNS = 4
SCENARIO = "same_task"
"""The usage where the unpatched library is right: another task's reading leaves the
unpatched trace current in the caller's Context (``no-leak`` judges that), which keeps it
alive too."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    matrix = metafunc.config.stash[MATRIX_KEY]
    cases = [(target, fix)
             for target in metafunc.config.stash[TARGETS_KEY]
             if not matrix.excluded(target, SCENARIO, "asyncio", "3.11")
             for fix in matrix.fixes_for(target)
             if fix != "none" and judged_on(fix, SCENARIO)]
    metafunc.parametrize(("target", "fix"), cases, ids=[f"{t}-{f}" for t, f in cases])


def traces_alive_after_runs(library: Any) -> tuple[int, int]:
    """Run the scenario ``RUNS`` times from one task; once every run is over and a gc pass
    has run, while that task still lives: how many of their traces are alive, of how many."""
    recorder = library.start_recording()
    if not isinstance(recorder, RecordingProcessor):
        pytest.skip("the adapter does not record through a tracing processor")
    traces: list[weakref.ref[Any]] = []
    record_start = recorder.on_trace_start

    def on_trace_start(trace: Any) -> None:
        traces.append(weakref.ref(trace))
        record_start(trace)

    recorder.on_trace_start = on_trace_start  # type: ignore[method-assign]
    scenario = get_scenario(SCENARIO)

    async def main() -> tuple[int, int]:
        probe = Probe()
        for _ in range(RUNS):
            await scenario(library, probe)
        for run in probe.runs:  # what the probe keeps of a run is the harness's, not the fix's
            run.result = None
        gc.collect()
        return sum(ref() is not None for ref in traces), len(traces)

    alive: tuple[int, int] = contextvars.Context().run(run_on_loop, new_loop("asyncio"), main)
    return alive


def test_a_fix_keeps_no_finished_trace_alive(target, fix, library_of):
    library = library_of(target)
    unpatched, started = traces_alive_after_runs(library)
    assert started >= RUNS
    with fixes.applied(fix, library):
        patched, _ = traces_alive_after_runs(library)
    assert patched <= unpatched, (
        f"{fix} keeps {patched} of {started} finished runs' traces alive in the task that ran"
        f" them; unpatched, {unpatched}")
