"""Pictures for report.html, as geometry the template draws as inline SVG (no script, no
network): the sweep across releases as a timeline, and each fix's cost against the budget.

Each function returns plain data (sizes, rectangles, marks, labels: numbers and strings), so
the picture is part of report.json's determinism and the template only places elements.
"""

from __future__ import annotations

import math
from typing import Any, Optional

SCENARIO_LABEL_W = 210
TIMELINE_W = 1100  # the releases' share of the width
ROW_H = 12
AXIS_H = 70  # room for the release labels, rotated
LABEL_EVERY_PX = 16  # at most one release label per this many pixels


def _sweep_class(text: str, status: str) -> str:
    if status != "ran" or text in ("not run", "error"):
        return "not-run"
    return "pass" if text == "pass" else "fail"


def timeline(sweep: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """Releases along x, scenarios along y, one band per run of releases with the same result;
    a mark where a scenario broke or healed. None when nothing was swept."""
    if not sweep or not sweep.get("runs"):
        return None
    scenarios: list[str] = list(sweep["scenarios"])
    releases: list[str] = [v for run in sweep["runs"] for v in run["versions"]]
    state: dict[tuple[str, str], tuple[str, str]] = {}  # (version, scenario) -> (class, text)
    for run in sweep["runs"]:
        for version in run["versions"]:
            for scenario, text in zip(scenarios, run["cells"]):
                state[(version, scenario)] = (_sweep_class(text, run["status"]), text)
    step = max(4.0, min(40.0, TIMELINE_W / max(1, len(releases))))
    x_of = {version: SCENARIO_LABEL_W + i * step for i, version in enumerate(releases)}
    bands, marks, rows = [], [], []
    for j, scenario in enumerate(scenarios):
        y = AXIS_H + j * ROW_H
        rows.append({"y": y + ROW_H - 3, "label": scenario})
        start = 0
        for i in range(1, len(releases) + 1):
            here = state[(releases[start], scenario)]
            if i < len(releases) and state[(releases[i], scenario)] == here:
                continue
            first, last = releases[start], releases[i - 1]
            span = first if first == last else f"{first} to {last}"
            bands.append({"x": round(x_of[first], 1), "y": y + 1,
                          "w": round((i - start) * step, 1), "h": ROW_H - 2,
                          "cls": here[0], "title": f"{scenario}, {span}: {here[1]}"})
            start = i
    by_scenario = {h["scenario"]: h for h in sweep.get("histories", [])}
    for j, scenario in enumerate(scenarios):
        history = by_scenario.get(scenario)
        if history is None:
            continue
        for transition in history["transitions"]:
            if transition["kind"] not in ("broke", "healed"):
                continue
            failing = ", ".join(transition["failing"])
            marks.append({"x": round(x_of[transition["version"]], 1),
                          "version": transition["version"],
                          "y": AXIS_H + j * ROW_H + ROW_H / 2, "kind": transition["kind"],
                          "title": f"{scenario} {transition['kind']} in {transition['version']}"
                                   + (f" ({failing})" if failing else "")})
    every = max(1, math.ceil(LABEL_EVERY_PX / step))
    wanted = {releases[i] for i in range(0, len(releases), every)} | {releases[-1]}
    wanted |= {m["version"] for m in marks}
    labels = [{"x": round(x_of[v] + step / 2, 1), "text": v} for v in releases if v in wanted]
    return {
        "width": round(SCENARIO_LABEL_W + len(releases) * step + 10),
        "height": AXIS_H + len(scenarios) * ROW_H + 6,
        "axis_y": AXIS_H - 4,
        "bands": bands, "marks": marks, "rows": rows, "labels": labels,
        "releases": len(releases), "scenarios": len(scenarios),
    }


BAR_LABEL_W = 260
BAR_W = 560
BAR_ROW_H = 22
BAR_TOP = 24


def _percent(ratio: float) -> float:
    return (ratio - 1.0) * 100.0


def cost_bars(
    costs: dict[str, list[dict[str, Any]]], fixes: list[str], budget: float
) -> dict[str, Any]:
    """One bar per fix and benchmark file: the median overhead per streamed run over the
    unpatched library, its interquartile range as a whisker, against the budget line. A fix
    with no figure is listed "not measured" (or n/a with the reason). A reference that is not
    a fix (the interposition toll) gets a grey bar and is not judged against the budget."""
    rows: list[dict[str, Any]] = []
    for fix in fixes:
        entries = costs.get(fix, [])
        if any(e["status"] == "baseline" for e in entries):
            continue
        if not entries:
            rows.append({"label": fix, "kind": "missing", "text": "not measured"})
        for entry in entries:
            where = f"{fix} · py{entry['python']} {entry['loop']}"
            ratio = entry.get("per_run")
            if ratio is None:
                reason = entry["text"].split(": ", 1)[-1] if entry["status"] == "n/a" else (
                    "too noisy to give a figure")
                rows.append({"label": where, "kind": "missing", "text": f"n/a: {reason}"})
                continue
            rows.append({
                "label": where, "kind": "bar", "median": _percent(ratio["median"]),
                "q1": _percent(ratio["q1"]), "q3": _percent(ratio["q3"]),
                "within": bool(entry.get("within_budget")),
                "reference": entry["status"] == "reference",
            })
    limit = budget * 100.0
    values: list[float] = [v for r in rows if r["kind"] == "bar"
                           for v in (r["q1"], r["q3"], r["median"])]
    low = min([0.0, *values])
    high = max([limit * 2, *values])
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return round(BAR_LABEL_W + (value - low) / span * BAR_W, 1)

    for index, row in enumerate(rows):
        row["y"] = BAR_TOP + index * BAR_ROW_H
        if row["kind"] != "bar":
            row["text_x"] = x(low)
            continue
        start, end = sorted((x(0.0), x(row["median"])))
        row.update(x=start, w=max(1.0, round(end - start, 1)), q1_x=x(row["q1"]),
                   q3_x=x(row["q3"]), median_x=x(row["median"]), text_x=x(high) + 8,
                   text=(f"{row['median']:+.1f}% (IQR {row['q1']:+.1f} to {row['q3']:+.1f}); "
                         + ("toll of patching in" if row["reference"] else
                            f"{'within' if row['within'] else 'over'} budget")))
    return {
        "width": BAR_LABEL_W + BAR_W + 300,
        "height": BAR_TOP + len(rows) * BAR_ROW_H + 24,
        "zero_x": x(0.0), "budget_x": x(limit), "budget": f"{limit:g}%",
        "axis_y": BAR_TOP + len(rows) * BAR_ROW_H + 4,
        "ticks": [{"x": x(v), "text": f"{v:+g}%"} for v in _ticks(low, high)],
        "rows": rows, "measured": any(r["kind"] == "bar" for r in rows),
    }


def _ticks(low: float, high: float) -> list[float]:
    step = 1.0
    for candidate in (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0):
        step = candidate
        if (high - low) / candidate <= 8:
            break
    first = math.ceil(low / step) * step
    ticks, value = [], first
    while value <= high + 1e-9:
        ticks.append(round(value, 6))
        value += step
    return ticks
