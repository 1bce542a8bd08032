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


_INHERITED = object()
"""The class had no attribute of its own by that name (it inherited it)."""


class Restorer:
    """Remembers what each class held at a name before it is replaced; ``undo()`` puts the
    originals back in reverse order (and deletes a name the class only inherited)."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def _remember(self, owner: Any, name: str) -> Any:
        """The class's own attribute at ``name`` (``_INHERITED`` if none), remembered."""
        raw = owner.__dict__.get(name, _INHERITED)
        self._saved.append((owner, name, raw))
        return raw

    def undo(self) -> None:
        while self._saved:
            owner, name, raw = self._saved.pop()
            if raw is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, raw)


class Patches(Restorer):
    """Collects replacements of the streamed shape's points; ``undo()`` restores them."""

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
        raw = owner.__dict__[name]  # a point the contract names: the class's own attribute
        self._remember(owner, name)
        setattr(owner, name, classmethod(value) if isinstance(raw, classmethod) else value)
