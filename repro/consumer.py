"""The consumer side every scenario shares: iterate the library's stream and note what arrives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Optional

from harness.probe import ContextSnapshot, Probe, RunRecord
from harness.targets import Library


def snapshot(library: Library, probe: Probe, label: str) -> None:
    """Record the current trace and span as the calling task's Context sees them."""
    probe.snapshots.append(
        ContextSnapshot(label, library.current_trace_id(), library.current_span_id())
    )


async def deliver(
    library: Library,
    probe: Probe,
    run: RunRecord,
    *,
    stop_after: Optional[int] = None,
    open_spans: bool = False,
) -> AsyncIterator[str]:
    """Iterate ``run``'s stream in whichever task drives this generator; yield each text delta.

    ``stop_after`` text deltas: leave the stream early with ``break``. ``open_spans``: wrap the
    handling of each event in a ``custom_span``, as instrumented user code would. Errors are
    kept on the run (the checker decides whether they were expected); cancellation propagates.
    The consumer's Context is snapshotted when the stream is done with.
    """
    try:
        async for event in library.stream_events(run.result):
            run.events += 1
            if open_spans:
                name = f"consume-{run.index}-{run.events}"
                with library.custom_span(name) as span:
                    run.consumer_spans.append(library.consumer_span(name, span))
                    text = library.delta_text(event)
            else:
                text = library.delta_text(event)
            if text is None:
                continue
            run.texts.append(text)
            yield text
            if len(run.texts) == stop_after:
                break
        run.final_output = library.final_output(run.result)
    except asyncio.CancelledError as exc:
        run.consumer_error = exc
        raise
    except Exception as exc:
        run.consumer_error = exc
    finally:
        snapshot(library, probe, f"consumer of run {run.index}")


async def consume(
    library: Library,
    probe: Probe,
    run: RunRecord,
    *,
    stop_after: Optional[int] = None,
    open_spans: bool = False,
) -> None:
    """Drain ``deliver`` in the current task."""
    async for _text in deliver(library, probe, run, stop_after=stop_after, open_spans=open_spans):
        pass
