"""The scenarios, in the order the report lists them.

Each module has one ``async def scenario(library, probe)`` and a docstring naming the
real-world usage it stands for. The names are the ones ``matrix.yaml`` uses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import ModuleType

from harness.probe import Probe
from harness.targets import Library
from repro.scenarios import (
    cancelled_consumer,
    concurrent_runs,
    consumer_spans,
    early_break,
    model_error,
    other_task,
    other_thread,
    same_task,
    sequential_runs,
    server_concurrent,
    server_disconnect,
    server_stream,
    streaming_response,
)

ScenarioFn = Callable[[Library, Probe], Awaitable[None]]

SCENARIOS: dict[str, ModuleType] = {
    "same_task": same_task,
    "other_task": other_task,
    "streaming_response": streaming_response,
    "early_break": early_break,
    "cancelled_consumer": cancelled_consumer,
    "model_error": model_error,
    "sequential_runs": sequential_runs,
    "concurrent_runs": concurrent_runs,
    "consumer_spans": consumer_spans,
    "other_thread": other_thread,
    "server_stream": server_stream,
    "server_disconnect": server_disconnect,
    "server_concurrent": server_concurrent,
}


def get_scenario(name: str) -> ScenarioFn:
    try:
        return SCENARIOS[name].scenario  # type: ignore[no-any-return]
    except KeyError:
        allowed = ", ".join(SCENARIOS)
        raise ValueError(f"unknown scenario {name!r}; allowed: {allowed}") from None
