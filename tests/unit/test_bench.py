"""The benchmark's arithmetic on synthetic timings; the shape of its file (no timings asserted)."""

from __future__ import annotations

import json

import pytest
from ctxreset.repro.model_script import ModelScript

from ctxreset.bench import interposition, releases
from ctxreset.bench.costs import cost_entry
from ctxreset.bench.measure import FixTimings, Sample, main, run_sample, summarise
from ctxreset.bench.stats import (
    Spread,
    events_to_budget,
    events_to_budget_per_repeat,
    format_ns,
    format_ratio,
    per_event,
    ratios,
    spread,
    within_budget,
)
from ctxreset.catalogue import INTERPOSITION


def test_ratios_pair_each_repeat_with_the_baseline_of_the_same_repeat():
    # A slow second repeat (drift) slows both: the ratio does not move.
    assert ratios([110.0, 220.0, 105.0], [100.0, 200.0, 100.0]) == pytest.approx([1.1, 1.1, 1.05])


def test_ratios_refuse_mismatched_or_empty_baselines():
    with pytest.raises(ValueError, match="2 timings against 1"):
        ratios([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="not positive"):
        ratios([1.0], [0.0])


def test_spread_is_median_quartiles_and_extremes():
    assert spread([5.0, 1.0, 3.0, 2.0, 4.0]) == Spread(3.0, 2.0, 4.0, 1.0, 5.0)
    assert spread([1.0, 2.0]) == Spread(1.5, 1.25, 1.75, 1.0, 2.0)
    assert spread([7.0]) == Spread(7.0, 7.0, 7.0, 7.0, 7.0)
    with pytest.raises(ValueError):
        spread([])


def test_events_to_budget_splits_each_run_into_a_part_per_run_and_per_event():
    # baseline: 20 per run + 10 per event; the fix: 30 per run + 10 per event. At 8 events it is
    # x1.10; from n events, 30 + 10n <= 1.05 (20 + 10n), i.e. n >= 18.
    assert events_to_budget(110.0, 10.0, 100.0, 10.0, 8, 0.05) == 18
    assert events_to_budget(101.0, 10.1, 100.0, 10.0, 8, 0.05) == 0  # within at any length
    # within at 8 events (x1.03) but not per run alone (23 against 20): from 4 events
    assert events_to_budget(103.0, 10.0, 100.0, 10.0, 8, 0.05) == 4
    # dearer per event than the budget allows: no answer is long enough
    assert events_to_budget(110.0, 11.0, 100.0, 10.0, 8, 0.05) is None
    # cheaper per event, dearer per run: a long enough answer brings it within
    assert events_to_budget(140.0, 9.0, 100.0, 10.0, 8, 0.05) == 32


def test_events_to_budget_per_repeat_gives_the_median_and_quartiles_of_the_repeats():
    # five repeats: within from 0, 4, 18 events, and at no length twice (dearer per event)
    lengths = events_to_budget_per_repeat(
        [101.0, 103.0, 110.0, 110.0, 120.0], [10.1, 10.0, 10.0, 11.0, 11.0],
        [100.0] * 5, [10.0] * 5, 8, 0.05)
    assert lengths == {"median": 18, "q1": 4, "q3": None}
    with pytest.raises(ValueError):
        events_to_budget_per_repeat([], [], [], [], 8, 0.05)


def test_per_event_is_the_slope_between_short_and_long_runs():
    assert per_event(short_ns=300.0, long_ns=2300.0, short_events=8, long_events=208) == 10.0
    with pytest.raises(ValueError, match="long run has 8 events"):
        per_event(300.0, 300.0, 8, 8)


def test_budget_is_judged_on_the_median_ratio():
    assert within_budget(Spread(1.05, 1.0, 1.2, 0.9, 1.5), 0.05)
    assert not within_budget(Spread(1.06, 1.0, 1.06, 1.0, 1.1), 0.05)


def test_formatting():
    assert format_ratio(Spread(1.0312, 1.012, 1.0494, 0.9, 1.2)) == "x1.031 (IQR 1.012-1.049)"
    assert format_ns(262_400) == "262 us"
    assert format_ns(11_840) == "11.8 us"
    assert format_ns(6_040_000) == "6.04 ms"


def _timings(run_ns: list[float], event_ns: float) -> FixTimings:
    """Short runs of 8 events at ``run_ns``; long runs of 208 events, ``event_ns`` apart."""
    short = [Sample(ns, 8) for ns in run_ns]
    long = [Sample(ns + 200 * event_ns, 208) for ns in run_ns]
    return FixTimings(short, long)


def test_summary_has_ratios_to_none_and_names_what_cannot_be_compared(matrix):
    timings = {fix: _timings([100.0, 200.0, 100.0], 10.0) for fix in matrix.fixes_for("minimal")}
    timings["context_rerun"] = _timings([103.0, 206.0, 110.0], 11.0)
    entries = {e["fix"]: e for e in summarise(matrix, "minimal", timings, 0.05)}
    assert list(entries) == list(matrix.fixes)  # every fix in matrix.yaml, in its order
    assert entries["none"]["status"] == "baseline"
    fix = entries["context_rerun"]
    assert fix["status"] == "measured"
    assert fix["per_run"]["ratio"]["median"] == pytest.approx(1.03)
    assert fix["per_run"]["ratio"]["high"] == pytest.approx(1.10)
    assert fix["per_run"]["per_repeat_ns"] == [103.0, 206.0, 110.0]
    assert fix["per_event"]["ratio"]["median"] == pytest.approx(1.10)
    assert fix["within_budget"] is True
    assert entries["upstream"]["status"] == "n/a"
    assert "agents-0.0.12" in entries["upstream"]["reason"]


def test_a_too_noisy_slope_has_no_ratio_rather_than_a_wrong_one(matrix):
    timings = {fix: _timings([100.0], 10.0) for fix in matrix.fixes_for("minimal")}
    timings["none"] = FixTimings([Sample(100.0, 8)], [Sample(90.0, 208)])  # negative slope
    entries = {e["fix"]: e for e in summarise(matrix, "minimal", timings, 0.05)}
    assert entries["safe_reset"]["per_event"]["ratio"] is None
    assert entries["safe_reset"]["per_run"]["ratio"]["median"] == 1.0


def test_smoke_writes_a_file_of_the_documented_shape(tmp_path, capsys):
    out = tmp_path / "bench" / "minimal-asyncio.json"
    arguments = ["--target", "minimal", "--loop", "asyncio", "--repeats", "2", "--runs", "3",
                 "--long-deltas", "400", "--long-runs", "1", "--out", str(out)]
    assert main(arguments) == 0
    payload = json.loads(out.read_text())
    bench = payload["bench"]
    assert (bench["target"], bench["loop"], bench["scenario"]) == ("minimal", "asyncio",
                                                                   "same_task")
    assert bench["short_events"] == 5 and bench["long_events"] == 400
    statuses = {e["fix"]: e["status"] for e in bench["fixes"]}
    assert statuses["none"] == "baseline" and statuses["upstream"] == "n/a"
    assert statuses["streaming_trace"] == "measured"
    assert statuses[INTERPOSITION] == "reference"
    measured = next(e for e in bench["fixes"] if e["fix"] == "streaming_trace")
    assert len(measured["per_run"]["per_repeat_ns"]) == 2
    assert set(measured["per_run"]["ratio"]) == {"median", "q1", "q3", "low", "high"}
    assert payload["matrix_hash"] and payload["python"]
    assert "streaming_trace" in capsys.readouterr().out


def test_a_target_not_installed_here_is_refused(tmp_path, capsys, matrix):
    assert main(["--target", "agents-9", "--out", str(tmp_path / "x.json")]) == 2
    assert "--target: bad value 'agents-9'" in capsys.readouterr().err


def test_only_writes_one_fix_raw_samples(tmp_path):
    """One process of a release pair: the fix alone, its per-repeat timings."""
    out = tmp_path / "samples.json"
    arguments = ["--target", "minimal", "--loop", "asyncio", "--repeats", "2", "--runs", "3",
                 "--long-deltas", "400", "--long-runs", "1", "--only", "none", "--out", str(out)]
    assert main(arguments) == 0
    samples = json.loads(out.read_text())
    assert (samples["fix"], samples["target"], samples["loop"]) == ("none", "minimal", "asyncio")
    assert len(samples["run_ns"]) == 2 and len(samples["event_ns"]) == 2
    assert main([*arguments[:-4], "--only", "upstream", "--out", str(out)]) == 2


def test_released_fixes_are_compared_on_each_release_they_are(matrix):
    assert releases.release_fixes(matrix, "agents-0.0.11", "3.11") == [
        ("upstream", "agents-0.0.12"), ("upstream", "agents-newest")]
    # agents-newest does not install on 3.9 (matrix.yaml)
    assert releases.release_fixes(matrix, "agents-0.0.11", "3.9") == [
        ("upstream", "agents-0.0.12")]


def test_processes_alternate_pair_by_pair_and_each_pair_gives_one_ratio():
    calls: list[str] = []
    slow = iter([1.0, 1.0, 2.0, 2.0, 1.0, 1.0])  # the second pair ran on a loaded machine

    def run(side: str) -> dict:
        calls.append(side)
        scale = next(slow)
        cost = 1.1 if side == "release" else 1.0
        return {"run_ns": [100 * cost * scale, 90 * cost * scale, 110 * cost * scale],
                "event_ns": [10 * scale, 10 * scale, 10 * scale]}

    baseline, release = releases.alternate(3, run)
    assert calls == ["baseline", "release", "release", "baseline", "baseline", "release"]
    entry = releases.entry("upstream", "agents-0.0.12", baseline, release, 0.05)
    assert entry["status"] == "measured" and entry["target"] == "agents-0.0.12"
    # each process's median run (100, 200, 100 baseline), ratio 1.1 in every pair
    assert entry["per_run"]["ns"]["median"] == pytest.approx(110.0)
    assert entry["per_run"]["ratio"]["median"] == pytest.approx(1.1)
    assert entry["per_run"]["ratio"]["low"] == pytest.approx(1.1)
    assert entry["per_event"]["ratio"]["median"] == pytest.approx(1.0)
    assert entry["within_budget"] is False
    assert entry["method"] == ("3 pairs of alternating processes (one venv per release), "
                               "3 repeats each")


def test_release_entries_take_the_place_of_the_not_applicable_one():
    payload = {"bench": {"fixes": [{"fix": "none"}, {"fix": "upstream", "status": "n/a"},
                                   {"fix": "safe_reset"}]}}
    releases.merge_entries(payload, [{"fix": "upstream", "target": "a"},
                                     {"fix": "upstream", "target": "b"}])
    assert payload["bench"]["fixes"] == [{"fix": "none"}, {"fix": "upstream", "target": "a"},
                                         {"fix": "upstream", "target": "b"},
                                         {"fix": "safe_reset"}]


def test_the_report_line_of_a_release_says_how_it_was_timed():
    bench = {"python": "3.11", "loop": "asyncio", "target": "agents-0.0.11", "repeats": 40,
             "baseline": "none", "budget": 0.05}
    figure = {"ns": {"median": 1e5}, "ratio": {"median": 0.97, "q1": 0.95, "q3": 0.99,
                                                "low": 0.9, "high": 1.02}}
    shown = cost_entry(bench, {"fix": "upstream", "status": "measured",
                               "target": "agents-0.0.12", "method": "6 pairs of processes",
                               "per_run": figure, "per_event": figure, "within_budget": True})
    assert shown["target"] == "agents-0.0.12"
    assert shown["text"] == ("cost per run x0.970 (IQR 0.950-0.990), per event x0.970 (IQR "
                             "0.950-0.990); within the 5% budget per run [py3.11 asyncio, "
                             "agents-0.0.12 vs agents-0.0.11 none, 6 pairs of processes]")


def test_the_interposition_toll_is_listed_after_the_fixes_as_a_reference(matrix):
    timings = {fix: _timings([100.0, 200.0, 100.0], 10.0) for fix in matrix.fixes_for("minimal")}
    timings[INTERPOSITION] = _timings([102.0, 204.0, 102.0], 10.0)
    entries = summarise(matrix, "minimal", timings, 0.05)
    assert [e["fix"] for e in entries] == [*matrix.fixes, INTERPOSITION]
    toll = entries[-1]
    assert (toll["status"], toll["within_budget"]) == ("reference", None)
    assert toll["per_run"]["ratio"]["median"] == pytest.approx(1.02)


def test_interposition_forwards_everything_and_undoes_to_the_same_objects(matrix):
    """The reference changes nothing a run does (the sample's own checks: every delta, the
    output, one trace started and ended per run) and leaves the classes as they were."""
    from ctxreset.libraries import library_for

    library = library_for(matrix, "minimal")
    points = library.points
    owners = (points.scope, points.runner, points.streaming_result)
    before = [dict(vars(owner)) for owner in owners]
    undo = interposition.interpose(points)
    try:
        assert vars(points.streaming_result)["stream_events"] is not before[2]["stream_events"]
        sample = run_sample(library, "asyncio", ModelScript(), 3)
        assert sample.events_per_run > 0
    finally:
        undo()
    assert [dict(vars(owner)) for owner in owners] == before


def test_no_fix_takes_the_reference_name():
    from ctxreset.catalogue import FIXES, HELD_FIXES

    assert INTERPOSITION not in FIXES + HELD_FIXES
