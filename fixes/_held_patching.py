"""Reversible patches of the held shape's points (``HeldBlock.open``, ``HeldStream.stream``):
remember the exact attribute each class held, put it back."""

from __future__ import annotations

from typing import Any, Union, overload

from ctxreset.fixes._patching import Restorer

from ctxreset.contract import HeldBlock, HeldStream


class HeldPatches(Restorer):
    """Collects replacements of the held shape's points; ``undo()`` restores them."""

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
        self._remember(owner, name)
        setattr(owner, name, staticmethod(value))
