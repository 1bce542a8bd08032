"""The adapter for ``minimal``: the stdlib model in ``ctxreset.repro.minimal``."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from typing import Any, Optional

from ctxreset.contract import HeldPoints, PatchPoints, Unsupported
from ctxreset.libraries.scoped import ScopedTraceBlock, ScopedTraceLibrary
from ctxreset.probe import ConsumerSpan, RunRecord
from ctxreset.repro import minimal
from ctxreset.repro.held import UserStream


class MinimalBlock(ScopedTraceBlock):
    """``with minimal.trace(name):`` held across a yield."""

    scope = minimal.Scope

    @staticmethod
    def new_trace(name: str) -> Any:
        return minimal.Trace(name)

    @staticmethod
    def block(name: str) -> AbstractContextManager[Any]:
        return minimal.trace(name)


class MinimalLibrary(ScopedTraceLibrary):
    def __init__(self) -> None:
        self.name = "minimal"
        self.version = "stdlib"
        self.points = PatchPoints(
            scope=minimal.Scope,
            runner=minimal.Runner,
            streaming_result=minimal.RunResultStreaming,
            trace_attr="_trace",
        )
        self.held_points = HeldPoints(block=MinimalBlock, stream=UserStream)

    def set_processors(self, processors: list[Any]) -> None:
        minimal.processors[:] = processors

    def start_run(self, run: RunRecord) -> Any:
        if run.script.uses_agent_features:
            raise Unsupported("the stdlib model has no tools, handoffs, guardrails or max_turns")
        return minimal.Runner.run_streamed(run.agent_name, run.script.stream(), run.workflow_name)

    def run_task(self, result: Any) -> Optional[asyncio.Task[Any]]:
        task: Optional[asyncio.Task[Any]] = result._run_impl_task
        return task

    def enclosing_trace(self, name: str) -> AbstractContextManager[Any]:
        return minimal.trace(name)

    def delta_text(self, event: Any) -> Optional[str]:
        return event if isinstance(event, str) else None

    def custom_span(self, name: str) -> AbstractContextManager[Any]:
        return minimal.custom_span(name)

    def consumer_span(self, name: str, span: Any) -> ConsumerSpan:
        if span is None:
            return ConsumerSpan(name, None, None)
        return ConsumerSpan(name, span.trace_id, span.span_id)
