"""Candidate fixes, one module each, applied as reversible runtime patches.

Every module has ``apply(points) -> undo`` and a docstring stating the strategy, where it
patches and what it trades. Which targets a fix applies to is data in ``matrix.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fixes import (
    context_rerun,
    faults,
    none,
    safe_reset,
    safe_reset_swallow,
    streaming_trace,
    task_affine_trace,
    upstream,
)
from harness.targets import Library

FIXES: dict[str, Any] = {
    "none": none,
    "context_rerun": context_rerun,
    "safe_reset": safe_reset,
    "safe_reset_swallow": safe_reset_swallow,
    "streaming_trace": streaming_trace,
    "task_affine_trace": task_affine_trace,
    "upstream": upstream,
}
if faults.enabled():  # the harness's own fault-handling tests only
    FIXES.update(faults.FAULTS)


def get_fix(name: str) -> Any:
    try:
        return FIXES[name]
    except KeyError:
        allowed = ", ".join(FIXES)
        raise ValueError(f"unknown fix {name!r}; allowed: {allowed}") from None


@contextmanager
def applied(name: str, library: Library) -> Iterator[None]:
    """Apply fix ``name`` to ``library`` for the duration of the block, then revert it."""
    undo = get_fix(name).apply(library.points)
    try:
        yield
    finally:
        undo()
