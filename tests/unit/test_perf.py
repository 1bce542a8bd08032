"""``nox -s perf``'s arithmetic, argument parsing and bookkeeping (ctxreset.perf), on
synthetic timings and results: no time is asserted."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ctxreset import perf
from ctxreset.records import CellResult, write_cell

PYTHONS = ["3.9", "3.10", "3.11"]


def test_arguments_have_defaults_and_take_a_subset():
    assert perf.parse_args([], PYTHONS) == perf.Options(2, PYTHONS, False)
    assert perf.parse_args(["--rounds", "3", "--pythons", "3.11,3.9", "--full"], PYTHONS) == (
        perf.Options(3, ["3.11", "3.9"], True))
    assert perf.parse_args(["--rounds=1", "--pythons=3.10"], PYTHONS).pythons == ["3.10"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--rounds", "0"], "perf: --rounds: bad value '0'; a whole number >= 1"),
    (["--rounds", "two"], "perf: --rounds: bad value 'two'; a whole number >= 1"),
    (["--pythons", "3.11,2.7"], "perf: --pythons: bad value '3.11,2.7'; allowed: 3.9, 3.10, 3.11"),
    (["--pythons", ","], "perf: --pythons: bad value ','; allowed: 3.9, 3.10, 3.11"),
    (["--nope"], "perf: unrecognized arguments: --nope"),
])
def test_a_bad_argument_is_one_line(argv, message):
    with pytest.raises(perf.PerfArgumentError) as info:
        perf.parse_args(argv, PYTHONS)
    assert str(info.value) == message


def test_the_order_rotates_each_round():
    assert [perf.order(["a", "b"], r) for r in range(3)] == [["a", "b"], ["b", "a"], ["a", "b"]]
    assert perf.order(["a", "b", "c"], 1) == ["b", "c", "a"]


def test_measure_warms_up_untimed_then_alternates(tmp_path):
    ran: list[tuple[str, str]] = []
    ticks = itertools.count(0.0, 1.0)
    said: list[str] = []
    timings = perf.measure([perf.NOX, perf.TOX], 2,
                           lambda kind, out: ran.append((kind, out.name)), tmp_path,
                           said.append, clock=lambda: next(ticks) ** 2)
    assert ran == [("nox", "nox-0"), ("tox", "tox-0"), ("nox", "nox-1"), ("tox", "tox-1"),
                   ("tox", "tox-2"), ("nox", "nox-2")]
    # the clock reads 0, 1, 4, 9, ...: the k-th run (from 0) takes (2k+1)^2 - (2k)^2 = 4k + 1
    assert timings.seconds == {"nox": [9.0, 21.0], "tox": [13.0, 17.0]}
    assert said[0] == "warm-up: nox: 1.0 s" and said[-1] == "round 2: nox: 21.0 s"


def test_summary_medians_ratio_and_the_cells_limit():
    timings = perf.Timings({"nox": [30.0, 50.0, 40.0], "tox": [60.0, 75.0, 100.0]})
    summary = perf.summarize(timings, cell_work=50.0, cores=2)
    assert summary.medians["nox"].median == 40.0 and summary.medians["tox"].median == 75.0
    assert (summary.medians["nox"].low, summary.medians["nox"].high) == (30.0, 50.0)
    # per round: 60/30, 75/50, 100/40
    assert summary.tox_over_nox.median == 2.0
    assert (summary.tox_over_nox.low, summary.tox_over_nox.high) == (1.5, 2.5)
    assert summary.limit == 25.0
    text = perf.report(summary, timings, 7, "HEADER")
    assert text.splitlines()[0] == "HEADER"
    assert "tox / nox, per round: x2.00 (min 1.50, max 2.50)" in text
    assert "cell work: 50.0 s in 7 cells = 25.0 s on 2 cores (the limit); nox median is x1.6" \
        in text


def _cell(root: Path, scenario: str, status: str, duration: float, failing: bool = False) -> None:
    properties: dict[str, dict[str, Any]] = {
        "no-error": {"status": "fail" if failing else "pass", "evidence": []}}
    write_cell(root, CellResult("3.11", "minimal", "none", scenario, "asyncio", status,
                                properties=properties if status == "checked" else {},
                                duration_s=duration), {"matrix_hash": "h"})


def test_cell_work_counts_cells_that_ran_and_runs_are_compared_cell_by_cell(tmp_path):
    one, other = tmp_path / "one", tmp_path / "other"
    for root in (one, other):
        _cell(root, "same_task", "checked", 0.25)
        _cell(root, "other_task", "not run", 0.0)
    _cell(one, "early_break", "checked", 0.5, failing=True)
    _cell(other, "early_break", "checked", 0.75)
    assert perf.cell_work(one) == (0.75, 2)
    assert perf.differing(one, other) == ["py3.11/minimal/none/early_break-asyncio.json"]
    assert perf.differing(one, one) == []


def test_cpu_is_measured_beside_the_wall_and_the_bound_is_printed(tmp_path):
    walls, cpus = itertools.count(0.0, 10.0), itertools.count(0.0, 3.0)
    timings = perf.measure([perf.NOX, perf.TOX], 1, lambda kind, out: None, tmp_path,
                           lambda line: None, clock=lambda: next(walls),
                           cpu_clock=lambda: next(cpus))
    assert timings.cpu == {"nox": [3.0], "tox": [3.0]}
    summary = perf.summarize(perf.Timings({"nox": [20.0], "tox": [30.0]},
                                          {"nox": [8.0], "tox": [12.0]}), 24.0, 2)
    assert summary.most_ahead == 2.5  # tox 30 s over a limit of 24 s on 2 cores
    text = perf.report(summary, perf.Timings({"nox": [20.0], "tox": [30.0]},
                                             {"nox": [8.0], "tox": [12.0]}), 3, "HEADER")
    assert text.splitlines()[2].split()[-1] == "8.0s"  # nox's CPU median
    assert "bound: tox median / limit = x2.50, the most nox can be ahead" in text
