"""The adapter for OpenTelemetry (the API with the SDK): a span made current by
``tracer.start_as_current_span(name)`` held across a yield.

"Current" is the current context's span: ``current_state()`` reports its trace and span ids
(hex), as the recorder's events carry them. The recorder is a ``SpanProcessor`` on the SDK's
``TracerProvider``: the span the held block opens (marked with the ``HELD_ATTRIBUTE``) is the
run's trace (``trace_start``/``trace_end`` under its OpenTelemetry trace id), and so is
pydantic-ai's agent run span (``ctxreset.libraries.pydantic_ai``); every other span of these
two tracers is a span. Spans of other instrumentation (FastAPI traces its requests through the
global provider, so the held span is the child of its request span there) are not the
library's doing and are left to the in-memory exporter. Alongside it an
``InMemorySpanExporter`` (behind a ``SimpleSpanProcessor``) keeps every finished span: no
exporter that leaves the process is ever configured. The provider is this process's global one,
set once.

A foreign detach does not raise here: ``opentelemetry.context.detach`` logs "Failed to detach
context" at ERROR (with the ValueError), which the cell's error sink counts.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any, Optional

from ctxreset.contract import HeldPoints, Recording
from ctxreset.libraries.held_only import HeldOnlyLibrary
from ctxreset.libraries.recorder import RecordingProcessor
from ctxreset.probe import CurrentState
from ctxreset.repro.held import UserStream

TRACER_NAME = "ctxreset"
HELD_ATTRIBUTE = "ctxreset.held"
"""Set on the spans the held block opens (the run's own), so the recorder tells them apart."""
PYDANTIC_AI_SCOPE = "pydantic-ai"
PYDANTIC_AI_RUN = "invoke_agent "
"""pydantic-ai's agent run span is ``invoke_agent <agent name>``; the adapter names the agent
after the run, so the span is the run's trace."""
RECORDER: list[RecordingProcessor] = [RecordingProcessor()]


def _hex_ids(span: Any) -> tuple[Optional[str], Optional[str]]:
    context = span.get_span_context()
    if not context.is_valid:
        return None, None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class _RecordingSpanProcessor:
    """A ``SpanProcessor``: each span's start and end, as ``TraceEvent``s, into RECORDER."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self._record(span, "start")

    def on_end(self, span: Any) -> None:
        self._record(span, "end")

    def _record(self, span: Any, what: str) -> None:
        scope = getattr(span, "instrumentation_scope", None)
        if scope is None or scope.name not in (TRACER_NAME, PYDANTIC_AI_SCOPE):
            return
        trace_id, span_id = _hex_ids(span)
        parent = span.parent
        parent_id = None if parent is None else format(parent.span_id, "016x")
        as_span = dict(span_id=span_id, parent_id=parent_id, name=span.name, span_type="custom")
        if (span.attributes or {}).get(HELD_ATTRIBUTE):
            RECORDER[0].add(f"trace_{what}", trace_id or "?", name=span.name)
        elif scope.name == PYDANTIC_AI_SCOPE and span.name.startswith(PYDANTIC_AI_RUN):
            # the run's trace, and a span its children (model requests) hang from: the span
            # ends before the trace does
            run = span.name[len(PYDANTIC_AI_RUN):]
            if what == "start":
                RECORDER[0].add("trace_start", trace_id or "?", name=run)
            RECORDER[0].add(f"span_{what}", trace_id or "?", **as_span)
            if what == "end":
                RECORDER[0].add("trace_end", trace_id or "?", name=run)
        else:
            RECORDER[0].add(f"span_{what}", trace_id or "?", **as_span)

    def _on_ending(self, span: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _tracer() -> Any:
    from opentelemetry import trace

    return trace.get_tracer(TRACER_NAME)


class OTelBlock:
    """``tracer.start_as_current_span(name)``, and its parts: ``start_span``, ``attach`` /
    ``detach`` of a context holding it, ``span.end()``."""

    @classmethod
    def open(cls, name: str) -> Any:
        return _tracer().start_as_current_span(name, attributes={HELD_ATTRIBUTE: True})

    @classmethod
    def start(cls, name: str) -> Any:
        return _tracer().start_span(name, attributes={HELD_ATTRIBUTE: True})

    @classmethod
    def make_current(cls, thing: Any) -> Any:
        from opentelemetry import context, trace

        return context.attach(trace.set_span_in_context(thing))

    @classmethod
    def restore(cls, token: Any) -> None:
        from opentelemetry import context

        context.detach(token)

    @classmethod
    def end(cls, thing: Any) -> None:
        thing.end()


EXPORTERS: list[Any] = []
"""The in-memory exporter behind the global provider (once it is installed)."""


def install_provider() -> Any:
    """The SDK's ``TracerProvider`` with the recorder and an ``InMemorySpanExporter``, made
    this process's global provider once (OpenTelemetry allows setting it only once)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    if not EXPORTERS:
        provider = TracerProvider()
        provider.add_span_processor(_RecordingSpanProcessor())
        EXPORTERS.append(InMemorySpanExporter())
        provider.add_span_processor(SimpleSpanProcessor(EXPORTERS[0]))
        trace.set_tracer_provider(provider)
    return provider


def start_recording() -> Recording:
    """A fresh recorder for the spans to come; the exporter emptied."""
    EXPORTERS[0].clear()
    RECORDER[0] = RecordingProcessor()
    return RECORDER[0]


def current_state() -> CurrentState:
    """The current OpenTelemetry span's trace and span ids (hex), or none."""
    from opentelemetry import trace

    trace_id, span_id = _hex_ids(trace.get_current_span())
    return CurrentState(trace_id, span_id)


class OTelLibrary(HeldOnlyLibrary):
    def __init__(self) -> None:
        self.name = "opentelemetry-sdk"
        self.version = metadata.version("opentelemetry-sdk")
        self.held_points = HeldPoints(block=OTelBlock, stream=UserStream)
        install_provider()

    def start_recording(self) -> Recording:
        return start_recording()

    def current_state(self) -> CurrentState:
        return current_state()

    def current_trace_name(self) -> Optional[str]:
        from opentelemetry import trace

        span = trace.get_current_span()
        if not span.get_span_context().is_valid:
            return None
        name = getattr(span, "name", None)
        return None if name is None else str(name)
