"""The scenarios: one module each, found by name (ctxreset.catalogue lists the names, their
order and their families).

Each module has one ``async def scenario(...)`` and a docstring naming the real-world usage
it stands for. The names are the ones ``matrix.yaml`` uses. A module is imported only when
its scenario runs, so it may import its own dependencies (fastapi, httpx) at module level.

The realistic-usage modules take a ``Placement`` too: ``<name>`` reads the stream in a task
of its own, the shape servers and workers produce; ``<name>_one_task`` is the same usage with
the consumer in the caller's task, the reference for what "right" means (the unpatched
library gets the Context right there; ``ctxreset.matrix.plan.reference_of`` pairs them).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable
from functools import partial
from typing import Callable

from ctxreset.repro.consumer import ELSEWHERE, ONE_TASK

from ctxreset.catalogue import FAMILY_OF, ONE_TASK_SUFFIX
from ctxreset.contract import Library
from ctxreset.probe import Probe

ScenarioFn = Callable[[Library, Probe], Awaitable[None]]


def get_scenario(name: str) -> ScenarioFn:
    """The scenario ``name`` as ``scenario(library, probe)``, its module imported now."""
    family = FAMILY_OF.get(name)
    if family is None:
        allowed = ", ".join(FAMILY_OF)
        raise ValueError(f"unknown scenario {name!r}; allowed: {allowed}")
    one_task = family != "basic" and name.endswith(ONE_TASK_SUFFIX)
    module_name = name[: -len(ONE_TASK_SUFFIX)] if one_task else name
    module = importlib.import_module(f"{__name__}.{module_name}")
    scenario: ScenarioFn = module.scenario
    if family == "basic":
        return scenario
    return partial(module.scenario, place=ONE_TASK if one_task else ELSEWHERE)
