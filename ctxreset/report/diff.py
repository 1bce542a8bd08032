"""What changed between two reports: cells that flipped, new failures first.

    nox -s report -- --diff OLD.json      # e.g. the last release's reports/report.json

Cells are matched by (python, target, fix, scenario, loop). A cell "flips" when its outcome or
its failing properties change. Order: new failures (was pass, now fail/error/timeout), changed
failures, fixed (now pass), then cells that stopped or started running, then added/removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

BAD = ("fail", "error", "timeout")
KEY_FIELDS = ("python", "target", "fix", "scenario", "loop")
SECTIONS = (
    ("new failures", "now failing where it passed before"),
    ("changed failures", "still failing, but differently"),
    ("fixed", "now passing where it failed before"),
    ("stopped running", "ran before, not run now"),
    ("started running", "not run before, ran now"),
    ("added", "cells only in the new report"),
    ("removed", "cells only in the old report"),
)


@dataclass(frozen=True)
class Change:
    section: str
    cell: str
    before: str
    after: str


def _key(cell: dict[str, Any]) -> tuple[str, ...]:
    return tuple(cell[name] for name in KEY_FIELDS)


def _label(key: tuple[str, ...]) -> str:
    python, target, fix, scenario, loop = key
    return f"py{python}/{target}/{fix}/{scenario}[{loop}]"


def _state(cell: dict[str, Any]) -> str:
    if cell["outcome"] == "fail":
        return "fail: " + ", ".join(cell["failing"])
    return str(cell["outcome"])


def _section(before: dict[str, Any], after: dict[str, Any]) -> str:
    was, now = before["outcome"], after["outcome"]
    if now in BAD and was == "pass":
        return "new failures"
    if now in BAD and was in BAD:
        return "changed failures"
    if now == "pass" and was in BAD:
        return "fixed"
    if now == "not run":
        return "stopped running"
    return "started running"


def report_problem(report: Any) -> Optional[str]:
    """Why ``report`` is not a report.json this diff can read, or None."""
    if not isinstance(report, dict) or report.get("schema_version") != 1:
        return "not a report.json of schema_version 1"
    cells = report.get("cells")
    if not isinstance(cells, list):
        return "no 'cells' list"
    for index, cell in enumerate(cells):
        if not (isinstance(cell, dict) and all(isinstance(cell.get(k), str) for k in
                                               (*KEY_FIELDS, "outcome"))
                and isinstance(cell.get("failing", []), list)):
            return f"cells[{index}]: not a cell ({', '.join(KEY_FIELDS)}, outcome, failing)"
    return None


def diff_reports(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    for name, report in (("old", old), ("new", new)):
        problem = report_problem(report)
        if problem:
            raise ValueError(f"{name} report: {problem}")
    before = {_key(c): c for c in old["cells"]}
    after = {_key(c): c for c in new["cells"]}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            changes.append(Change("added", _label(key), "", _state(after[key])))
        elif key not in after:
            changes.append(Change("removed", _label(key), _state(before[key]), ""))
        elif _state(before[key]) != _state(after[key]):
            section = _section(before[key], after[key])
            changes.append(Change(section, _label(key), _state(before[key]),
                                  _state(after[key])))
    order = [name for name, _ in SECTIONS]
    return sorted(changes, key=lambda c: (order.index(c.section), c.cell))


def render_diff(changes: list[Change]) -> str:
    if not changes:
        return "# Changes since the old report\n\nNo cell changed.\n"
    lines = ["# Changes since the old report", ""]
    for name, meaning in SECTIONS:
        picked = [c for c in changes if c.section == name]
        if not picked:
            continue
        lines += [f"## {name.capitalize()} ({len(picked)}): {meaning}", ""]
        lines += [f"- `{c.cell}`: {c.before or '—'} → {c.after or '—'}" for c in picked]
        lines.append("")
    return "\n".join(lines)
