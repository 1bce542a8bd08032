"""Tolerate only the foreign reset: a reset revokes what it set, in every Context at once.

Strategy (the shape of what upstream openai-agents does today: finish without a reset that
can fail, tolerate the foreign reset): ``Scope`` keeps a revocable entry in its ContextVars
instead of the bare trace or span (``fixes/_revocable.py``). Resetting a Token revokes its
entry, so the value stops being current in the Context that set it *and* in every Context
copied from it (the consumer's task, its child tasks, the run task); then the Token is reset
as before. Only when that reset fails because the Token belongs to another Context (the
``ValueError`` of this bug) is the failure tolerated: the revocation already did what the
reset meant. Nothing else about the library changes: the trace still starts in the caller's
Context (so consumers, wherever they run, see it and their spans join it) and still ends
when a stream is exhausted.

Patches: ``Scope.get/set/reset_current_trace``, ``Scope.get/set/reset_current_span``.

Upstream API: none public. ``Scope``'s ContextVars hold an entry object instead of the bare
trace or span; anything reading the ContextVars directly rather than through ``Scope`` (or
``get_current_trace()``) would see the entry.

Trade-off: it repairs the reset and the leak, not the lifetime. A stream that is never
exhausted (``break``, a disconnect, never iterated) never ends its trace, and a second run
started while the first one's trace is current joins it, as in the unpatched library. The
revoked entry stays referenced by the Contexts that copied it until they die (memory, not
state: it is current nowhere).
"""

from __future__ import annotations

from ctxreset.fixes._patching import Patches
from ctxreset.fixes._revocable import Revocable

from ctxreset.contract import PatchPoints, Undo


def apply(points: PatchPoints) -> Undo:
    patches = Patches()
    Revocable(patches, points, "trace", any_context=True)
    Revocable(patches, points, "span", any_context=True)
    return patches.undo
