"""What each fix costs, for the report: the benchmark files (``results/bench/*.json``) by fix.

``nox -s bench`` (``ctxreset.bench.measure``) writes one file per Python, target and loop. A file
written under another matrix.yaml is stale and one that cannot be read is unreadable: both
are listed, as the report lists cell files, and neither is shown. The text depends only on
the files.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ctxreset.bench.stats import Spread, events_to_budget_per_repeat, format_ns, format_ratio
from ctxreset.catalogue import INTERPOSITION_WRAPPERS
from ctxreset.records import read_json


@dataclass
class Costs:
    by_fix: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """fix -> one entry per benchmark file that names it, in file-name order."""
    stale: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _ratio(figure: Optional[dict[str, Any]]) -> Optional[dict[str, float]]:
    return None if figure is None else figure["ratio"]


def _ratio_text(ratio: Optional[dict[str, float]]) -> str:
    return "n/a (too noisy)" if ratio is None else format_ratio(Spread.from_dict(ratio))


def cost_entry(bench: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """One fix in one benchmark file, with the line the report prints beside its verdict."""
    target = entry.get("target", bench["target"])  # a release: timed in its own processes
    where = f"py{bench['python']} {bench['loop']}, {target}"
    status = entry["status"]
    shown: dict[str, Any] = {
        "python": bench["python"], "loop": bench["loop"], "target": target,
        "repeats": bench["repeats"], "status": status, "per_run": None, "per_event": None,
        "per_run_ns": None, "per_event_ns": None, "within_budget": None,
        "events_to_budget": None,
    }
    if status == "n/a":
        shown["text"] = f"cost n/a [{where}]: {entry['reason']}"
        return shown
    run, event = entry["per_run"], entry["per_event"]
    shown.update(per_run=_ratio(run), per_event=_ratio(event),
                 per_run_ns=run["ns"]["median"], per_event_ns=event["ns"]["median"],
                 within_budget=entry["within_budget"])
    where += (f" vs {bench['target']} {bench['baseline']}, {entry['method']}" if "target" in entry
              else f", {bench['repeats']} repeats")
    if status == "baseline":
        shown["text"] = (f"cost: the baseline, {format_ns(run['ns']['median'])} per run, "
                         f"{format_ns(event['ns']['median'])} per event [{where}]")
        return shown
    if status == "reference":
        shown["text"] = (f"cost of patching in alone ({INTERPOSITION_WRAPPERS}, no fix "
                         f"logic): per run "
                         f"{_ratio_text(run['ratio'])}, per event {_ratio_text(event['ratio'])} "
                         f"[{where}]")
        return shown
    if "target" not in entry:  # timed in this file's process, beside its baseline
        base = next(e for e in bench["fixes"] if e["fix"] == bench["baseline"])
        shown["events_to_budget"] = events_to_budget_per_repeat(
            run["per_repeat_ns"], event["per_repeat_ns"], base["per_run"]["per_repeat_ns"],
            base["per_event"]["per_repeat_ns"], bench["short_events"], bench["budget"])
    budget = "within" if entry["within_budget"] else "over"
    shown["text"] = (f"cost per run {_ratio_text(run['ratio'])}, per event "
                     f"{_ratio_text(event['ratio'])}; {budget} the {bench['budget']:.0%} "
                     f"budget per run [{where}]")
    return shown


def read_costs(root: Path, matrix_hash: str) -> Costs:
    """Every benchmark file in ``root`` (``results/bench``) written under ``matrix_hash``."""
    costs = Costs()
    by_fix: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(root.glob("*.json")):
        if path.name.startswith("."):
            continue  # a temporary file a crash left behind
        try:
            data = read_json(path)
            bench = data["bench"]
            if data.get("matrix_hash") != matrix_hash:
                costs.stale.append(str(path))
                continue
            entries = [cost_entry(bench, entry) for entry in bench["fixes"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            costs.unreadable.append(str(path))
            continue
        for entry, fix in zip(entries, (e["fix"] for e in bench["fixes"])):
            by_fix[fix].append(entry)
    costs.by_fix = dict(by_fix)
    return costs
