"""The adapter half shared by libraries whose "current" is a trace and a span kept by a
``Scope`` class (openai-agents, and the stdlib model that copies its shape), recorded by a
``TracingProcessor``-shaped recorder."""

from __future__ import annotations

import abc
from typing import Any, Optional

from ctxreset.contract import Library, Recording
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
