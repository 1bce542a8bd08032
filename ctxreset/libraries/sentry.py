"""The adapter for sentry-sdk: ``with sentry_sdk.isolation_scope():`` held across a yield.

"Current" is the isolation scope and the current scope (``isolation_scope()`` forks both and
restores both): ``current_state()`` reads sentry's ContextVars and reports the scopes a held
block made as the trace and span ids, labelled ``scope_N`` in the order the blocks made them;
any other (none set, or the base scopes sentry's getters create and set on first use) is None:
nothing held. A scope has no end event, so the block
records its own: ``trace_start`` when it has made the forked scopes current, ``trace_end`` once
it has been left (whether or not restoring raised).

Sentry is initialised once, with an in-memory transport (a DSN on 127.0.0.1 that is never
contacted: the transport replaces the network one), no default or auto-enabled integrations,
so nothing is patched into logging or asyncio and nothing leaves the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any, ClassVar, Optional

from ctxreset.contract import HeldPoints, Recording
from ctxreset.libraries.held_only import HeldOnlyLibrary
from ctxreset.libraries.recorder import RecordingProcessor
from ctxreset.probe import CurrentState
from ctxreset.repro.held import UserStream

LOCAL_DSN = "http://public@127.0.0.1:9/0"
"""Required for a client to use a transport; the in-memory transport never connects to it."""


class _Labels:
    """Stable names for scope objects (kept alive, so an id is never reused), and the name of
    the block that forked each isolation scope."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._by_id: dict[int, tuple[str, Any]] = {}
        self.block_names: dict[str, str] = {}

    def register(self, scope: Any) -> str:
        """A label for a scope a held block made (kept alive, so its id is never reused)."""
        with self._lock:
            if id(scope) not in self._by_id:
                self._by_id[id(scope)] = (f"scope_{len(self._by_id) + 1}", scope)
            return self._by_id[id(scope)][0]

    def of(self, scope: Any) -> Optional[str]:
        """The label of a scope a held block made; None for any other (none set, or the
        base scopes sentry creates on first use: nothing held)."""
        with self._lock:
            entry = self._by_id.get(id(scope))
        return entry[0] if entry is not None and entry[1] is scope else None


LABELS = _Labels()
RECORDER: list[RecordingProcessor] = [RecordingProcessor()]


class SentryBlock:
    """``sentry_sdk.isolation_scope()``, and its parts: fork both scopes, set both, reset."""

    @classmethod
    @contextmanager
    def open(cls, name: str) -> Iterator[Any]:
        import sentry_sdk

        try:
            with sentry_sdk.isolation_scope() as scope:
                label = _started(name, scope, sentry_sdk.get_current_scope())
                yield scope
        finally:
            if "label" in locals():
                _ended(name, label)

    @classmethod
    def start(cls, name: str) -> Any:
        import sentry_sdk

        isolation = sentry_sdk.get_isolation_scope().fork()
        current = sentry_sdk.get_current_scope().fork()
        return (name, isolation, current, _started(name, isolation, current))

    @classmethod
    def make_current(cls, thing: Any) -> Any:
        from sentry_sdk import scope

        _, isolation, current, _ = thing
        return (scope._current_scope.set(current), scope._isolation_scope.set(isolation))

    @classmethod
    def restore(cls, token: Any) -> None:
        from sentry_sdk import scope

        current_token, isolation_token = token
        scope._current_scope.reset(current_token)
        scope._isolation_scope.reset(isolation_token)

    @classmethod
    def end(cls, thing: Any) -> None:
        name, _, _, label = thing
        _ended(name, label)


def _started(name: str, isolation: Any, current: Any) -> str:
    label = LABELS.register(isolation)
    LABELS.register(current)
    LABELS.block_names[label] = name
    RECORDER[0].add("trace_start", label, name=name)
    return label


def _ended(name: str, label: str) -> None:
    RECORDER[0].add("trace_end", label, name=name)


class SentryLibrary(HeldOnlyLibrary):
    def __init__(self) -> None:
        import sentry_sdk
        from sentry_sdk.transport import Transport

        class InMemoryTransport(Transport):
            """Keeps every envelope in memory; sends nothing."""

            envelopes: ClassVar[list[Any]] = []

            def capture_envelope(self, envelope: Any) -> None:
                self.envelopes.append(envelope)

        self.name = "sentry-sdk"
        self.version = metadata.version("sentry-sdk")
        self.held_points = HeldPoints(block=SentryBlock, stream=UserStream)
        sentry_sdk.init(dsn=LOCAL_DSN, transport=InMemoryTransport, default_integrations=False,
                        auto_enabling_integrations=False)

    def start_recording(self) -> Recording:
        LABELS.reset()
        RECORDER[0] = RecordingProcessor()
        return RECORDER[0]

    def current_state(self) -> CurrentState:
        # The ContextVars themselves: sentry's getters create and set a scope in a Context
        # that has none, and a probe must not change what it measures.
        from sentry_sdk import scope

        return CurrentState(LABELS.of(scope._isolation_scope.get()),
                            LABELS.of(scope._current_scope.get()))

    def current_trace_name(self) -> Optional[str]:
        from sentry_sdk import scope

        return LABELS.block_names.get(LABELS.of(scope._isolation_scope.get()) or "")
