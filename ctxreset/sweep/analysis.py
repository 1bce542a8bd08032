"""What the sweep across releases found: when each scenario broke, when it healed, and now.

Pure functions of the sweep's records (``ctxreset.sweep.results`` reads them from disk), oldest
release first:

- a cell is *broken* when it fails any property, or timed out; *passing* when it passes
  every one; otherwise (not run, or the harness itself raised) it is not judged and is skipped,
  so a release that did not install never counts as a pass or as a break;
- per scenario, every transition between judged releases: ``broke``, ``healed`` (passing
  again after a break) and ``changed`` (still broken, other properties); ``first_broken`` and
  ``first_healed`` are the first of each; ``newest_fails`` is what the newest swept release
  fails (``None`` when that release was not judged).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Optional

from packaging.version import Version

BROKEN_OUTCOMES = ("fail", "timeout")


@dataclass(frozen=True)
class CellOutcome:
    outcome: str  # pass, fail, timeout, error, not run
    failing: tuple[str, ...] = ()
    reason: str = ""

    @property
    def broken(self) -> Optional[bool]:
        """True, False, or None when the cell was not judged."""
        if self.outcome == "pass":
            return False
        return True if self.outcome in BROKEN_OUTCOMES else None

    @property
    def problems(self) -> tuple[str, ...]:
        """The failing properties, or ``("timeout",)``."""
        return ("timeout",) if self.outcome == "timeout" else self.failing


@dataclass(frozen=True)
class ReleaseOutcome:
    version: str
    status: str  # ran, not installable, not importable, not supported, runner failed
    reason: str = ""
    cells: dict[str, CellOutcome] = field(default_factory=dict)  # scenario -> outcome

    def cell(self, scenario: str) -> CellOutcome:
        if self.status != "ran":
            return CellOutcome("not run", reason=f"{self.status}: {self.reason}")
        return self.cells.get(scenario, CellOutcome("not run", reason="no result"))


@dataclass(frozen=True)
class Transition:
    version: str  # the first release with the new state
    after: Optional[str]  # the judged release before it (releases between were not judged)
    kind: str  # broke, healed, changed
    problems: tuple[str, ...]  # what it fails from this release on (empty when healed)


@dataclass
class ScenarioHistory:
    scenario: str
    first_judged: Optional[str] = None
    first_broken: Optional[str] = None
    first_healed: Optional[str] = None
    transitions: list[Transition] = field(default_factory=list)
    newest: Optional[str] = None
    newest_fails: Optional[tuple[str, ...]] = None  # None: the newest release was not judged

    @property
    def broken_from_the_start(self) -> bool:
        """Broken in the oldest judged release: it may have broken before the range began."""
        return self.first_broken is not None and self.first_broken == self.first_judged

    @property
    def broke_again(self) -> bool:
        return sum(t.kind == "broke" for t in self.transitions) > 1


def ordered(releases: Iterable[ReleaseOutcome]) -> list[ReleaseOutcome]:
    return sorted(releases, key=lambda r: Version(r.version))


def history(scenario: str, releases: Iterable[ReleaseOutcome]) -> ScenarioHistory:
    """One scenario across the releases (any order in; judged oldest first)."""
    releases = ordered(releases)
    found = ScenarioHistory(scenario)
    previous: Optional[tuple[str, CellOutcome]] = None
    for release in releases:
        cell = release.cell(scenario)
        if cell.broken is None:
            continue
        if previous is None:
            found.first_judged = release.version
            if cell.broken:
                found.first_broken = release.version
        else:
            before = previous[1]
            kind = None
            if cell.broken and not before.broken:
                kind = "broke"
            elif before.broken and not cell.broken:
                kind = "healed"
            elif cell.broken and cell.problems != before.problems:
                kind = "changed"
            if kind:
                found.transitions.append(
                    Transition(release.version, previous[0], kind, cell.problems))
            if kind == "broke" and found.first_broken is None:
                found.first_broken = release.version
            if kind == "healed" and found.first_healed is None:
                found.first_healed = release.version
        previous = (release.version, cell)
    if releases:
        newest = releases[-1]
        found.newest = newest.version
        cell = newest.cell(scenario)
        found.newest_fails = None if cell.broken is None else cell.problems
    return found


def summarize(
    releases: Iterable[ReleaseOutcome], scenarios: Iterable[str]
) -> list[ScenarioHistory]:
    """Every scenario's history, in the order given."""
    releases = ordered(releases)
    return [history(scenario, releases) for scenario in scenarios]


def row_text(release: ReleaseOutcome, scenarios: list[str], short: dict[str, str]) -> list[str]:
    """One table row: per scenario ``pass``, the failing properties' short names, or status."""
    texts = []
    for scenario in scenarios:
        cell = release.cell(scenario)
        if cell.broken is None:
            texts.append("not run" if cell.outcome == "not run" else cell.outcome)
        elif cell.broken:
            texts.append(" ".join(short.get(p, p) for p in cell.problems))
        else:
            texts.append("pass")
    return texts


def runs(
    releases: Iterable[ReleaseOutcome], scenarios: list[str], short: dict[str, str]
) -> list[dict[str, Any]]:
    """Consecutive releases whose rows read the same, as one row: first, last, versions, texts."""
    grouped: list[dict[str, Any]] = []
    for release in ordered(releases):
        texts = row_text(release, scenarios, short)
        status = release.status
        if grouped and grouped[-1]["cells"] == texts and grouped[-1]["status"] == status:
            grouped[-1]["last"] = release.version
            grouped[-1]["versions"].append(release.version)
        else:
            grouped.append({"first": release.version, "last": release.version,
                            "versions": [release.version], "status": status, "cells": texts})
    return grouped
