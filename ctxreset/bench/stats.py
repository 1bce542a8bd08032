"""The benchmark's arithmetic: per-repeat ratios to the baseline, their spread, the budget.

In every repeat of the benchmark each fix is timed once, side by side with the baseline
(``none``). A fix's cost is the distribution of its per-repeat ratios ``fix / baseline``, so
drift that slows a whole repeat (another process on a shared core) cancels out. Pure
functions on numbers: the unit tests feed them synthetic timings.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class Spread:
    """The median, the quartiles (the IQR is q1-q3) and the extremes of some values."""

    median: float
    q1: float
    q3: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Spread:
        return cls(**{name: float(data[name]) for name in ("median", "q1", "q3", "low", "high")})


def spread(values: Sequence[float]) -> Spread:
    """Median and quartiles (inclusive method: the quartiles of the values themselves)."""
    if not values:
        raise ValueError("spread of no values")
    ordered = sorted(values)
    if len(ordered) == 1:
        q1 = q3 = ordered[0]
    else:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return Spread(statistics.median(ordered), q1, q3, ordered[0], ordered[-1])


def ratios(times: Sequence[float], baseline: Sequence[float]) -> list[float]:
    """``times[i] / baseline[i]`` for each repeat ``i`` (both measured in the same repeat)."""
    if len(times) != len(baseline):
        raise ValueError(f"{len(times)} timings against {len(baseline)} baseline timings")
    if any(b <= 0 for b in baseline):
        raise ValueError("a baseline timing is not positive")
    return [t / b for t, b in zip(times, baseline)]


def per_event(short_ns: float, long_ns: float, short_events: float, long_events: float) -> float:
    """The cost of one more event: the slope between a short and a long run."""
    if long_events <= short_events:
        raise ValueError(f"the long run has {long_events} events, the short one {short_events}")
    return (long_ns - short_ns) / (long_events - short_events)


def events_to_budget(run_ns: float, event_ns: float, base_run_ns: float, base_event_ns: float,
                     events: float, budget: float) -> Optional[int]:
    """How many events a run needs before a fix's cost per run is within ``budget``.

    Each run time (``run_ns``, a run of ``events`` events) splits into a part per run and
    ``event_ns`` per event; the same for the baseline. The fix is within the budget at
    ``n`` events when ``fixed + n * event_ns <= (1 + budget) * (base_fixed + n *
    base_event_ns)``. 0: at any length; None: at no length (its cost per event alone is
    over the budget).
    """
    limit = 1.0 + budget
    extra_fixed = (run_ns - events * event_ns) - limit * (base_run_ns - events * base_event_ns)
    if extra_fixed <= 0:
        return 0
    spare_per_event = limit * base_event_ns - event_ns
    if spare_per_event <= 0:
        return None
    return math.ceil(round(extra_fixed / spare_per_event, 6))  # 3.0000000001 events is 3


def events_to_budget_per_repeat(runs: Sequence[float], events: Sequence[float],
                                base_runs: Sequence[float], base_events: Sequence[float],
                                short_events: float, budget: float) -> dict[str, Optional[int]]:
    """``events_to_budget`` in each repeat (each fix timed beside the baseline), as the
    median and quartiles of the repeats: the slope per event is noisy, and the answer
    length it gives swings with it. None: at no length (counted as longer than any)."""
    lengths = sorted(
        (events_to_budget(run, event, base_run, base_event, short_events, budget)
         for run, event, base_run, base_event in zip(runs, events, base_runs, base_events)),
        key=lambda n: math.inf if n is None else n)
    if not lengths:
        raise ValueError("no repeats")
    count = len(lengths)
    return {"median": lengths[(count - 1) // 2], "q1": lengths[(count - 1) // 4],
            "q3": lengths[(3 * (count - 1)) // 4]}


def within_budget(ratio: Spread, budget: float) -> bool:
    """At most ``budget`` (0.05 = 5%) over the baseline, judged on the median ratio."""
    return ratio.median <= 1.0 + budget


def format_ratio(ratio: Spread) -> str:
    """``x1.031 (IQR 1.012-1.049)``: three decimals, so a median just over a 5% budget never
    reads ``x1.05``."""
    return f"x{ratio.median:.3f} (IQR {ratio.q1:.3f}-{ratio.q3:.3f})"


def format_ns(ns: float) -> str:
    """A duration for people: ``262 us``, ``11.8 us``, ``6.04 ms``."""
    if abs(ns) >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if abs(ns) >= 1e5:
        return f"{ns / 1e3:.0f} us"
    return f"{ns / 1e3:.1f} us"


def figure(values: Sequence[float], baseline: Sequence[float]) -> dict[str, Any]:
    """Absolute spread and the spread of the ratios ``values[i] / baseline[i]`` (None: a
    baseline value was <= 0, which only a per-event slope lost in the noise gives)."""
    usable = all(b > 0 for b in baseline)
    ratio: Optional[dict[str, float]] = (
        _rounded(spread(ratios(values, baseline)), 4) if usable else None)
    return {"ns": _rounded(spread(values), 1), "ratio": ratio,
            "per_repeat_ns": [round(v, 1) for v in values]}


def _rounded(values: Spread, digits: int) -> dict[str, float]:
    return {name: round(value, digits) for name, value in values.to_dict().items()}
