"""The event loops a cell can run on, as a small table of named factories.

``run_on_loop`` drives a coroutine the way ``asyncio.run`` does (cancel what is left, finalize
async generators, close; each step bounded, so a task that ignores cancellation cannot hang
the harness) on every supported Python, on a loop built by one of these factories,
so the harness, not a test runner, decides which Context and which loop a scenario gets.
"""

from __future__ import annotations

import asyncio
import collections
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class LoopUnavailable(RuntimeError):
    """The loop cannot run here (package missing, Python too old); the reason says which."""


def _asyncio_loop() -> asyncio.AbstractEventLoop:
    return asyncio.new_event_loop()


def _asyncio_eager_loop() -> asyncio.AbstractEventLoop:
    eager_task_factory = getattr(asyncio, "eager_task_factory", None)
    if eager_task_factory is None:  # matrix.yaml says which Pythons have it
        raise LoopUnavailable("this Python has no asyncio.eager_task_factory")
    loop = asyncio.new_event_loop()
    loop.set_task_factory(eager_task_factory)
    return loop


def _uvloop_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError as exc:
        raise LoopUnavailable(f"uvloop is not installed ({exc})") from exc
    return uvloop.new_event_loop()


def _rloop_loop() -> asyncio.AbstractEventLoop:
    try:
        import rloop
    except ImportError as exc:
        raise LoopUnavailable(f"rloop is not installed ({exc})") from exc

    class SelfPipeClosingRLoop(rloop.RLoop):
        """rloop (0.5.0) closes its self-pipe's file descriptors after every run but leaves
        the Python socket objects believing they own them: when collected, each warns
        (ResourceWarning, which the error sink would pin on the scenario) and closes its fd
        number again, which may by then belong to someone else. Detaching them keeps that
        loop bug out of every cell's verdict."""

        def _ssock_stop(self) -> None:
            sockets = (self._ssock_r, self._ssock_w)
            super()._ssock_stop()
            for sock in sockets:
                if sock is not None:
                    sock.detach()

    return SelfPipeClosingRLoop()


LOOP_FACTORIES: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": _asyncio_loop,
    "asyncio-eager": _asyncio_eager_loop,
    "uvloop": _uvloop_loop,
    "rloop": _rloop_loop,
}


class _ShuffledReady(collections.deque[Any]):
    """asyncio's ready queue, read in a seeded order.

    ``BaseEventLoop._run_once`` (CPython 3.9 to 3.13 alike) takes ``n = len(self._ready)``
    once timers and I/O have added theirs, then runs ``n`` callbacks from the left. Here that
    ``len`` is the moment a batch starts: the queue is shuffled with the loop's own
    ``random.Random(seed)``, and with probability ``DEFER`` only a random prefix of it is
    admitted this turn (the rest, a ``call_soon`` callback or an async generator's
    ``aclose`` task the gc finalizer queued, waits one or more turns while later arrivals may
    overtake it). Every other use of ``len`` (a truth test) sees the true length: a queue with
    something in it stays non-empty, so the loop never sleeps on a deferred callback.
    """

    DEFER = 0.25

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng
        self.turns = 0

    def __len__(self) -> int:
        size = super().__len__()
        if size > 1:
            self.turns += 1
            # popleft and extendleft only: a thread's call_soon_threadsafe appends on the right
            # meanwhile, and is neither lost nor reordered here (it joins the next batch)
            items = [self.popleft() for _ in range(size)]
            self.rng.shuffle(items)
            self.extendleft(reversed(items))
            if self.rng.random() < self.DEFER:
                return self.rng.randint(1, size)
        return size

    def __bool__(self) -> bool:
        return super().__len__() > 0


class SeededLoop(asyncio.SelectorEventLoop):
    """asyncio's own loop (every semantic but callback order is unchanged) whose ready
    callbacks run in an order drawn from ``random.Random(seed)``: the same seed gives the same
    interleaving wherever the program's inputs are the loop's own (tasks, futures, timers);
    real sockets and threads add the kernel's timing, which no seed fixes.

    Deliberately not FIFO: asyncio runs ``call_soon`` callbacks in the order they were
    scheduled, and a program may pass under that order only. This loop explores the orders a
    loop with more going on (another request's task ready first, a finalizer earlier, a slower
    consumer) produces: among the callbacks ready at once, any order, and any one of them may
    be held back a turn. Timers still fire no earlier than their deadline.
    """

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = seed
        self._ready: Any = _ShuffledReady(random.Random(seed))


def new_seeded_loop(seed: int) -> asyncio.AbstractEventLoop:
    """The ``seeded`` loop kind (``nox -s explore``): asyncio with a seeded callback order."""
    return SeededLoop(seed)


def new_loop(name: str) -> asyncio.AbstractEventLoop:
    try:
        factory = LOOP_FACTORIES[name]
    except KeyError:
        allowed = ", ".join(LOOP_FACTORIES)
        raise ValueError(f"unknown loop {name!r}; allowed: {allowed}") from None
    return factory()


CLEANUP_GRACE = 1.0
"""Seconds the loop's shutdown waits for cancelled tasks and async generators to finish."""


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:  # bounded: a task that ignores cancellation must not hang the harness
        loop.run_until_complete(asyncio.wait(pending, timeout=CLEANUP_GRACE))
    for task in pending:
        if not task.done():
            loop.call_exception_handler(
                {"message": f"task ignored cancellation at loop shutdown: {task!r}", "task": task}
            )
        elif not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during loop shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )


def run_on_loop(
    loop: asyncio.AbstractEventLoop, main: Callable[[], Awaitable[T]]
) -> T:
    """Run ``main()`` to completion on ``loop`` in the current Context, then close the loop."""
    try:
        asyncio.set_event_loop(loop)

        async def wrapper() -> T:
            return await main()

        return loop.run_until_complete(wrapper())
    finally:
        try:
            _cancel_remaining(loop)
            shutdown = loop.create_task(loop.shutdown_asyncgens())
            loop.run_until_complete(asyncio.wait({shutdown}, timeout=CLEANUP_GRACE))
        finally:
            asyncio.set_event_loop(None)
            loop.close()
