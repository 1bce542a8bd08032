"""The findings under the verdict (ctxreset/report/findings.py): computed from the results and
the benchmark files, each able to say the opposite."""

from __future__ import annotations

from ctxreset.bench.costs import read_costs
from ctxreset.matrix.plan import planned_cells
from ctxreset.records import CellId
from ctxreset.report.build import build_report, render
from ctxreset.report.merge import merge
from tests.unit.test_report import HASH, _every_cell_of, _write, _write_bench, matrix  # noqa: F401


def _report(results, matrix):  # noqa: F811
    return build_report(merge(results, matrix, HASH), matrix, read_costs(results / "bench", HASH))


def test_a_fix_passing_everything_shows_the_properties_can_all_hold(tmp_path, matrix):  # noqa: F811
    _every_cell_of(tmp_path, matrix, "none", {"other_task": ("no-error",)})
    _every_cell_of(tmp_path, matrix, "context_rerun", {})
    findings = _report(tmp_path, matrix)["verdict"]["findings"]
    assert findings[0].startswith("No two properties conflict on this catalogue: context_rerun "
                                  "passes all 9 in every cell run, on ")
    # no benchmark file: the verdict says its cost is unknown, and gives no figure
    assert findings[1] == ("The cost of context_rerun was not measured in this run "
                           "(`nox -s bench` times it against the budget).")
    # and a fix that passes both scenarios of a claimed conflict refutes the claim
    assert findings[2].startswith(
        "The conflict claimed between late_background_span and stuck_background_task "
        "(late_background_span needs consumer-spans-attached, spans-closed; "
        "stuck_background_task needs released) does not hold on these results: both passed "
        "for none on agents-0.0.11 py3.11 asyncio; none on agents-0.0.11 py3.11 rloop; none "
        "on agents-0.0.11 py3.11 uvloop and in ")
    # both fixes, two targets, two placements, every loop: all but the three named
    loops = sum(not matrix.loop_not_run(loop, "3.11") for loop in matrix.loops)
    assert findings[2].endswith(f" {2 * 2 * 2 * loops - 3} more pairs.")
    assert len(findings) == 3


def test_no_conflict_finding_when_no_fix_passes_everything(tmp_path, matrix):  # noqa: F811
    _every_cell_of(tmp_path, matrix, "none", {"other_task": ("no-error",)})
    _every_cell_of(tmp_path, matrix, "context_rerun", {"early_break": ("trace-ended-once",)})
    findings = _report(tmp_path, matrix)["verdict"]["findings"]
    assert not any(f.startswith("No two properties conflict") for f in findings)


def test_a_recommended_fix_over_budget_names_the_fixes_within_it(tmp_path, matrix):  # noqa: F811
    # The synthetic bench: context_rerun x1.03 (within 5%), streaming_trace x1.10 (over).
    _every_cell_of(tmp_path, matrix, "none", {"other_task": ("no-error", "no-leak")})
    _every_cell_of(tmp_path, matrix, "streaming_trace", {})
    _every_cell_of(tmp_path, matrix, "context_rerun", {"other_task": ("no-leak",)})
    _write_bench(tmp_path, matrix)
    report = _report(tmp_path, matrix)
    assert report["verdict"]["recommended"] == "streaming_trace"
    (cost,) = [f for f in report["verdict"]["findings"] if "cost budget" in f]
    assert cost == ("streaming_trace is over the cost budget per run on py3.11 asyncio "
                    "(x1.100 on py3.11 asyncio); the fixes that regress nowhere and are "
                    "within it: context_rerun. Measured per run and per event, it would be "
                    "within it from 18 events a run (IQR 18-18) on py3.11 asyncio (the timed "
                    "run has a "
                    "few events; a longer answer spreads the cost per run). "
                    "Patching in alone, with pass-through wrappers "
                    "at the points a streamed fix patches and no logic, costs x1.020 on "
                    "py3.11 asyncio.")
    assert cost in render(report, "report.md.j2")
    assert cost in render(report, "report.html.j2")
    # the first screen does not tell the maintainer to ship it as it is
    assert report["answers"][0]["headline"] == (
        f"Closest to ship: streaming_trace: it passes every property in all "
        f"{_cells_run(report, 'streaming_trace')} cells run and regresses nowhere. But it is "
        f"over the 5% cost budget per run: x1.100 on py3.11 asyncio.")


def _cells_run(report, fix):
    return next(v["cells_run"] for v in report["verdict"]["fixes"] if v["fix"] == fix)


def test_a_recommended_fix_within_budget_says_so(tmp_path, matrix):  # noqa: F811
    _every_cell_of(tmp_path, matrix, "none", {"other_task": ("no-error", "no-leak")})
    _every_cell_of(tmp_path, matrix, "context_rerun", {})
    _write_bench(tmp_path, matrix)
    report = _report(tmp_path, matrix)
    assert ("context_rerun is within the cost budget per run wherever it was measured "
            "(x1.030 on py3.11 asyncio).") in report["verdict"]["findings"]
    assert report["answers"][0]["headline"].startswith("Ship context_rerun: it passes every")
    assert report["answers"][0]["headline"].endswith(
        "It is within the 5% cost budget per run: x1.030 on py3.11 asyncio.")


