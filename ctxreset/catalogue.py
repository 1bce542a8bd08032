"""The names matrix.yaml may use, as plain data: properties, loops, scenarios and fixes.

The matrix loader validates matrix.yaml against these names without importing a scenario, a
fix or a library (so a scenario may import fastapi or httpx at module level, and nox, tox and
the report load nothing they do not need). The modules are found by name, lazily:
scenario ``<name>`` is ``ctxreset.repro.scenarios.<name>`` (``get_scenario``), fix ``<name>``
is ``ctxreset.fixes.<name>`` (``get_fix``). A test checks that every name here has its module
and every loop its factory.
"""

from __future__ import annotations

from typing import NamedTuple

from ctxreset import settings

PROPERTIES = (
    "no-error",
    "trace-ended-once",
    "spans-closed",
    "no-leak",
    "isolated",
    "consumer-spans-attached",
    "output-intact",
    "spans-filed",
    "released",
)
"""What the checker judges in every cell (ctxreset.run.checker says what each means)."""

SHORT_NAMES = {
    "no-error": "error",
    "trace-ended-once": "trace-end",
    "spans-closed": "spans",
    "no-leak": "leak",
    "isolated": "isolation",
    "consumer-spans-attached": "consumer-spans",
    "output-intact": "output",
    "spans-filed": "filing",
    "released": "held-open",
}
"""How tables and reports name a failing property in a narrow cell."""

LIBRARIES = ("openai-agents", "sentry-sdk", "opentelemetry-sdk", "pydantic-ai-slim")
"""The distributions a target may install (each has an adapter in ctxreset.libraries)."""

LOOPS = ("asyncio", "asyncio-eager", "uvloop", "rloop")
"""Event loops a cell can run on (ctxreset.run.loops has a factory for each)."""

ONE_TASK_SUFFIX = "_one_task"
"""``<scenario>_one_task`` is ``<scenario>``'s usage with the consumer in the caller's task."""

BASIC = (
    "same_task", "other_task", "streaming_response", "early_break", "cancelled_consumer",
    "model_error", "sequential_runs", "concurrent_runs", "consumer_spans", "other_thread",
    "server_stream", "server_disconnect", "server_concurrent",
)
"""The first catalogue: one single-turn text stream, one consumer, ``scenario(library, probe)``."""

HELD = ("held_aclose", "held_break_gc", "held_cancelled", "held_interrupted",
        "held_usage_limit", "held_server_disconnect", "held_aclosing")
"""The held-across-a-yield shape (``repro.held``): a library's block held open over the yields
of an async generator that something else closes; ``held_aclosing`` is the control (closed in
its owner), which every library and fix must pass. Each names where the block is entered and
left itself, so none has a ``_one_task`` reference."""

HELD_FIXES = ("held_tolerate", "held_finish_without_reset", "held_private_context",
              "held_activate_per_step")
"""Candidate fixes for the held shape (``SHAPE = "held"``: they patch ``HeldPoints``).
Closing in the owner is the ``held_aclosing`` control, done by the user, not a patch."""

INTERPOSITION = "interposition"
"""The benchmark's reference that is not a fix (``ctxreset.bench.interposition``): what
patching in at the streamed points costs before any logic. No fix may take the name."""

INTERPOSITION_WRAPPERS = "pass-through wrappers at the points a streamed fix patches"
"""What the interposition reference times, in the words every place that shows it uses."""

