"""Draft ``expectations:`` rules for matrix.yaml from what a run observed, with its evidence.

    python -m ctxreset.report.expectations [--results results] [--scenario NAME ...]
                                           [--fix NAME ...]

For a new scenario or fix: run its cells (they fail until matrix.yaml says what to expect),
then print the rules this writes, read the evidence printed beside each one, and paste the
rules you agree with into matrix.yaml. It records what was observed, nothing else: a failing
property is expected only where it failed, narrowed to the targets, loops and Pythons where it
did. Cells that timed out or errored get no rule (they are findings, not expectations).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

from ctxreset.matrix.loader import load_matrix_for_command
from ctxreset.records import Problem, cell_files, read_cell
from ctxreset.report.merge import CellRecord

REPRODUCES = "ValueError: .*was created in a different Context"
Place = tuple[str, str, str]  # (target, python, loop)


def _flow(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' if v[0].isdigit() else v for v in values) + "]"


def _version_key(python: str) -> tuple[int, ...]:
    return tuple(int(part) for part in python.split("."))


def _covers(targets: list[str], pythons: list[str], loops: list[str]) -> set[Place]:
    return {(t, p, lp) for t in targets for p in pythons for lp in loops}


def _narrow(chosen: set[Place], ran: set[Place]) -> list[dict[str, list[str]]]:
    """Groups of (targets, pythons, loops) that cover exactly ``chosen`` among ``ran``."""
    groups: list[dict[str, list[str]]] = []
    by_target: dict[str, set[Place]] = defaultdict(set)
    for place in chosen:
        by_target[place[0]].add(place)
    for target in sorted(by_target):
        mine = by_target[target]
        pythons = sorted({p for _, p, _ in mine}, key=_version_key)
        loops = sorted({lp for _, _, lp in mine})
        covered = _covers([target], pythons, loops) & ran
        if covered == mine:
            groups.append({"targets": [target], "pythons": pythons, "loops": loops})
            continue
        for python in pythons:  # finer: one Python at a time
            loops = sorted({lp for _, p, lp in mine if p == python})
            groups.append({"targets": [target], "pythons": [python], "loops": loops})
    merged: list[dict[str, list[str]]] = []
    for group in groups:  # the same narrowing on several targets: one rule
        twin = next((g for g in merged if g["pythons"] == group["pythons"]
                     and g["loops"] == group["loops"]), None)
        if twin is None:
            merged.append(group)
        else:
            twin["targets"] = sorted(twin["targets"] + group["targets"])
    return merged


def draft_rules(records: list[CellRecord]) -> list[tuple[dict[str, Any], str]]:
    """(rule, one evidence line per failing property) for one fix and scenario."""
    checked = [r for r in records if r.status == "checked"]
    ran = {(r.cell.target, r.cell.python, r.cell.loop) for r in checked}
    by_set: dict[tuple[str, ...], set[Place]] = defaultdict(set)
    example: dict[tuple[str, ...], CellRecord] = {}
    for record in checked:
        failing = tuple(sorted(record.failing))
        by_set[failing].add((record.cell.target, record.cell.python, record.cell.loop))
        example.setdefault(failing, record)
    rules = []
    for failing, places in sorted(by_set.items(), key=lambda item: -len(item[1])):
        if not failing:
            continue
        record = example[failing]
        cells = [r for r in checked if tuple(sorted(r.failing)) == failing]
        teeth = all(any("different Context" in line for line in r.evidence.get("no-error", []))
                    for r in cells)
        for group in _narrow(places, ran):
            rule: dict[str, Any] = {"targets": group["targets"], "fix": record.cell.fix,
                                    "scenario": record.cell.scenario}
            theirs = [place for place in ran if place[0] in group["targets"]]
            loops_ran = {lp for _, p, lp in theirs if p in group["pythons"]}
            if group["loops"] != sorted(loops_ran):
                rule["loops"] = group["loops"]
            pythons_ran = {p for _, p, lp in theirs if lp in group["loops"]}
            if group["pythons"] != sorted(pythons_ran, key=_version_key):
                rule["pythons"] = group["pythons"]
            rule["fails"] = [p for p in record.failing]
            if teeth:
                rule["reproduces"] = REPRODUCES
            evidence = "; ".join(f"{name}: {lines[0][:160]}" for name, lines in
                                 record.evidence.items() if lines)
            rules.append((rule, evidence))
    return rules


def render_rule(rule: dict[str, Any]) -> str:
    parts = [f"targets: {_flow(rule['targets'])}", f"fix: {rule['fix']}",
             f"scenario: {rule['scenario']}"]
    for key in ("loops", "pythons"):
        if key in rule:
            parts.append(f"{key}: {_flow(rule[key])}")
    parts.append(f"fails: [{', '.join(rule['fails'])}]")
    if "reproduces" in rule:
        parts.append(f'reproduces: "{rule["reproduces"]}"')
    return "  - {" + ", ".join(parts) + "}"


def observed(root: Path) -> list[CellRecord]:
    """Every readable cell result under ``root``, whatever matrix.yaml it was judged under:
    the expectations are what is being written, so the old ones do not matter."""
    found = []
    for path in cell_files(root):
        try:
            found.append(CellRecord.from_file(read_cell(path)))
        except Problem:
            continue
    return found


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ctxreset.report.expectations",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--scenario", action="append", default=None)
    parser.add_argument("--fix", action="append", default=None)
    args = parser.parse_args(argv)
    matrix = load_matrix_for_command()
    if matrix is None:
        return 2
    grouped: dict[tuple[str, str], list[CellRecord]] = defaultdict(list)
    for record in observed(args.results):
        grouped[(record.cell.fix, record.cell.scenario)].append(record)
    for fix in matrix.fixes:
        if args.fix and fix not in args.fix:
            continue
        print(f"  # --- {fix} ---")
        for scenario in matrix.scenarios:
            if args.scenario and scenario not in args.scenario:
                continue
            records = grouped.get((fix, scenario), [])
            for bad in (r for r in records if r.status in ("error", "timeout")):
                print(f"  # {bad.cell}: {bad.status}: {bad.reason} (no rule)")
            for rule, evidence in draft_rules(records):
                print(f"  # evidence: {evidence}")
                print(render_rule(rule))
    return 0



if __name__ == "__main__":
    sys.exit(main())
