"""A cell leaves nothing of its own alive once it has run, on every loop: what one cell keeps,
every later cell of the session pays for (``asyncio.all_tasks()`` walks every task alive)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from ctxreset.libraries import load_library
from ctxreset.run.cell import run_cell
from ctxreset.run.loops import LOOP_FACTORIES


def _tasks_of_closed_loops() -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects()
               if isinstance(thing, asyncio.Task) and thing.get_loop().is_closed())


@pytest.mark.parametrize("loop", list(LOOP_FACTORIES))
def test_a_cell_keeps_none_of_its_tasks_alive(loop):
    library = load_library("minimal")
    before = _tasks_of_closed_loops()
    for _ in range(3):
        result = run_cell(library, "other_task", "none", loop, target="minimal")
        if result.status == "not run":
            pytest.skip(f"{loop}: {result.reason}")
        assert result.status == "checked", result.reason
    assert _tasks_of_closed_loops() == before
