"""Catch the foreign-Context ``ValueError`` on reset and restore the old value by hand.

Strategy: ``Scope.reset_current_trace`` / ``reset_current_span`` try ``ContextVar.reset``;
if the token belongs to another Context, they log a warning and ``set`` the token's
``old_value`` in the current Context instead.

Patches: ``Scope.reset_current_trace``, ``Scope.reset_current_span``.

Trade-off: only the Context that resets is repaired. The Context that set the token (the
caller's) keeps the finished trace as current: a leak that makes the caller's next run join a
finished trace. The fallback also overwrites whatever the resetting Context had set since.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from ctxreset.fixes._patching import Patches

from ctxreset.contract import CURRENT_SETTERS, PatchPoints, Undo

logger = logging.getLogger("fixes.safe_reset")


def _old_value(token: contextvars.Token) -> Any:
    return None if token.old_value is contextvars.Token.MISSING else token.old_value


def apply(points: PatchPoints) -> Undo:
    patches = Patches()

    def safe(resetter: Any) -> Any:
        def reset_current(cls: type, token: contextvars.Token) -> None:
            try:
                resetter(cls, token)
            except ValueError:
                logger.warning("token for %s from another Context; restoring its old value",
                               token.var.name)
                token.var.set(_old_value(token))

        return reset_current

    for _, reset_name in CURRENT_SETTERS:
        resetter = patches.original(points.scope, reset_name)
        patches.replace(points.scope, reset_name, safe(resetter))
    return patches.undo
