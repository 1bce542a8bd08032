"""The baseline: no patch. The library runs exactly as released."""

from __future__ import annotations

from ctxreset.contract import PatchPoints, Undo


def apply(points: PatchPoints) -> Undo:
    return lambda: None
