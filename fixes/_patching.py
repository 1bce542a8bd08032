"""Reversible attribute patches: remember the exact object each class held, put it back."""

from __future__ import annotations

from typing import Any


class Patches:
    """Collects replacements; ``undo()`` restores the originals in reverse order."""

    def __init__(self) -> None:
        self._saved: list[tuple[type, str, Any]] = []

    def original(self, owner: type, name: str) -> Any:
        """The callable currently at ``owner.name`` (classmethods unwrapped to functions)."""
        raw = owner.__dict__[name]
        return raw.__func__ if isinstance(raw, classmethod) else raw

    def replace(self, owner: type, name: str, value: Any) -> None:
        raw = owner.__dict__[name]
        self._saved.append((owner, name, raw))
        setattr(owner, name, classmethod(value) if isinstance(raw, classmethod) else value)

    def undo(self) -> None:
        while self._saved:
            owner, name, raw = self._saved.pop()
            setattr(owner, name, raw)

