"""``owned_trace``, deciding the proven conflict the other way: the tasks a reader spawned
while reading hold the run's trace open until they finish.

Strategy: everything ``owned_trace`` does (its docstring), and one thing more. When a stream
is read to its end in the reader's own Context, ``owned_trace`` resets the reader's entry
there and leaves it to the tasks the reader spawned while reading, but ends the trace anyway:
a span such a task opens later lands in an ended trace. Here the owner also looks for those
tasks, the loop's pending tasks whose Context shows that entry, and ends the trace only once
each of them has finished; it looks again then, for tasks they spawned in turn. So late work
of a reader (a save that waits for a pool, then traces its write) closes its span inside an
open trace.

Patches: ``owned_trace``'s. It also reads each pending task's Context: ``Task.get_context()``
from Python 3.12; before that there is no public accessor, and the fix takes the Context the
task holds from ``gc.get_referents``.

Upstream API: as ``owned_trace``, and a trace's end that waits for the tasks its reader
spawned: upstream would have to say so, since such a task that lives on keeps the trace open.

Trade-off: a task the reader spawned that lives on (a keep-alive, a save stuck behind a
pool, a retry loop) keeps the trace open as long as it lives: ``stuck_background_task`` fails
released, where the unpatched library ends the trace at the end of the stream. That is the
other side of the proven conflict (``late_background_span`` and ``stuck_background_task``),
so this fix regresses where ``owned_trace`` falls short; it is here to show that side can be
had, and what it costs. A thread the reader started (``asyncio.to_thread``) is not a task and
is not waited for. Cost: ``owned_trace``'s, plus a scan of the loop's tasks when a stream is
read to its end: x1.24-1.28 per same-task streamed run in ``nox -s bench`` (owned_trace
x1.09-1.10 beside it), 50-60 us a run even with two tasks pending, since
``asyncio.all_tasks()`` walks every task object the process has not freed yet.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
from typing import Any, Optional

from ctxreset.fixes._revocable import Entry, stacked_on
from ctxreset.fixes.owned_trace import Ownership, patch

from ctxreset.contract import PatchPoints, Undo


class TasksHoldTrace(Ownership):
    """An owner that also waits for the tasks the reader left the trace to."""

    __slots__ = ("waiting",)

    def __init__(self, complete_attr: str, var: contextvars.ContextVar[Any]) -> None:
        super().__init__(complete_attr, var)
        self.waiting: set[asyncio.Task[Any]] = set()
        """Pending tasks whose Context shows the entry left to the reader's tasks."""

    def _reset_where_read(self) -> None:
        super()._reset_where_read()
        self._wait_for_tasks()

    def _wait_for_tasks(self) -> None:
        entry = self.left_to_copies
        if entry is None or self.finished:
            return
        try:
            tasks = asyncio.all_tasks()
        except RuntimeError:  # no loop runs here: no task can show the entry
            return
        here = asyncio.current_task()
        for task in tasks:
            if task is not here and task not in self.waiting and _shows(task, self.var, entry):
                self.waiting.add(task)
                task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.waiting.discard(task)
        if not self.waiting:
            self._wait_for_tasks()  # the tasks those tasks spawned in turn
            self.settle()

    def settle(self) -> None:
        if not self.waiting:
            super().settle()


def _context_of(task: asyncio.Task[Any]) -> Optional[contextvars.Context]:
    get_context = getattr(task, "get_context", None)  # Python 3.12+
    if get_context is not None:
        context: contextvars.Context = get_context()
        return context
    for referent in gc.get_referents(task):
        if type(referent) is contextvars.Context:
            return referent
    return None


def _shows(task: asyncio.Task[Any], var: contextvars.ContextVar[Any], entry: Entry) -> bool:
    """Whether ``task``'s Context shows ``entry``, or something pushed over it."""
    context = _context_of(task)
    return context is not None and stacked_on(context.get(var, None), entry)


def apply(points: PatchPoints) -> Undo:
    return patch(points, TasksHoldTrace)
