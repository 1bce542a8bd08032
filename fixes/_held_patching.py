"""Reversible patches of the held shape's points (``HeldBlock.open``, ``HeldStream.stream``):
remember the exact attribute each class held, put it back."""

from __future__ import annotations

from typing import Any, Union, overload

from ctxreset.contract import HeldBlock, HeldStream

_INHERITED = object()
"""The class had no attribute of its own by that name (it inherited it)."""


class HeldPatches:
    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    @overload
    def original(self, owner: type[HeldBlock], name: str) -> Any: ...
    @overload
    def original(self, owner: type[HeldStream], name: str) -> Any: ...

    def original(self, owner: Union[type[HeldBlock], type[HeldStream]], name: str) -> Any:
        """The bound callable ``owner.name`` (a classmethod, bound to ``owner``)."""
        return getattr(owner, name)

    def replace(self, owner: Union[type[HeldBlock], type[HeldStream]], name: str,
                value: Any) -> None:
        """Put ``value`` (a plain function of the same arguments) at ``owner.name``."""
        self._saved.append((owner, name, owner.__dict__.get(name, _INHERITED)))
        setattr(owner, name, staticmethod(value))

    def undo(self) -> None:
        while self._saved:
            owner, name, raw = self._saved.pop()
            if raw is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, raw)
