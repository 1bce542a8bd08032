"""The revocable current values two fixes keep in the Scope (``fixes/_revocable.py``), on the
stdlib model's Scope: a reset revokes the value in every Context that copied it, a foreign
reset is tolerated only for a Token the fix issued, and revoked entries do not pile up or
keep their values alive."""

from __future__ import annotations

import contextvars
import gc
import weakref
from typing import Any, cast

import pytest
from ctxreset.fixes._patching import Patches
from ctxreset.fixes._revocable import Entry, Revocable
from ctxreset.repro import minimal

from ctxreset.libraries.minimal import MinimalLibrary


@pytest.fixture
def scope():
    library = MinimalLibrary()
    patches = Patches()
    Revocable(patches, library.points, "trace", any_context=True)
    yield minimal.Scope
    patches.undo()


def _fresh(function, *args):
    return contextvars.Context().run(function, *args)


def test_a_reset_revokes_the_value_in_every_copy_of_the_context(scope):
    def body():
        token = scope.set_current_trace("run-1")
        copy = contextvars.copy_context()  # a task created while it is current
        assert copy.run(scope.get_current_trace) == "run-1"
        scope.reset_current_trace(token)
        return copy.run(scope.get_current_trace), scope.get_current_trace()

    assert _fresh(body) == (None, None)


def test_a_foreign_reset_is_tolerated_and_leaves_the_owner_clean(scope):
    def body():
        token = scope.set_current_trace("run-1")
        consumer = contextvars.copy_context()
        consumer.run(scope.reset_current_trace, token)  # the bug: reset in another Context
        return scope.get_current_trace(), consumer.run(scope.get_current_trace)

    assert _fresh(body) == (None, None)


def test_a_foreign_reset_from_a_context_that_never_saw_the_value_still_revokes_it(scope):
    def body():
        earlier = contextvars.copy_context()  # copied before the set
        token = scope.set_current_trace("run-1")
        earlier.run(scope.reset_current_trace, token)
        return scope.get_current_trace()

    assert _fresh(body) is None


def test_a_token_the_fix_did_not_issue_still_raises(scope):
    var: contextvars.ContextVar[int] = contextvars.ContextVar("elsewhere")
    token = var.set(1)
    with pytest.raises(ValueError):
        contextvars.copy_context().run(scope.reset_current_trace, token)


def test_the_value_below_comes_back_when_the_top_is_revoked_out_of_order(scope):
    def body():
        outer = scope.set_current_trace("outer")
        inner = scope.set_current_trace("inner")
        contextvars.copy_context().run(scope.reset_current_trace, outer)  # foreign, first
        seen_inner = scope.get_current_trace()
        scope.reset_current_trace(inner)
        return seen_inner, scope.get_current_trace()

    assert _fresh(body) == ("inner", None)


def test_revoked_entries_are_dropped_on_the_next_set(scope):
    def body():
        for index in range(50):  # a long-lived worker: one run after another, reset foreign
            token = scope.set_current_trace(f"run-{index}")
            contextvars.copy_context().run(scope.reset_current_trace, token)
        scope.set_current_trace("last")
        depth, raw = 0, cast(Any, minimal._current_trace.get())
        while type(raw) is Entry:
            depth, raw = depth + 1, raw.below
        return depth

    assert _fresh(body) == 1


def test_a_revoked_entry_no_longer_keeps_its_trace_alive(scope):
    """A long-lived worker again, with traces that keep their Token as the library's do: the
    next run's Token remembers the revoked entry it was set over, and that must not reach
    the earlier trace (a chain back to the first run otherwise)."""
    def body():
        first = minimal.Trace("run-1")
        first.start(mark_as_current=True)
        contextvars.copy_context().run(scope.reset_current_trace, first._prev_context_token)
        second = minimal.Trace("run-2")
        second.start(mark_as_current=True)  # set over the revoked entry, still in this Context
        gone = weakref.ref(first)
        del first
        gc.collect()
        return gone() is None, scope.get_current_trace() is second

    assert _fresh(body) == (True, True)


def test_undo_restores_the_library_methods():
    library = MinimalLibrary()
    names = ("get_current_span", "set_current_span", "reset_current_span")
    before = {name: minimal.Scope.__dict__[name] for name in names}
    patches = Patches()
    Revocable(patches, library.points, "span")
    assert all(minimal.Scope.__dict__[name] is not before[name] for name in names)
    patches.undo()
    assert all(minimal.Scope.__dict__[name] is before[name] for name in names)
