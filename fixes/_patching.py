"""Reversible attribute patches: remember the exact object each class held, put it back.

``original`` and ``replace`` take a patch point and one of the names the contract allows on
it (``ScopeMethod``, ``RunnerMethod``, ``StreamingResultMethod``), so mypy checks both.
"""

from __future__ import annotations

from typing import Any, Union, overload

from ctxreset.contract import (
    Runner,
    RunnerMethod,
    Scope,
    ScopeMethod,
    StreamingResult,
    StreamingResultMethod,
)

Owner = Union[type[Scope], type[Runner], type[StreamingResult]]


class Patches:
    """Collects replacements; ``undo()`` restores the originals in reverse order."""

    def __init__(self) -> None:
        self._saved: list[tuple[Owner, str, Any]] = []

    @overload
    def original(self, owner: type[Scope], name: ScopeMethod) -> Any: ...
    @overload
    def original(self, owner: type[Runner], name: RunnerMethod) -> Any: ...
    @overload
    def original(self, owner: type[StreamingResult], name: StreamingResultMethod) -> Any: ...

    def original(self, owner: Owner, name: str) -> Any:
        """The callable currently at ``owner.name`` (classmethods unwrapped to functions)."""
        raw = owner.__dict__[name]
        return raw.__func__ if isinstance(raw, classmethod) else raw

    @overload
    def replace(self, owner: type[Scope], name: ScopeMethod, value: Any) -> None: ...
    @overload
    def replace(self, owner: type[Runner], name: RunnerMethod, value: Any) -> None: ...
    @overload
    def replace(self, owner: type[StreamingResult], name: StreamingResultMethod,
                value: Any) -> None: ...

    def replace(self, owner: Owner, name: str, value: Any) -> None:
        raw = owner.__dict__[name]
        self._saved.append((owner, name, raw))
        setattr(owner, name, classmethod(value) if isinstance(raw, classmethod) else value)

    def undo(self) -> None:
        while self._saved:
            owner, name, raw = self._saved.pop()
            setattr(owner, name, raw)
