"""The baseline: no patch. The library runs exactly as released."""

from __future__ import annotations

from fixes._patching import Undo
from harness.targets import PatchPoints


def apply(points: PatchPoints) -> Undo:
    return lambda: None
