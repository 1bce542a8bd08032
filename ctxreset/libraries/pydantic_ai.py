"""The adapter for pydantic-ai (``pydantic-ai-slim``): an agent's streamed run, instrumented
with OpenTelemetry, read as an async generator.

The held shape is the library's own here: with the ``Instrumentation`` capability, pydantic-ai
opens the agent run span (``invoke_agent <agent name>``) and attaches OpenTelemetry contexts
inside its own streams, held across their yields. The model is a ``FunctionModel`` streaming
the script's deltas (in-process, no network, no key); ``usage_limit`` becomes the run's
``UsageLimits(output_tokens_limit=...)``, the "interruption inside the library".

Spans go to the OpenTelemetry SDK's provider of ``ctxreset.libraries.otel`` (the recorder and
an in-memory exporter; nothing leaves the process); the agent run span is the run's trace.
"Current" is the current OpenTelemetry span, as for OpenTelemetry itself.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from importlib import metadata
from typing import Any, Callable, Optional

from ctxreset.contract import HeldBlock, HeldPoints, HeldWork, Recording
from ctxreset.libraries import otel
from ctxreset.libraries.held_only import HeldOnlyLibrary
from ctxreset.probe import CurrentState


class PydanticAIStream:
    """``async with agent.run_stream(...)`` read with ``stream_text(delta=True)``, re-yielded
    by the user's generator; the library holds its own spans and contexts (``block`` is not
    used: pydantic-ai opens its own)."""

    @classmethod
    async def stream(cls, block: type[HeldBlock], name: str, work: HeldWork,
                     closed: Callable[[], None], usage_limit: Optional[int] = None,
                     ) -> AsyncGenerator[str, None]:
        from pydantic_ai import Agent
        from pydantic_ai.capabilities.instrumentation import Instrumentation
        from pydantic_ai.models.function import FunctionModel
        from pydantic_ai.models.instrumented import InstrumentationSettings
        from pydantic_ai.usage import UsageLimits

        async def model(messages: Any, info: Any) -> AsyncIterator[str]:
            async for delta in work:
                yield delta

        settings = InstrumentationSettings(tracer_provider=otel.install_provider())
        agent = Agent(FunctionModel(stream_function=model), name=name,
                      capabilities=[Instrumentation(settings=settings)])
        limits = UsageLimits(output_tokens_limit=usage_limit)
        try:
            async with agent.run_stream("Say something.", usage_limits=limits) as result:
                async for delta in result.stream_text(delta=True, debounce_by=None):
                    yield delta
        finally:
            closed()


class PydanticAILibrary(HeldOnlyLibrary):
    def __init__(self) -> None:
        self.name = "pydantic-ai-slim"
        self.version = metadata.version("pydantic-ai-slim")
        self.held_points = HeldPoints(block=otel.OTelBlock, stream=PydanticAIStream)
        otel.install_provider()

    def start_recording(self) -> Recording:
        return otel.start_recording()

    def current_state(self) -> CurrentState:
        return otel.current_state()

    def current_trace_name(self) -> Optional[str]:
        from opentelemetry import trace

        span = trace.get_current_span()
        name = getattr(span, "name", None)
        if not span.get_span_context().is_valid or name is None:
            return None
        return str(name).removeprefix(otel.PYDANTIC_AI_RUN)

    def error_class(self, kind: str) -> type[BaseException]:
        if kind != "usage_limit":
            return super().error_class(kind)
        from pydantic_ai.exceptions import UsageLimitExceeded

        error: type[BaseException] = UsageLimitExceeded
        return error
