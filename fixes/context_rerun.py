"""Run ``run_streamed`` inside a dedicated Context; reset its tokens through that Context.

Strategy: ``Runner.run_streamed`` executes in ``home = contextvars.copy_context()`` via
``home.run``, so the trace is marked current in ``home`` (and in the run task, which copies
it), never in the caller's Context. Every token set while ``home`` (or a copy of it) is
current is remembered with ``home``; ``Scope.reset_current_trace`` / ``reset_current_span``
reset such a token through ``home.run(...)`` first, and in the current Context only if it was
not ``home``'s (a copy's, such as the run task's spans): the token always goes home, whichever
task ends the stream.

Patches: ``Runner.run_streamed``, ``Scope.set/reset_current_trace``,
``Scope.set/reset_current_span``.

Trade-off: the caller and the consumer never see the run's trace as current, so spans the
consumer opens while iterating are no-op spans (and the library logs "No active trace").
"""

from __future__ import annotations

import contextvars
from typing import Any, Optional

from ctxreset.fixes._patching import Patches

from ctxreset.contract import CURRENT_SETTERS, PatchPoints, Undo

_home: contextvars.ContextVar[Optional[contextvars.Context]] = contextvars.ContextVar(
    "fix_context_rerun_home", default=None
)


def apply(points: PatchPoints) -> Undo:
    patches = Patches()
    homes: dict[int, tuple[contextvars.Token, contextvars.Context]] = {}
    run_streamed = patches.original(points.runner, "run_streamed")

    def patched_run_streamed(cls: type, *args: Any, **kwargs: Any) -> Any:
        home = contextvars.copy_context()

        def in_home() -> Any:
            _home.set(home)
            return run_streamed(cls, *args, **kwargs)

        return home.run(in_home)

    def remembering(setter: Any) -> Any:
        def set_current(cls: type, value: Any) -> contextvars.Token[Any]:
            token: contextvars.Token[Any] = setter(cls, value)
            home = _home.get()
            if home is not None:
                homes[id(token)] = (token, home)
            return token

        return set_current

    def going_home(resetter: Any) -> Any:
        def reset_current(cls: type, token: contextvars.Token) -> None:
            entry = homes.pop(id(token), None)
            if entry is not None:
                _, home = entry
                try:
                    home.run(resetter, cls, token)
                    return
                except (ValueError, RuntimeError):
                    # Set in a copy of home (the run task), or home is running right now:
                    # the token's own Context is the current one.
                    pass
            resetter(cls, token)

        return reset_current

    patches.replace(points.runner, "run_streamed", patched_run_streamed)
    for set_name, reset_name in CURRENT_SETTERS:
        setter = patches.original(points.scope, set_name)
        resetter = patches.original(points.scope, reset_name)
        patches.replace(points.scope, set_name, remembering(setter))
        patches.replace(points.scope, reset_name, going_home(resetter))
    return patches.undo
