"""What a released fix costs: the same benchmark, one release per process, pair by pair.

A fix that is another release (``upstream``: openai-agents 0.0.12, the newest) cannot share a
process with the bench target (0.0.11) and its baseline ``none``. ``nox -s bench`` gives each
release a venv of its own and alternates processes: in each pair one process times the
baseline (``python -m ctxreset.bench --only none`` on the bench target) and one times the
release (``--only upstream`` on its target), the order swapping from pair to pair so drift
hits both alike. A process's figure is the median of its repeats; the release's cost is the
median of its per-pair ratios ``release / baseline``, with their quartiles and extremes,
written into the bench file in place of the "n/a" and shown by the report like any fix's.
A process costs an interpreter start and a warm-up, which no figure includes.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any, Callable

from ctxreset.bench.stats import Spread, figure, within_budget
from ctxreset.matrix.loader import Matrix

BASELINE = "none"
PAIRS = 6
"""Pairs of processes per release and loop."""
REPEATS_PER_PROCESS = 3
"""Repeats each process times (after its warm-up); its figure is their median."""


def release_fixes(matrix: Matrix, target: str, python: str) -> list[tuple[str, str]]:
    """(fix, release target) for every fix that does not apply to ``target``, on each target
    it applies to that is judged against ``target`` (its ``baseline:``: another release of
    the same library) and installs on ``python``."""
    found = []
    for fix, targets in matrix.fixes.items():
        if target in targets:
            continue
        found += [(fix, other) for other in targets
                  if matrix.baseline_of(other) == target
                  and not matrix.target_not_run(other, python)]
    return found


def alternate(pairs: int, run: Callable[[str], dict[str, Any]],
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``pairs`` pairs of ``run("baseline")`` and ``run("release")``, in swapping order;
    the baseline's samples and the release's, pair by pair."""
    baseline, release = [], []
    for index in range(pairs):
        sides = ("baseline", "release") if index % 2 == 0 else ("release", "baseline")
        found = {side: run(side) for side in sides}
        baseline.append(found["baseline"])
        release.append(found["release"])
    return baseline, release


def entry(fix: str, target: str, baseline: Sequence[dict[str, Any]],
          release: Sequence[dict[str, Any]], budget: float) -> dict[str, Any]:
    """The bench file's entry for ``fix`` on release ``target``: per run and per event, each
    process's median and the per-pair ratios to the baseline process."""
    def medians(samples: Sequence[dict[str, Any]], key: str) -> list[float]:
        return [statistics.median(sample[key]) for sample in samples]

    per_run = figure(medians(release, "run_ns"), medians(baseline, "run_ns"))
    per_event = figure(medians(release, "event_ns"), medians(baseline, "event_ns"))
    return {
        "fix": fix,
        "status": "measured",
        "target": target,
        "method": f"{len(release)} pairs of alternating processes (one venv per release), "
                  f"{len(release[0]['run_ns']) if release else 0} repeats each",
        "per_run": per_run,
        "per_event": per_event,
        "within_budget": within_budget(Spread.from_dict(per_run["ratio"]), budget),
    }


def merge_entries(payload: dict[str, Any], entries: Sequence[dict[str, Any]]) -> None:
    """Put ``entries`` in the bench payload in place of their fix's "n/a" entry."""
    fixes = payload["bench"]["fixes"]
    for fix in dict.fromkeys(e["fix"] for e in entries):
        at = next((i for i, old in enumerate(fixes) if old["fix"] == fix), len(fixes))
        fixes[at:at + 1] = [e for e in entries if e["fix"] == fix]
