"""A reference for the benchmark, not a fix: what patching in at the streamed points costs
before a fix does anything.

A fix applied at runtime replaces library methods with Python functions of its own, and
``stream_events()`` with an object whose ``__anext__`` runs in Python on every pull (the only
way to act in the task that pulls). Those calls cost something even when they only hand
over to the original. ``interpose`` puts pass-through wrappers at the same points: the
Scope's six current-value methods (get, set and reset of the trace and of the span),
``Runner.run_streamed``, and ``stream_events`` behind a Python iterator. Timed beside the
fixes, it separates a fix's cost into the toll of the points it patches (at most this; a
fix that patches fewer points pays less) and the cost of its own logic.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable
from typing import Any, Callable

from ctxreset.contract import CURRENT_SETTERS, PatchPoints, ScopeMethod, Undo
from ctxreset.fixes._patching import Patches

_GETTERS: tuple[ScopeMethod, ...] = ("get_current_trace", "get_current_span")


class _PassThrough:
    """The library's own async generator behind a Python ``__anext__`` that only forwards."""

    __slots__ = ("_events",)

    def __init__(self, events: AsyncGenerator[Any, None]) -> None:
        self._events = events

    def __aiter__(self) -> _PassThrough:
        return self

    def __anext__(self) -> Awaitable[Any]:
        return self._events.__anext__()

    def aclose(self) -> Awaitable[None]:
        return self._events.aclose()


def _forward(original: Callable[..., Any]) -> Callable[..., Any]:
    def forward(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **kwargs)
    return forward


def interpose(points: PatchPoints) -> Undo:
    """Pass-through wrappers at the streamed points; returns the undo."""
    patches = Patches()
    scope = points.scope
    names = list(_GETTERS) + [name for pair in CURRENT_SETTERS for name in pair]
    for name in names:
        patches.replace(scope, name, _forward(patches.original(scope, name)))
    patches.replace(points.runner, "run_streamed",
                    _forward(patches.original(points.runner, "run_streamed")))
    stream_events = patches.original(points.streaming_result, "stream_events")

    def passed_through(result: Any) -> _PassThrough:
        return _PassThrough(stream_events(result))

    patches.replace(points.streaming_result, "stream_events", passed_through)
    return patches.undo
