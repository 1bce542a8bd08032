"""Schedule exploration: the seeded loop is deterministic per seed and varies across seeds,
an explored cell replays, and a failure under any explored schedule counts in the verdict."""

from __future__ import annotations

import asyncio
import json
import platform
import threading
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from ctxreset.explore import cli
from ctxreset.explore.results import (
    ExploredCell,
    Outcome,
    ScheduleGroup,
    cell_file,
    cell_payload,
    explore_root,
    load_explored,
    parse_cell,
)
from ctxreset.explore.section import build_interleavings, findings, render_markdown
from ctxreset.libraries import library_for
from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix, matrix_hash, short_python
from ctxreset.records import CellId, CellResult, Problem, write_atomically, write_cell
from ctxreset.report.build import build_report, render
from ctxreset.report.merge import merge
from ctxreset.run.cell import run_cell
from ctxreset.run.loops import new_loop, new_seeded_loop, run_on_loop

HASH = "current-matrix"
SCHEMA = json.loads((Path(__file__).parents[2] / "ctxreset/report/report.schema.json").read_text())


@pytest.fixture(scope="module")
def matrix():
    return load_matrix(DEFAULT_MATRIX_PATH)


def _order(loop: asyncio.AbstractEventLoop) -> list[tuple[int, int]]:
    """Which of four tasks ran which step, on ``loop``."""
    order: list[tuple[int, int]] = []

    async def worker(index: int) -> None:
        for step in range(3):
            order.append((index, step))
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(worker(i) for i in range(4)))

    run_on_loop(loop, main)
    return order


def test_the_same_seed_gives_the_same_interleaving_and_seeds_differ():
    assert _order(new_seeded_loop(7)) == _order(new_seeded_loop(7))
    orders = {tuple(_order(new_seeded_loop(seed))) for seed in range(10)}
    assert len(orders) >= 5  # the seed matters: the check above could fail
    fifo = _order(new_loop("asyncio"))
    assert fifo == [(i, step) for step in range(3) for i in range(4)]  # asyncio's own order
    assert tuple(fifo) in orders or len(orders) == 10  # FIFO is one order among the others


def test_held_back_callbacks_still_run_and_timers_keep_their_deadline():
    async def main() -> list[str]:
        seen: list[str] = []
        loop = asyncio.get_running_loop()
        for name in "abcdef":
            loop.call_soon(seen.append, name)
        started = loop.time()
        await asyncio.sleep(0.05)
        assert loop.time() - started >= 0.05
        return seen

    for seed in range(20):
        assert sorted(run_on_loop(new_seeded_loop(seed), main)) == list("abcdef")


def test_a_thread_s_callbacks_are_never_lost_while_the_queue_is_shuffled():
    async def main() -> int:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        count = [0]

        def bump() -> None:
            count[0] += 1
            if count[0] == 2000:
                done.set_result(None)

        def flood() -> None:
            for _ in range(2000):
                loop.call_soon_threadsafe(bump)

        thread = threading.Thread(target=flood)
        thread.start()
        while not done.done():
            await asyncio.sleep(0)
        thread.join()
        return count[0]

    assert run_on_loop(new_seeded_loop(3), main) == 2000


def _outcome(result: CellResult) -> tuple[str, tuple[str, ...]]:
    return result.status, result.failing


def test_a_cell_is_deterministic_per_seed_and_a_schedule_finds_what_the_default_misses(matrix):
    library = library_for(matrix, "minimal")

    def run(seed):
        return run_cell(library, "concurrent_from_one_caller", "none", "seeded",
                        target="minimal", seed=seed)

    default = run_cell(library, "concurrent_from_one_caller", "none", "asyncio",
                       target="minimal")
    outcomes = {seed: _outcome(run(seed)) for seed in range(12)}
    assert {seed: _outcome(run(seed)) for seed in range(12)} == outcomes  # replays, every seed
    assert "spans-closed" not in default.failing
    late = [seed for seed, (_, failing) in outcomes.items() if "spans-closed" in failing]
    assert late and len(late) < 12  # some schedules end a span after its trace; not all


