"""The adapter for openai-agents, at whatever release is installed."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from importlib import metadata
from typing import Any, Optional

from ctxreset.contract import HeldPoints, PatchPoints
from ctxreset.libraries.scoped import ScopedTraceBlock, ScopedTraceLibrary
from ctxreset.probe import ConsumerSpan, RunRecord
from ctxreset.repro.held import UserStream


class AgentsBlock(ScopedTraceBlock):
    """``with agents.trace(name):`` held across a yield (the held shape of 0.19/0.20)."""

    @staticmethod
    def block(name: str) -> AbstractContextManager[Any]:
        import agents

        context: AbstractContextManager[Any] = agents.trace(name)
        return context

    @staticmethod
    def new_trace(name: str) -> Any:
        import agents

        return agents.trace(name)


class AgentsLibrary(ScopedTraceLibrary):
    model_spans = True

    def __init__(self) -> None:
        import agents
        import agents.result
        import agents.run
        import agents.tracing.scope

        self._agents = agents
        self.name = "openai-agents"
        self.version = metadata.version("openai-agents")
        result_cls = agents.result.RunResultStreaming
        fields = getattr(result_cls, "__dataclass_fields__", {})
        self.points = PatchPoints(
            scope=agents.tracing.scope.Scope,
            runner=agents.run.Runner,
            streaming_result=result_cls,
            trace_attr="_trace" if "_trace" in fields else "trace",
            # 0.0.x keeps the run's task as ``_run_impl_task``; later releases ``run_loop_task``.
            run_task_attr="_run_impl_task" if "_run_impl_task" in fields else "run_loop_task",
        )
        AgentsBlock.scope = agents.tracing.scope.Scope
        self.held_points = HeldPoints(block=AgentsBlock, stream=UserStream)

    def run_task(self, result: Any) -> Optional[asyncio.Task[Any]]:
        # 0.0.x keeps it as ``_run_impl_task``; later releases renamed it ``run_loop_task``.
        task = getattr(result, "run_loop_task", None)
        return task if task is not None else getattr(result, "_run_impl_task", None)

    def set_processors(self, processors: list[Any]) -> None:
        self._agents.set_trace_processors(processors)  # replaces the default OpenAI exporter

    def start_run(self, run: RunRecord) -> Any:
        agent, config, turns = self._setup(run)
        return self._agents.Runner.run_streamed(
            agent, "Say something.", run_config=config, **turns
        )

    async def run_to_completion(self, run: RunRecord) -> Any:
        agent, config, turns = self._setup(run)
        result = await self._agents.Runner.run(
            agent, "Say something.", run_config=config, **turns
        )
        return result.final_output

    def _setup(self, run: RunRecord) -> tuple[Any, Any, dict[str, Any]]:
        """The starting agent (its tools, handoffs and guardrails from the script), the run
        config and the ``max_turns`` argument, all around one fake model."""
        from ctxreset.repro.agents_setup import build_agent
        from ctxreset.repro.fake_model import FakeModelProvider, FakeStreamingModel

        model = FakeStreamingModel(run.script)
        agent = build_agent(self._agents, run, model)
        config = self._agents.RunConfig(
            workflow_name=run.workflow_name, model_provider=FakeModelProvider(model)
        )
        turns = {} if run.script.max_turns is None else {"max_turns": run.script.max_turns}
        return agent, config, turns

    def enclosing_trace(self, name: str) -> AbstractContextManager[Any]:
        context: AbstractContextManager[Any] = self._agents.trace(name)
        return context

    def error_class(self, kind: str) -> type[BaseException]:
        from agents import exceptions

        classes: dict[str, type[BaseException]] = {
            "max_turns": exceptions.MaxTurnsExceeded,
            "input_tripwire": exceptions.InputGuardrailTripwireTriggered,
            "output_tripwire": exceptions.OutputGuardrailTripwireTriggered,
        }
        return classes[kind]

    def delta_text(self, event: Any) -> Optional[str]:
        data: Any = getattr(event, "data", None)
        if getattr(event, "type", None) == "raw_response_event" and (
            getattr(data, "type", None) == "response.output_text.delta"
        ):
            return str(data.delta)
        return None

    def custom_span(self, name: str) -> AbstractContextManager[Any]:
        span: AbstractContextManager[Any] = self._agents.custom_span(name)
        return span

    def consumer_span(self, name: str, span: Any) -> ConsumerSpan:
        from agents.tracing.spans import NoOpSpan

        if isinstance(span, NoOpSpan):
            return ConsumerSpan(name, None, None)
        return ConsumerSpan(name, span.trace_id, span.span_id)
