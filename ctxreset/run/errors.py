"""Collects every error a run produces, including the ones that never reach the caller.

Sources: exceptions raised out of the scenario, ``logging`` records at ERROR or above, the
event loop's exception handler, ``sys.unraisablehook``, ``threading.excepthook``, and task
exceptions that nobody retrieved. Warnings logged at WARNING are kept as notes: evidence, not
failures.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from ctxreset.probe import describe


@dataclass(frozen=True)
class ErrorRecord:
    source: str  # raised, logging, loop-handler, unraisablehook, thread, unretrieved-task
    summary: str  # "ValueError: <Token ...> was created in a different Context"
    detail: str  # traceback text or log message

    def line(self) -> str:
        return f"[{self.source}] {self.summary}"


def _format(exc: Optional[BaseException]) -> str:
    if exc is None:
        return ""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class _LogHandler(logging.Handler):
    def __init__(self, sink: ErrorSink) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        message = f"{record.name}: {record.getMessage()}"
        if record.levelno < logging.ERROR:
            self.sink.notes.append(f"[logging {record.levelname}] {message}")
            return
        exc = record.exc_info[1] if record.exc_info else None
        summary = describe(exc) if exc else message
        self.sink.add("logging", summary, message + "\n" + _format(exc))


class ErrorSink:
    def __init__(self) -> None:
        self.errors: list[ErrorRecord] = []
        self.notes: list[str] = []
        self.tasks: list[asyncio.Task[Any]] = []
        self._lock = threading.Lock()

    def add(self, source: str, summary: str, detail: str = "") -> None:
        with self._lock:
            self.errors.append(ErrorRecord(source, summary, detail))

    def add_exception(self, source: str, exc: BaseException) -> None:
        self.add(source, describe(exc), _format(exc))

    def loop_exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        message = str(context.get("message", ""))
        summary = f"{describe(exc)} ({message})" if exc else message
        self.add("loop-handler", summary, message + "\n" + _format(exc))

    def task_factory(self, base: Any = None) -> Any:
        """A loop task factory that remembers every task, wrapping ``base`` if given."""

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
            if base is not None:
                task = base(loop, coro, **kwargs)
            else:
                task = asyncio.Task(coro, loop=loop, **kwargs)
            self.tasks.append(task)
            return task

        return factory

    def watch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.set_exception_handler(self.loop_exception_handler)
        loop.set_task_factory(self.task_factory(loop.get_task_factory()))

    def collect_unretrieved(self) -> None:
        """Record task exceptions nobody retrieved, now rather than whenever gc runs."""
        for task in self.tasks:
            if task.done() and not task.cancelled() and getattr(task, "_log_traceback", False):
                exc = task.exception()  # marks it retrieved: reported once, here
                if exc is not None:
                    self.add_exception("unretrieved-task", exc)

    def release(self, loop: asyncio.AbstractEventLoop) -> None:
        """After the cell: untie the closed ``loop`` from this sink (its task factory and
        exception handler) and forget the tasks. A loop the garbage collector cannot see into
        (rloop's) otherwise keeps the sink, and through it every task of its cell, alive for
        good: thousands per session, which ``asyncio.all_tasks()`` walks in every later cell."""
        loop.set_task_factory(None)
        loop.set_exception_handler(None)
        self.tasks.clear()

    @contextmanager
    def capturing(self) -> Iterator[ErrorSink]:
        """Route logging, unraisable and thread errors here for the duration."""
        handler = _LogHandler(self)
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(min(old_level or logging.WARNING, logging.WARNING))
        old_unraisable, old_thread_hook = sys.unraisablehook, threading.excepthook

        def unraisable(info: Any) -> None:
            self.add(
                "unraisablehook",
                f"{describe(info.exc_value)} ({info.err_msg or 'unraisable'})",
                _format(info.exc_value),
            )

        def thread_hook(args: Any) -> None:
            self.add_exception("thread", args.exc_value)

        sys.unraisablehook, threading.excepthook = unraisable, thread_hook
        try:
            yield self
        finally:
            sys.unraisablehook, threading.excepthook = old_unraisable, old_thread_hook
            root.removeHandler(handler)
            root.setLevel(old_level)
