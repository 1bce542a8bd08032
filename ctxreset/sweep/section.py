"""The report's "Sweep across releases" block, from ``results/sweep`` (None: never swept).

Per scenario: the first release that broke it, the first that healed it, every transition,
and what the newest swept release still fails; then the releases themselves (consecutive
releases whose results read the same as one row), the ones that could not be measured and
why, the release list's provenance and the timings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from packaging.version import Version

from ctxreset.catalogue import SHORT_NAMES
from ctxreset.sweep.analysis import ReleaseOutcome, ScenarioHistory, ordered, runs, summarize
from ctxreset.sweep.results import SweepResults, load_sweep, sweep_root

HOW_TO_RUN = "nox -s sweep"


def _scenario_order(found: list[ReleaseOutcome], order: list[str]) -> list[str]:
    present = {scenario for release in found for scenario in release.cells}
    return [s for s in order if s in present] + sorted(present - set(order))


def _history(item: ScenarioHistory) -> dict[str, Any]:
    return {
        "scenario": item.scenario,
        "first_judged": item.first_judged,
        "first_broken": item.first_broken,
        "broken_from_the_start": item.broken_from_the_start,
        "first_healed": item.first_healed,
        "broke_again": item.broke_again,
        "transitions": [
            {"version": t.version, "after": t.after, "kind": t.kind, "failing": list(t.problems)}
            for t in item.transitions
        ],
        "newest": item.newest,
        "newest_fails": None if item.newest_fails is None else list(item.newest_fails),
    }


def _statement(newest: Optional[ReleaseOutcome], histories: list[dict[str, Any]]) -> str:
    if newest is None:
        return "No release was swept."
    if newest.status != "ran":
        return (f"The newest release swept, {newest.version}, could not be measured "
                f"({newest.status}: {newest.reason}).")
    failing = [f"{h['scenario']} ({', '.join(h['newest_fails'])})" for h in histories
               if h["newest_fails"]]
    if failing:
        return (f"The newest release swept, {newest.version}, still fails: "
                + "; ".join(failing) + ".")
    return f"The newest release swept, {newest.version}, passes every property in every scenario."


def _not_swept(meta: dict[str, Any], found: list[ReleaseOutcome]) -> list[dict[str, Any]]:
    """Releases PyPI listed between the oldest and newest swept ones that have no record, as
    runs of consecutive releases: first, last, count."""
    if not found:
        return []
    low, high = Version(found[0].version), Version(found[-1].version)
    swept = {r.version for r in found}
    gaps: list[dict[str, Any]] = []
    listed = sorted((Version(r["version"]), r["version"]) for r in meta.get("releases", []))
    previous_missing = False
    for key, version in listed:
        if not low <= key <= high:
            continue
        missing = version not in swept
        if missing and previous_missing:
            gaps[-1].update(last=version, count=gaps[-1]["count"] + 1)
        elif missing:
            gaps.append({"first": version, "last": version, "count": 1})
        previous_missing = missing
    return gaps


def _span(values: list[Optional[str]]) -> str:
    """``1.66.2 to 1.74.0`` (oldest to newest), one value, or ``-``."""
    known = sorted({v for v in values if v}, key=Version)
    if not known:
        return "-"
    return known[0] if len(known) == 1 else f"{known[0]} to {known[-1]}"


def sweep_block(results: SweepResults, scenario_order: list[str]) -> dict[str, Any]:
    found = ordered(results.releases)
    scenarios = _scenario_order(found, scenario_order)
    histories = [_history(h) for h in summarize(found, scenarios)]
    newest = found[-1] if found else None
    meta = results.meta
    releases = []
    for release in found:
        record = results.records[release.version]
        releases.append({
            "version": release.version,
            "uploaded": record.get("uploaded"),
            "status": release.status,
            "reason": release.reason,
            "openai": (record.get("packages") or {}).get("openai"),
            "exclude_newer": record.get("exclude_newer"),
            "install_s": record.get("install_s", 0.0),
            "run_s": record.get("run_s", 0.0),
        })
    openai = {r["version"]: r["openai"] for r in releases}
    return {
        "statement": _statement(newest, histories),
        "package": meta.get("package"),
        "python": meta.get("python"),
        "loop": meta.get("loop"),
        "source": meta.get("source"),
        "fetched_at": meta.get("fetched_at"),
        "resolution": meta.get("resolution"),
        "started_at": meta.get("started_at"),
        "finished_at": meta.get("finished_at"),
        "duration_s": meta.get("duration_s"),
        "first": found[0].version if found else None,
        "newest": newest.version if newest else None,
        "swept": len(found),
        "not_swept": _not_swept(meta, found),
        "scenarios": scenarios,
        "histories": histories,
        "runs": [
            {**run, "count": len(run["versions"]),
             "openai": _span([openai[v] for v in run["versions"]])}
            for run in runs(found, scenarios, SHORT_NAMES)
        ],
        "releases": releases,
        "not_measured": [r for r in releases if r["status"] != "ran"],
        "install_s": round(sum(r["install_s"] or 0.0 for r in releases), 1),
        "run_s": round(sum(r["run_s"] or 0.0 for r in releases), 1),
        "unreadable": results.unreadable,
    }


def build_sweep(results_dir: Path, scenario_order: list[str]) -> Optional[dict[str, Any]]:
    """The block for ``report.json``'s ``sweep``; None when ``results_dir`` has no sweep."""
    results = load_sweep(sweep_root(results_dir))
    return None if results is None else sweep_block(results, scenario_order)
