"""A tracing processor that records every trace and span event, in order, and exports nothing.

The recorder the minimal and openai-agents adapters install in place of the library's
processors for every cell (so the default OpenAI exporter is never active): it has
openai-agents' ``TracingProcessor`` shape and reads only ids, names and parent ids. Another
library's adapter records its own way and produces the same ``TraceEvent``s.
"""

from __future__ import annotations

import threading
from typing import Any

from ctxreset.contract import TraceEvent


def span_type(span: Any) -> str:
    data = getattr(span, "span_data", None)
    return str(getattr(data, "type", None) or getattr(span, "span_type", "") or "")


def span_name(span: Any) -> str:
    name = getattr(span, "name", None)
    if name:
        return str(name)
    data = getattr(span, "span_data", None)
    return str(getattr(data, "name", None) or getattr(data, "type", "?"))


class RecordingProcessor:
    """Implements the TracingProcessor protocol by appending TraceEvents."""

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []
        self._lock = threading.Lock()

    def add(self, kind: str, trace_id: str, **fields: Any) -> None:
        """Record one event (adapters whose library has no processor call this themselves)."""
        with self._lock:
            self.events.append(TraceEvent(len(self.events), kind, trace_id, **fields))

    def on_trace_start(self, trace: Any) -> None:
        self.add("trace_start", trace.trace_id, name=str(trace.name))

    def on_trace_end(self, trace: Any) -> None:
        self.add("trace_end", trace.trace_id, name=str(trace.name))

    def on_span_start(self, span: Any) -> None:
        self.add(
            "span_start", span.trace_id, span_id=span.span_id, parent_id=span.parent_id,
            name=span_name(span), span_type=span_type(span),
        )

    def on_span_end(self, span: Any) -> None:
        self.add(
            "span_end", span.trace_id, span_id=span.span_id, parent_id=span.parent_id,
            name=span_name(span), span_type=span_type(span),
        )

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass
