"""Catch the foreign-Context ``ValueError`` on reset and ignore it (rejected upstream PR #516).

Strategy: ``Scope.reset_current_trace`` / ``reset_current_span`` swallow ``ValueError``.

Patches: ``Scope.reset_current_trace``, ``Scope.reset_current_span``.

Trade-off: kept to show why it is wrong. The error disappears, the reset does not happen: the
finished trace stays current in the caller's and the consumer's Contexts, and the next run
started from either joins it.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any

from ctxreset.fixes._patching import Patches

from ctxreset.contract import CURRENT_SETTERS, PatchPoints, Undo


def apply(points: PatchPoints) -> Undo:
    patches = Patches()

    def swallowing(resetter: Any) -> Any:
        def reset_current(cls: type, token: contextvars.Token) -> None:
            with contextlib.suppress(ValueError):
                resetter(cls, token)

        return reset_current

    for _, reset_name in CURRENT_SETTERS:
        resetter = patches.original(points.scope, reset_name)
        patches.replace(points.scope, reset_name, swallowing(resetter))
    return patches.undo
