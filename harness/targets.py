"""The libraries under test, behind one small interface the scenarios and fixes share.

``minimal`` is the stdlib model in ``repro.minimal``; the ``openai-agents`` target is the real
package at whatever version is installed. Scenarios never touch a library directly, so one
scenario runs unchanged against both; fixes patch the same named points in either.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Optional

from harness.probe import ConsumerSpan, RunRecord
from harness.recorder import RecordingProcessor


class Unsupported(RuntimeError):
    """The library has no such feature (the stdlib model has no tools, handoffs, guardrails)."""


@dataclass(frozen=True)
class PatchPoints:
    """Where a fix may patch: the same shape in the stdlib model and in openai-agents."""

    scope: type
    """Class with get/set/reset_current_trace and get/set/reset_current_span classmethods."""
    runner: type
    """Class with the ``run_streamed`` and ``_run_streamed_impl`` classmethods."""
    streaming_result: type
    """Class with the ``stream_events`` async generator method."""
    trace_attr: str
    """Attribute of the streaming result holding the run's trace."""


class Library(abc.ABC):
    """One library under test."""

    name: str
    version: str
    points: PatchPoints
    model_spans = False
    """Whether a run records a span per model call (openai-agents' response spans)."""

    @property
    def target_label(self) -> str:
        return self.name if self.name == "minimal" else f"{self.name}=={self.version}"

    @abc.abstractmethod
    def install_recorder(self, recorder: RecordingProcessor) -> None:
        """Make ``recorder`` the only trace processor."""

    @abc.abstractmethod
    def start_run(self, run: RunRecord) -> Any:
        """Call the library's streamed run from the current task; return its result object."""

    async def run_to_completion(self, run: RunRecord) -> Any:
        """The library's non-streamed run (``Runner.run``) of ``run``'s script; its output."""
        raise Unsupported(f"{self.target_label} has no non-streamed run")

    @abc.abstractmethod
    def enclosing_trace(self, name: str) -> AbstractContextManager[Any]:
        """A trace opened by user code around the run (``with trace(name):``)."""

    def error_class(self, kind: str) -> type:
        """The exception the library raises to the consumer for ``kind``: ``max_turns``
        (turns exceeded), ``input_tripwire`` or ``output_tripwire`` (a guardrail tripped)."""
        raise Unsupported(f"{self.target_label} has no {kind} error")

    def stream_events(self, result: Any) -> AsyncIterator[Any]:
        return result.stream_events()  # the library's own generator, never wrapped

    def run_task(self, result: Any) -> Optional[asyncio.Task[Any]]:
        """The background task that drives the run and queues its events."""
        return result._run_impl_task

    async def wait_for_run_task(self, result: Any) -> None:
        """Until the run's background task has finished, so every event is queued."""
        task = self.run_task(result)
        if task is None:
            raise RuntimeError(f"{self.target_label}: the streamed result has no run task")
        await asyncio.wait({task})

    @abc.abstractmethod
    def delta_text(self, event: Any) -> Optional[str]:
        """The text delta an event carries, or None for other events."""

    def final_output(self, result: Any) -> Any:
        return result.final_output

    @abc.abstractmethod
    def custom_span(self, name: str) -> AbstractContextManager[Any]:
        """Open a span under whatever is current, as user code would."""

    @abc.abstractmethod
    def consumer_span(self, name: str, span: Any) -> ConsumerSpan:
        """Describe a span that ``custom_span`` handed out (no ids when it was a no-op)."""

    def current_trace_id(self) -> Optional[str]:
        trace = self.points.scope.get_current_trace()
        return None if trace is None else str(trace.trace_id)

    def current_trace_name(self) -> Optional[str]:
        trace = self.points.scope.get_current_trace()
        return None if trace is None else str(trace.name)

    def current_span_id(self) -> Optional[str]:
        span = self.points.scope.get_current_span()
        return None if span is None else str(span.span_id)


