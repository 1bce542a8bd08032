"""The adapter half shared by libraries measured only in the held-across-a-yield shape
(sentry-sdk, OpenTelemetry): they have no streamed agent run, so the streamed-run calls are
``Unsupported`` (matrix.yaml rules those scenarios out for their targets, with the reason)."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from typing import Any, Optional

from ctxreset.contract import Library, Unsupported
from ctxreset.probe import ConsumerSpan, RunRecord


class HeldOnlyLibrary(Library):
    """No ``points``: a streamed-run fix has nothing to patch here (``fixes.apply_to`` says so)."""

    def _no_run(self) -> Unsupported:
        return Unsupported(f"{self.label} has no streamed agent run, only the held shape")

    def start_run(self, run: RunRecord) -> Any:
        raise self._no_run()

    def enclosing_trace(self, name: str) -> AbstractContextManager[Any]:
        raise self._no_run()

    def run_task(self, result: Any) -> Optional[asyncio.Task[Any]]:
        return None

    def delta_text(self, event: Any) -> Optional[str]:
        return event if isinstance(event, str) else None

    def custom_span(self, name: str) -> AbstractContextManager[Any]:
        raise self._no_run()

    def consumer_span(self, name: str, span: Any) -> ConsumerSpan:
        raise self._no_run()
