"""The scenarios, in the order the report lists them, and their families.

Each module has one ``async def scenario(...)`` and a docstring naming the real-world usage
it stands for. The names are the ones ``matrix.yaml`` uses.

The realistic-usage modules take a ``Placement`` too: ``<name>`` reads the stream in a task
of its own, the shape servers and workers produce; ``<name>_one_task`` is the same usage with
the consumer in the caller's task, the reference for what "right" means (the unpatched
library gets the Context right there; ``harness.plan.reference_of`` pairs them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from types import ModuleType

from harness.probe import ONE_TASK_SUFFIX, Probe
from harness.targets import Library
from repro.consumer import ELSEWHERE, ONE_TASK
from repro.scenarios import (
    agent_as_tool,
    cancelled_consumer,
    child_task_spans,
    concurrent_from_one_caller,
    concurrent_runs,
    consumer_spans,
    early_break,
    enclosing_trace,
    guardrail_trips,
    guardrails,
    handoff,
    handover_after_done,
    handover_iterator,
    handover_new_stream,
    interleaved_runs,
    kept_reference,
    max_turns,
    model_error,
    nested_from_caller,
    nested_streamed,
    nested_tool_run,
    never_iterated,
    other_task,
    other_thread,
    output_guardrail_trips,
    parallel_tools,
    race_disconnect,
    same_task,
    sequential_runs,
    server_concurrent,
    server_disconnect,
    server_stream,
    slow_guardrail,
    streaming_response,
    taskgroup_spans,
    timeout_block_events,
    timeout_per_event,
    timeout_whole,
    tool_call,
    tool_error,
    wait_for_events,
)

ScenarioFn = Callable[[Library, Probe], Awaitable[None]]

BASIC: dict[str, ModuleType] = {
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
"""The first catalogue: one single-turn text stream, one consumer, ``scenario(library, probe)``."""

FAMILIES: dict[str, dict[str, ModuleType]] = {
    "multi-turn": {
        "tool_call": tool_call, "parallel_tools": parallel_tools, "tool_error": tool_error,
        "agent_as_tool": agent_as_tool, "max_turns": max_turns,
    },
    "handoff": {"handoff": handoff},
    "guardrails": {
        "guardrails": guardrails, "slow_guardrail": slow_guardrail,
        "guardrail_trips": guardrail_trips, "output_guardrail_trips": output_guardrail_trips,
    },
    "enclosing trace": {"enclosing_trace": enclosing_trace},
    "consumer child tasks": {
        "child_task_spans": child_task_spans, "taskgroup_spans": taskgroup_spans,
        "wait_for_events": wait_for_events, "timeout_block_events": timeout_block_events,
        "race_disconnect": race_disconnect,
    },
    "handover": {
        "handover_iterator": handover_iterator, "handover_new_stream": handover_new_stream,
        "handover_after_done": handover_after_done,
    },
    "timeouts": {"timeout_per_event": timeout_per_event, "timeout_whole": timeout_whole},
    "several runs": {
        "interleaved_runs": interleaved_runs,
        "concurrent_from_one_caller": concurrent_from_one_caller,
    },
    "lifetimes": {"never_iterated": never_iterated, "kept_reference": kept_reference},
    "nested runs": {
        "nested_streamed": nested_streamed, "nested_tool_run": nested_tool_run,
        "nested_from_caller": nested_from_caller,
    },
}
"""The realistic-usage catalogue, by family; each also has a ``_one_task`` reference, except
where the usage has no consumer to place (``ONLY_ONE_SHAPE``)."""

ONLY_ONE_SHAPE = frozenset({"never_iterated"})

SCENARIOS: dict[str, ScenarioFn] = {name: module.scenario for name, module in BASIC.items()}
FAMILY_OF: dict[str, str] = {name: "basic" for name in BASIC}
for _family, _modules in FAMILIES.items():
    for _name, _module in _modules.items():
        SCENARIOS[_name] = partial(_module.scenario, place=ELSEWHERE)
        FAMILY_OF[_name] = _family
        if _name not in ONLY_ONE_SHAPE:
            SCENARIOS[_name + ONE_TASK_SUFFIX] = partial(_module.scenario, place=ONE_TASK)
            FAMILY_OF[_name + ONE_TASK_SUFFIX] = _family


def get_scenario(name: str) -> ScenarioFn:
    try:
        return SCENARIOS[name]
    except KeyError:
        allowed = ", ".join(SCENARIOS)
        raise ValueError(f"unknown scenario {name!r}; allowed: {allowed}") from None