class MinimalLibrary(Library):
    def __init__(self) -> None:
        from repro import minimal

        self._minimal = minimal
        self.name = "minimal"
        self.version = "stdlib"
        self.points = PatchPoints(
            scope=minimal.Scope,
            runner=minimal.Runner,
            streaming_result=minimal.RunResultStreaming,
            trace_attr="_trace",
        )

    def install_recorder(self, recorder: RecordingProcessor) -> None:
        self._minimal.processors[:] = [recorder]

    def start_run(self, run: RunRecord) -> Any:
        if run.script.uses_agent_features:
            raise Unsupported("the stdlib model has no tools, handoffs, guardrails or max_turns")
        return self._minimal.Runner.run_streamed(
            run.agent_name, run.script.stream(), run.workflow_name
        )

    def enclosing_trace(self, name: str) -> AbstractContextManager[Any]:
        return self._minimal.trace(name)

    def delta_text(self, event: Any) -> Optional[str]:
        return event if isinstance(event, str) else None

    def custom_span(self, name: str) -> AbstractContextManager[Any]:
        return self._minimal.custom_span(name)

    def consumer_span(self, name: str, span: Any) -> ConsumerSpan:
        if span is None:
            return ConsumerSpan(name, None, None)
        return ConsumerSpan(name, span.trace_id, span.span_id)


class AgentsLibrary(Library):
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
        )

    def run_task(self, result: Any) -> Optional[asyncio.Task[Any]]:
        # 0.0.x keeps it as ``_run_impl_task``; later releases renamed it ``run_loop_task``.
        task = getattr(result, "run_loop_task", None)
        return task if task is not None else getattr(result, "_run_impl_task", None)

    def install_recorder(self, recorder: RecordingProcessor) -> None:
        self._agents.set_trace_processors([recorder])  # replaces the default OpenAI exporter

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
        from repro.agents_setup import build_agent
        from repro.fake_model import FakeModelProvider, FakeStreamingModel

        model = FakeStreamingModel(run.script)
        agent = build_agent(self._agents, run, model)
        config = self._agents.RunConfig(
            workflow_name=run.workflow_name, model_provider=FakeModelProvider(model)
        )
        turns = {} if run.script.max_turns is None else {"max_turns": run.script.max_turns}
        return agent, config, turns

    def enclosing_trace(self, name: str) -> AbstractContextManager[Any]:
        return self._agents.trace(name)  # type: ignore[no-any-return]

    def error_class(self, kind: str) -> type:
        from agents import exceptions

        classes = {"max_turns": exceptions.MaxTurnsExceeded,
                   "input_tripwire": exceptions.InputGuardrailTripwireTriggered,
                   "output_tripwire": exceptions.OutputGuardrailTripwireTriggered}
        return classes[kind]

    def delta_text(self, event: Any) -> Optional[str]:
        data = getattr(event, "data", None)
        if getattr(event, "type", None) == "raw_response_event" and (
            getattr(data, "type", None) == "response.output_text.delta"
        ):
            return str(data.delta)
        return None

    def custom_span(self, name: str) -> AbstractContextManager[Any]:
        return self._agents.custom_span(name)

    def consumer_span(self, name: str, span: Any) -> ConsumerSpan:
        from agents.tracing.spans import NoOpSpan

        if isinstance(span, NoOpSpan):
            return ConsumerSpan(name, None, None)
        return ConsumerSpan(name, span.trace_id, span.span_id)


def installed_agents_version() -> Optional[str]:
    try:
        return metadata.version("openai-agents")
    except metadata.PackageNotFoundError:
        return None


def load_library(name: str) -> Library:
    """``minimal`` or ``openai-agents`` (the installed release)."""
    if name == "minimal":
        return MinimalLibrary()
    if name == "openai-agents":
        return AgentsLibrary()
    raise ValueError(f"unknown library {name!r}; allowed: minimal, openai-agents")
