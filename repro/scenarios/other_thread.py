"""The consumer runs on another thread's event loop (``run_coroutine_threadsafe``).

Stands for sync frameworks and background workers that bridge into a loop of their own. The
consumer's Context is a copy of the caller's made on the other thread, so the trace's Token,
created in the caller's Context, is reset in a Context that did not create it.

The consumer starts only once the run task has queued every event. The result's
``asyncio.Queue`` is not thread-safe: a consumer that found it empty would wait on a future of
the wrong loop (Python 3.9 raises "attached to a different loop"; later versions never wake it
up), and whether it finds it empty would depend on thread scheduling. That is a separate bug;
waiting first keeps this scenario about the Context alone, and deterministic.
"""

import asyncio
import threading

from ctxreset.repro.consumer import consume

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe) -> None:
    other_loop = asyncio.new_event_loop()  # a plain loop of its own, in another thread
    other_loop.set_exception_handler(asyncio.get_running_loop().get_exception_handler())
    thread = threading.Thread(target=other_loop.run_forever, name="other-loop", daemon=True)
    thread.start()
    try:
        run = probe.new_run()
        run.result = library.start_run(run)
        await library.wait_for_run_task(run.result)
        future = asyncio.run_coroutine_threadsafe(consume(library, probe, run), other_loop)
        await asyncio.wrap_future(future)
    finally:
        other_loop.call_soon_threadsafe(other_loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, thread.join, 5)
        other_loop.close()