FAMILIES: dict[str, tuple[str, ...]] = {
    "multi-turn": ("tool_call", "parallel_tools", "tool_error", "agent_as_tool", "max_turns"),
    "handoff": ("handoff",),
    "guardrails": ("guardrails", "slow_guardrail", "guardrail_trips", "output_guardrail_trips"),
    "enclosing trace": ("enclosing_trace",),
    "caller's own work": ("span_before_read", "side_task_before_read"),
    "consumer child tasks": ("child_task_spans", "background_spans", "thread_spans",
                             "taskgroup_spans", "wait_for_events", "timeout_block_events",
                             "race_disconnect"),
    "work that outlives the stream": ("late_background_span", "stuck_background_task"),
    "handover": ("handover_iterator", "handover_new_stream", "handover_after_done"),
    "timeouts": ("timeout_per_event", "timeout_whole"),
    "several runs": ("interleaved_runs", "concurrent_from_one_caller", "fan_out_out_of_order"),
    "lifetimes": ("never_iterated", "kept_reference", "handler_error"),
    "nested runs": ("nested_streamed", "nested_tool_run", "nested_from_caller"),
    "held across a yield": HELD,
}
"""The realistic-usage catalogue, by family: ``scenario(library, probe, place)``. Each also has
a ``_one_task`` reference, except where the usage has no consumer to place
(``ONLY_ONE_SHAPE``)."""

ONLY_ONE_SHAPE = frozenset({"never_iterated", *HELD})


class Conflict(NamedTuple):
    """Two scenarios that run the same code up to the point where a fix has to decide, and
    whose properties need opposite decisions there: no fix can pass both. The report checks
    the claim on every pair of cells that ran (``ctxreset.report.findings``); both scenarios
    take the snapshot ``repro.outliving.WINDOW_OVER`` where they part, and
    ``tests/library/test_conflict.py`` checks they recorded the same events before it."""

    first: str
    first_needs: tuple[str, ...]
    second: str
    second_needs: tuple[str, ...]
    decision: str
    """What a fix has to decide, and by when."""
    argument: str
    """Why no fix can decide it right for both."""


CONFLICTS = (
    Conflict(
        first="late_background_span", first_needs=("consumer-spans-attached", "spans-closed"),
        second="stuck_background_task", second_needs=("released",),
        decision="whether the run's trace has ended by the end of the let-go window, while a "
                 "task the consumer started is still waiting",
        argument="both run the same code until the let-go window is over (a save the "
                 "consumer started is still waiting for a pool); a fix decides from what has "
                 "happened, not from what will, so it decides the same in both. If the trace "
                 "has ended by then, the save that later runs in late_background_span opens "
                 "its span in an ended trace (spans-closed) or outside it "
                 "(consumer-spans-attached); if it has not, stuck_background_task's trace "
                 "outlives the window (released). A trace ends once, so it cannot be "
                 "reopened for the late span."),
)
"""Pairs of scenarios where any fix must break one or the other (each also holds for the
pair's ``_one_task`` references)."""


def _family_of() -> dict[str, str]:
    found = {name: "basic" for name in BASIC}
    for family, names in FAMILIES.items():
        for name in names:
            found[name] = family
            if name not in ONLY_ONE_SHAPE:
                found[name + ONE_TASK_SUFFIX] = family
    return found


FAMILY_OF: dict[str, str] = _family_of()
"""Every scenario name, in the order the report lists them, with its family."""

SCENARIOS = tuple(FAMILY_OF)

FIXES = ("none", "context_rerun", "safe_reset", "safe_reset_swallow", "streaming_trace",
         "revoke_on_reset", "owned_trace", "tasks_hold_trace", "upstream", *HELD_FIXES)
"""The candidate fixes, one module each in ctxreset.fixes."""

ANY_SHAPE_FIXES = ("none", "upstream")
"""Fixes that patch nothing, judged on both shapes."""


def judged_on(fix: str, scenario: str) -> bool:
    """Whether ``fix`` is judged on ``scenario``: a fix patches one shape's points (a held fix
    ``HeldPoints``, the others the streamed run's), so it is judged on that shape's scenarios
    only; ``none`` and ``upstream`` on every scenario."""
    if fix in ANY_SHAPE_FIXES:
        return True
    return (fix in HELD_FIXES) == (scenario in HELD)


FAULTS = ("crash_interpreter", "block_loop", "ignore_cancel")
"""Deliberately broken fixes for the harness's own fault tests (ctxreset.fixes.faults),
known only when CTXRESET_FAULTS=1."""


def fix_names() -> tuple[str, ...]:
    """The fixes matrix.yaml may name in this process."""
    return FIXES + (FAULTS if settings.faults_enabled() else ())