def test_explore_then_replay_one_seed(tmp_path, capsys):
    assert cli.main(["--target", "minimal", "--fix", "none", "--scenario",
                     "concurrent_from_one_caller", "--seeds", "12", "--jobs", "1",
                     "--results", str(tmp_path)]) == 0
    path = cell_file(explore_root(tmp_path), short_python(platform.python_version()),
                     "minimal", "none", "concurrent_from_one_caller")
    cell = parse_cell(json.loads(path.read_text()))
    assert cell.seeds == 12 and sum(len(g.seeds) for g in cell.groups) == 12
    differing = cell.differing()
    assert differing and all(g.replayed for g in differing)
    seed = differing[0].seeds[0]
    capsys.readouterr()
    assert cli.main(["--target", "minimal", "--fix", "none", "--scenario",
                     "concurrent_from_one_caller", "--seed", str(seed),
                     "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "replayed: the same outcome as recorded" in out and "spans-closed" in out
    run = json.loads((path.parents[2] / "run.json").read_text())
    assert run["cells_explored"] == 1 and run["seeds"] == 12


@pytest.mark.parametrize(("argv", "expected"), [
    (["--seeds", "0"], "--seeds: bad value '0'; allowed: a whole number >= 1"),
    (["--budget", "inf"], "--budget: bad value 'inf'"),
    (["--target", "agents-9"], "--target: bad value 'agents-9'; allowed:"),
    (["--fix", "nope"], "--fix: bad value 'nope'"),
    (["--seed", "3", "--target", "minimal"], "--seed replays one cell: give exactly one"),
])
def test_bad_arguments_are_one_line_and_exit_2(argv, expected, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1, err


def _explored(fix: str, scenario: str, default: Outcome, groups: dict[Outcome, list[int]],
              target: str = "minimal") -> ExploredCell:
    count = sum(len(seeds) for seeds in groups.values())
    return ExploredCell("3.11", target, fix, scenario, default, 0, count,
                        [ScheduleGroup(o, seeds, {p: [f"{p} evidence"] for p in o.failing},
                                       True) for o, seeds in groups.items()], 1.0)


def _write_explored(results: Path, *cells: ExploredCell) -> None:
    for cell in cells:
        write_atomically(cell_file(explore_root(results), cell.python, cell.target, cell.fix,
                                   cell.scenario), cell_payload(cell, {"matrix_hash": HASH}))
    write_atomically(explore_root(results) / "py3.11" / "run.json",
                     {"seeds": 10, "first_seed": 0, "cells_planned": len(cells),
                      "cells_explored": len(cells), "runs": 11 * len(cells), "jobs": 2,
                      "duration_s": 1.0, "not_explored": [], "failed": [],
                      "left_out": {"server_stream": "real sockets"}})


PASS = Outcome("checked", ())
LATE_SPAN = Outcome("checked", ("spans-closed",))


def _default_order(results: Path, matrix, fixes: tuple[str, ...]) -> None:
    """Every default-order cell of ``fixes`` on minimal, 3.11, asyncio: a pass."""
    for fix in fixes:
        for scenario in matrix.scenarios:
            cell = CellId("3.11", "minimal", fix, scenario, "asyncio")
            result = CellResult(cell.python, cell.target, fix, scenario, cell.loop, "checked",
                                properties={"no-error": {"status": "pass", "evidence": []}})
            write_cell(results, result, {"python": "3.11.0", "matrix_hash": HASH})


def test_a_failure_under_any_schedule_counts_in_the_verdict(tmp_path, matrix):
    _default_order(tmp_path, matrix, ("none", "context_rerun", "safe_reset"))
    _write_explored(
        tmp_path,
        # unpatched: one schedule ends a span late in tool_call; never in consumer_spans
        _explored("none", "tool_call", PASS, {PASS: list(range(9)), LATE_SPAN: [9]}),
        _explored("none", "consumer_spans", PASS, {PASS: list(range(10))}),
        # safe_reset: late under schedules where unpatched is too: fails, no regression
        _explored("safe_reset", "tool_call", PASS, {PASS: list(range(8)), LATE_SPAN: [8, 9]}),
        # context_rerun: late in consumer_spans, which unpatched never is: regresses
        _explored("context_rerun", "consumer_spans", PASS,
                  {PASS: [0, 1, 2, 4, 5, 6, 7, 8, 9], LATE_SPAN: [3]}),
    )
    block, schedules = build_interleavings(tmp_path, matrix, HASH)
    assert schedules["safe_reset"].breaks == {("tool_call", "spans-closed")}
    assert not schedules["safe_reset"].regressions
    assert schedules["context_rerun"].regressions == {("consumer_spans", "spans-closed")}
    assert schedules["none"].breaks == {("tool_call", "spans-closed")}
    assert not schedules["none"].regressions  # the baseline cannot regress against itself

    report = build_report(merge(tmp_path, matrix, HASH), matrix, interleavings=block,
                          schedules=schedules)
    Draft202012Validator(SCHEMA).validate(report)
    outcomes = {v["fix"]: v for v in report["verdict"]["fixes"]}
    assert "explored" not in outcomes["none"]["summary"]  # the baseline is not a candidate
    assert outcomes["context_rerun"]["outcome"] == "regresses"
    assert outcomes["safe_reset"]["outcome"] == "fails"
    assert "tool_call (spans-closed [under explored schedules])" in outcomes["safe_reset"][
        "summary"]
    assert report["verdict"]["recommended"] == "safe_reset"
    # without exploration both pass in the default order, and the first by name would win
    plain = build_report(merge(tmp_path, matrix, HASH), matrix)
    assert plain["verdict"]["recommended"] == "context_rerun"

    text = render(report, "report.md.j2")
    section = text[text.index("## Interleavings"):]
    assert "passes under 9 of 10 schedules" in section
    command = "nox -s explore -- --target minimal --fix context_rerun --scenario consumer_spans"
    assert f"`{command} --seed 3`" in section
    assert "not explored: server_stream: real sockets" in section
    assert render(report, "report.md.j2") == text  # deterministic
    assert "Interleavings" in render(report, "report.html.j2")


def test_without_exploration_the_section_says_how_to_run_it(tmp_path, matrix):
    block, schedules = build_interleavings(tmp_path, matrix, HASH)
    assert block is None and schedules == {}
    assert "Not run. `nox -s explore`" in render_markdown(None)


def test_unreadable_and_stale_explored_files_are_listed_not_counted(tmp_path, matrix):
    cell = _explored("safe_reset", "tool_call", PASS, {LATE_SPAN: [0, 1]})
    _write_explored(tmp_path, cell)
    root = explore_root(tmp_path) / "py3.11" / "minimal"
    (root / "safe_reset" / "other_task.json").write_text('{"kind": "explore-cell"}')
    stale = cell_payload(_explored("safe_reset", "early_break", PASS, {LATE_SPAN: [0]}),
                         {"matrix_hash": "older"})
    write_atomically(root / "safe_reset" / "early_break.json", stale)
    explored = load_explored(explore_root(tmp_path), HASH)["3.11"]
    assert [c.scenario for c in explored.cells] == ["tool_call"]
    assert len(explored.unreadable) == 1 and len(explored.stale) == 1
    assert findings({"3.11": explored}, matrix)["safe_reset"].breaks == {
        ("tool_call", "spans-closed")}


@pytest.mark.parametrize("change", [
    {"seeds": 3},  # more announced than the groups hold
    {"groups": [{"status": "checked", "failing": ["made-up"], "seeds": [0, 1]}]},
    {"default": {"status": "maybe", "failing": []}},
    {"schema_version": 2},
])
def test_a_malformed_explored_cell_is_a_problem(change):
    payload = cell_payload(_explored("none", "tool_call", PASS, {PASS: [0, 1]}),
                           {"matrix_hash": HASH})
    payload.update(change)
    with pytest.raises(Problem):
        parse_cell(payload)


def test_the_real_matrix_hash_is_what_files_are_checked_against():
    assert isinstance(matrix_hash(), str) and matrix_hash()


def test_a_fix_is_explored_only_on_the_shape_it_patches():
    """A held-shape fix on a streamed scenario (or the other way round) patches nothing there:
    exploring it would only repeat the unpatched cell, so the plan leaves such pairs out."""
    from ctxreset.catalogue import HELD, HELD_FIXES

    matrix = load_matrix(DEFAULT_MATRIX_PATH)
    units, _ = cli.plan_units(matrix, ["minimal"], None, None)
    fixes = {fix for _, fix, _ in units}
    assert fixes & set(HELD_FIXES) and "owned_trace" in fixes  # both shapes are explored
    for _, fix, scenario in units:
        if fix in HELD_FIXES:
            assert scenario in HELD, (fix, scenario)
        elif fix not in ("none", "upstream"):
            assert scenario not in HELD, (fix, scenario)