def test_the_recommended_fix_is_compared_with_each_release(tmp_path, matrix):  # noqa: F811
    # The releases lose consumer spans; the candidate breaks fewer pairs, one of them where
    # the releases do not.
    lost = {"consumer_spans": ("consumer-spans-attached",),
            "child_task_spans": ("consumer-spans-attached",)}
    _every_cell_of(tmp_path, matrix, "context_rerun", {"other_task": ("no-leak",)})
    for cell in planned_cells(matrix, "3.11", ["agents-0.0.12", "agents-newest"]):
        if not matrix.loop_not_run(cell.loop, "3.11") and not matrix.excluded(
                cell.target, cell.scenario, cell.loop, "3.11"):
            _write(tmp_path, cell, lost.get(cell.scenario, ()))
    report = _report(tmp_path, matrix)
    assert report["verdict"]["recommended"] == "context_rerun"
    findings = report["verdict"]["findings"]
    assert "context_rerun is worse than agents-0.0.12 on other_task (no-leak)." in findings
    assert "context_rerun is worse than agents-newest on other_task (no-leak)." in findings


def test_a_recommended_fix_as_good_as_a_release_says_so(tmp_path, matrix):  # noqa: F811
    _every_cell_of(tmp_path, matrix, "context_rerun", {})
    for cell in planned_cells(matrix, "3.11", ["agents-0.0.12"]):
        if not matrix.loop_not_run(cell.loop, "3.11") and not matrix.excluded(
                cell.target, cell.scenario, cell.loop, "3.11"):
            _write(tmp_path, cell, ("no-leak",) if cell.scenario == "other_task" else ())
    findings = _report(tmp_path, matrix)["verdict"]["findings"]
    (compared,) = [f for f in findings if f.startswith("context_rerun is")]
    assert compared.startswith("context_rerun is at least as good as agents-0.0.12 on every "
                               "one of the ")


def _conflict(findings):
    (found,) = [f for f in findings if "late_background_span and" in f
                or f.startswith("Proven conflict")]
    return found


def test_a_proven_conflict_is_stated_with_its_argument_and_checked(tmp_path, matrix):  # noqa: F811
    # Each fix breaks one side of the pair: the claim holds, and the finding says who broke
    # which side, on how many pairs of cells.
    late: dict[str, tuple[str, ...]] = {"late_background_span": ("spans-closed",),
                                        "late_background_span_one_task": ("spans-closed",)}
    stuck: dict[str, tuple[str, ...]] = {"stuck_background_task": ("no-leak", "released"),
                                         "stuck_background_task_one_task": ("released",)}
    _every_cell_of(tmp_path, matrix, "none", {**stuck, **late})
    _every_cell_of(tmp_path, matrix, "owned_trace", late)
    _every_cell_of(tmp_path, matrix, "safe_reset", {**stuck, **late})
    report = _report(tmp_path, matrix)
    found = _conflict(report["verdict"]["findings"])
    # the verdict says why no fix passes everything, not only that none did
    assert ("no fix passes every property (none can: late_background_span and "
            "stuck_background_task conflict, as proven below); owned_trace regresses nowhere"
            in report["verdict"]["statement"])
    # and so does the first screen
    assert report["answers"][0]["headline"].startswith(
        "No fix can pass everything (late_background_span and stuck_background_task "
        "conflict). Least bad: owned_trace: it regresses nowhere;")
    assert found.startswith(
        "Proven conflict: late_background_span needs consumer-spans-attached, spans-closed; "
        "stuck_background_task needs released, and no fix can pass both. A fix has to decide "
        "whether the run's trace has ended by the end of the let-go window")
    assert "Why no decision is right for both: both run the same code until" in found
    loops = sum(not matrix.loop_not_run(loop, "3.11") for loop in matrix.loops)
    assert f"Checked on the {3 * 2 * 2 * loops} pairs of cells run" in found
    assert found.endswith("late_background_span broken by: none, owned_trace, safe_reset; "
                          "stuck_background_task broken by: none, safe_reset.")


def test_a_conflict_broken_on_no_property_it_names_is_refuted(tmp_path, matrix):  # noqa: F811
    # Failing other properties in the pair does not count: only what each side needs.
    _every_cell_of(tmp_path, matrix, "owned_trace",
                   {"late_background_span": ("no-leak",), "stuck_background_task": ("no-leak",),
                    "late_background_span_one_task": ("spans-closed",),
                    "stuck_background_task_one_task": ("spans-closed",)})
    report = _report(tmp_path, matrix)
    found = _conflict(report["verdict"]["findings"])
    assert found.startswith("The conflict claimed between late_background_span and "
                            "stuck_background_task")
    assert "none can" not in report["verdict"]["statement"]
    assert "can pass" not in report["answers"][0]["headline"]
    assert "both passed for owned_trace on agents-0.0.11 py3.11 asyncio; " in found
    assert "(one task)" not in found


def test_a_conflict_no_fix_ran_is_not_checked(tmp_path, matrix):  # noqa: F811
    cell = CellId("3.11", "minimal", "owned_trace", "late_background_span", "asyncio")
    _write(tmp_path, cell, ())
    found = _conflict(_report(tmp_path, matrix)["verdict"]["findings"])
    assert found == ("The conflict between late_background_span and stuck_background_task "
                     "was not checked: no fix ran both in the same place.")
