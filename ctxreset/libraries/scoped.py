"""The adapter half shared by libraries whose "current" is a trace and a span kept by a
``Scope`` class (openai-agents, and the stdlib model that copies its shape), recorded by a
``TracingProcessor``-shaped recorder; and the held shape's block in such a library."""

from __future__ import annotations

import abc
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Optional

from ctxreset.contract import Library, Recording, Scope
from ctxreset.libraries.recorder import RecordingProcessor
from ctxreset.probe import CurrentState


class ScopedTraceLibrary(Library):
    @abc.abstractmethod
    def set_processors(self, processors: list[Any]) -> None:
        """Replace every trace processor (the exporters included) with these."""

    def start_recording(self) -> Recording:
        recorder = RecordingProcessor()
        self.set_processors([recorder])
        return recorder

    def current_state(self) -> CurrentState:
        trace = self.points.scope.get_current_trace()
        span = self.points.scope.get_current_span()
        return CurrentState(
            None if trace is None else str(trace.trace_id),
            None if span is None else str(span.span_id),
        )

    def current_trace_name(self) -> Optional[str]:
        trace = self.points.scope.get_current_trace()
        return None if trace is None else str(trace.name)


class ScopedTraceBlock:
    """The held shape's block in a library whose trace is kept by a ``Scope`` class: ``open``
    is the library's ``with trace(name):``; the parts start a trace, make it current,
    restore what was current, and finish it."""

    scope: ClassVar[type[Scope]]

    @staticmethod
    def new_trace(name: str) -> Any:
        """A trace named so, not yet started (the library's ``trace(name)``)."""
        raise NotImplementedError

    @staticmethod
    def block(name: str) -> AbstractContextManager[Any]:
        """The library's own ``with trace(name):``, looked up at call time."""
        raise NotImplementedError

    @classmethod
    def open(cls, name: str) -> AbstractContextManager[Any]:
        return cls.block(name)

    @classmethod
    def start(cls, name: str) -> Any:
        trace = cls.new_trace(name)
        trace.start(mark_as_current=False)
        return trace

    @classmethod
    def make_current(cls, thing: Any) -> Any:
        return cls.scope.set_current_trace(thing)

    @classmethod
    def restore(cls, token: Any) -> None:
        cls.scope.reset_current_trace(token)

    @classmethod
    def end(cls, thing: Any) -> None:
        thing.finish(reset_current=False)
