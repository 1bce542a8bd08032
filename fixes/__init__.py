"""Candidate fixes, one module each, applied as reversible runtime patches.

Every module is a ``Fix`` (ctxreset.contract): ``apply(points) -> undo`` and a docstring stating
the strategy, where it patches and what it trades. The names are in ctxreset.catalogue; a
module is imported only when its fix is asked for. Which targets a fix applies to is data in
``matrix.yaml``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from ctxreset.catalogue import FAULTS, fix_names
from ctxreset.contract import Fix, Library


def get_fix(name: str) -> Fix:
    """Fix ``name``; ``ValueError`` naming the known fixes for any other name."""
    if name not in fix_names():
        allowed = ", ".join(fix_names())
        raise ValueError(f"unknown fix {name!r}; allowed: {allowed}")
    if name in FAULTS:
        from ctxreset.fixes.faults import FAULT_FIXES

        return FAULT_FIXES[name]
    return cast(Fix, importlib.import_module(f"{__name__}.{name}"))


@contextmanager
def applied(name: str, library: Library) -> Iterator[None]:
    """Apply fix ``name`` to ``library`` for the duration of the block, then revert it."""
    undo = get_fix(name).apply(library.points)
    try:
        yield
    finally:
        undo()
