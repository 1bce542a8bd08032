"""Revocable "current" values: what two fixes keep in the Scope's ContextVars instead of the
bare trace or span.

A ContextVar value is copied into every task created while it is set, and a Token can only
be reset in the Context that set it. Both fixes built on this module store an ``Entry``
(the trace or span, the value below it, and a ``live`` flag) instead of the bare object.
Every Context that copied the entry shares the same object, so revoking it (``live =
False``) takes the value out of *every* such Context at once, from any task or thread; the
getter skips revoked entries and answers the value below. No Token has to be reset in a
foreign Context for a value to stop being current.

``Revocable`` patches one set/get/reset triple of the Scope (the trace's or the span's):

- set: push an ``Entry`` on top of the current value (revoked entries on top are dropped, so
  a long-lived Context does not collect them) and return the Token as before;
- get: the value of the topmost live entry;
- reset: revoke the Token's entry, then reset the Token as before; if the Token belongs to
  another Context (the ``ValueError`` this bug is about), the revocation alone has done what
  the reset meant. Any other failure, or a Token whose entry this Context cannot see, is
  raised as before.
"""

from __future__ import annotations

import contextvars
import weakref
from typing import Any, Callable, Optional

from ctxreset.fixes._patching import Patches

from ctxreset.contract import PatchPoints, ScopeMethod


class Entry:
    """One value made current: shared by every Context that copied it; revocable anywhere."""

    __slots__ = ("__weakref__", "below", "live", "run", "shows", "token", "value")

    def __init__(self, value: Any, below: Any, run: bool = False, shows: Any = None) -> None:
        self.value = value
        self.below = below
        self.live = True
        self.token: Optional[contextvars.Token[Any]] = None
        self.run = run
        """Made current by a fix to show a streamed run's trace to a reader (not by the
        library's or the user's own ``start(mark_as_current=True)``)."""
        self.shows: Any = shows
        """Whatever a fix keeps about the run whose trace this entry shows."""

    def revoke(self) -> None:
        """No longer current anywhere. The value is dropped too: a revoked entry stays in the
        Contexts that copied it, and the value (a trace holds the library's Token, whose old
        value is the entry below) would otherwise keep every earlier run's trace alive in a
        Context that runs one after another."""
        self.live = False
        self.value = None


def resolve(raw: Any) -> Any:
    """The value current under ``raw``: the topmost live entry's, or a bare value."""
    while type(raw) is Entry:
        if raw.live:
            return raw.value
        raw = raw.below
    return raw


def prune(raw: Any) -> Any:
    """``raw`` without the revoked entries on top of it."""
    while type(raw) is Entry and not raw.live:
        raw = raw.below
    return raw


def stacked_on(raw: Any, entry: Entry) -> bool:
    """Whether ``raw`` is ``entry`` or was pushed over it (live or revoked)."""
    while type(raw) is Entry:
        if raw is entry:
            return True
        raw = raw.below
    return False


def _find(raw: Any, token: contextvars.Token[Any]) -> Optional[Entry]:
    while type(raw) is Entry:
        if raw.token is token:
            return raw
        raw = raw.below
    return None


class Revocable:
    """The patched set/get/reset of one Scope value (``kind``: "trace" or "span")."""

    def __init__(self, patches: Patches, points: PatchPoints, kind: str,
                 on_set: Optional[Callable[[Entry], None]] = None,
                 any_context: bool = False) -> None:
        """``on_set``: told of every entry pushed by a set. ``any_context``: also find a
        Token's entry when the resetting Context never saw it (it was copied before the
        set): each set is remembered, weakly, by its Token (about a microsecond a set)."""
        names: dict[str, tuple[ScopeMethod, ScopeMethod, ScopeMethod]] = {
            "trace": ("get_current_trace", "set_current_trace", "reset_current_trace"),
            "span": ("get_current_span", "set_current_span", "reset_current_span"),
        }
        get_name, set_name, reset_name = names[kind]
        scope = points.scope
        raw_set: Callable[[Any, Any], contextvars.Token[Any]] = patches.original(
            scope, set_name)
        # The library's setter hands back a Token, and a Token names its ContextVar: set None
        # in a throwaway Context to learn which one, then keep entries in it directly (the
        # library's own methods may read attributes of what they are given).
        var: contextvars.ContextVar[Any] = contextvars.Context().run(raw_set, scope, None).var
        self.var = var
        get = var.get
        issued: Optional[weakref.WeakValueDictionary[int, Entry]] = (
            weakref.WeakValueDictionary() if any_context else None)

        # The common cases (a live entry on top; a reset in the Context that set it) take no
        # call beyond the ContextVar's own: these run for every span the library opens.
        def get_current(cls: type) -> Any:
            raw = get(None)
            if type(raw) is not Entry:
                return raw
            if raw.live:
                return raw.value
            return resolve(raw)

        def set_current(cls: type, value: Any) -> contextvars.Token[Any]:
            below = get(None)
            if type(below) is Entry and not below.live:
                below = prune(below)
            entry = Entry(value, below)
            if on_set is not None:
                on_set(entry)
            entry.token = token = var.set(entry)
            if issued is not None:
                issued[id(token)] = entry  # the entry holds the Token: its id stays unique
            return token

        def reset_current(cls: type, token: contextvars.Token[Any]) -> None:
            entry = get(None)
            if type(entry) is not Entry or entry.token is not token:
                entry = _find(entry, token)
                if entry is None and issued is not None:
                    entry = issued.get(id(token))
                    if entry is not None and entry.token is not token:
                        entry = None
            if entry is not None:
                entry.revoke()
            try:
                var.reset(token)
            except ValueError:
                if entry is None:
                    raise
                # Set in another Context: revoking the entry has un-made it current there
                # and in every copy of it, which is all the reset was for.

        patches.replace(scope, get_name, get_current)
        patches.replace(scope, set_name, set_current)
        patches.replace(scope, reset_name, reset_current)

    def top(self) -> Any:
        """The raw value (entry or bare) in the calling Context."""
        return self.var.get(None)

    def push(self, value: Any) -> None:
        """Make ``value`` (an entry, or a bare value) current in the calling Context for
        good: it is never reset, an entry only revoked (its Token is dropped)."""
        self.var.set(value)
