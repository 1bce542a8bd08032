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
from typing import Union, cast

from ctxreset.catalogue import FAULTS, fix_names
from ctxreset.contract import Fix, HeldFix, Library, Undo, Unsupported

SHAPES = ("streamed", "held", "any")
"""What a fix module patches (its ``SHAPE``, default ``streamed``): the streamed-run points,
the held shape's points, or nothing at all (``none``, ``upstream``)."""


def shape_of(fix: Union[Fix, HeldFix]) -> str:
    """The shape a fix patches."""
    shape = str(getattr(fix, "SHAPE", "streamed"))
    if shape not in SHAPES:
        raise ValueError(f"fix SHAPE {shape!r}; allowed: {', '.join(SHAPES)}")
    return shape


def get_fix(name: str) -> Union[Fix, HeldFix]:
    """Fix ``name``; ``ValueError`` naming the known fixes for any other name."""
    if name not in fix_names():
        allowed = ", ".join(fix_names())
        raise ValueError(f"unknown fix {name!r}; allowed: {allowed}")
    if name in FAULTS:
        from ctxreset.fixes.faults import FAULT_FIXES

        return FAULT_FIXES[name]
    return cast(Union[Fix, HeldFix], importlib.import_module(f"{__name__}.{name}"))


def apply_to(fix: Union[Fix, HeldFix], library: Library) -> Undo:
    """Apply ``fix`` at the points of its shape (Unsupported where the library has none)."""
    shape = shape_of(fix)
    if shape == "any":
        return cast(HeldFix, fix).apply(library.held()) if library.held_points else \
            cast(Fix, fix).apply(library.points)
    if shape == "held":
        return cast(HeldFix, fix).apply(library.held())
    if getattr(library, "points", None) is None:
        raise Unsupported(f"{library.label} has no streamed run for a fix to patch")
    return cast(Fix, fix).apply(library.points)


@contextmanager
def applied(name: str, library: Library) -> Iterator[None]:
    """Apply fix ``name`` to ``library`` for the duration of the block, then revert it."""
    undo = apply_to(get_fix(name), library)
    try:
        yield
    finally:
        undo()
