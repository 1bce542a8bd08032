"""The consumer runs on another thread's event loop (``run_coroutine_threadsafe``).

Stands for sync frameworks and background workers that bridge into a loop of their own. The
consumer's Context is a copy of the caller's made on the other thread.

The result's ``asyncio.Queue`` is not thread-safe: a ``put`` from the run task (caller's loop)
completes the consumer's waiter without waking the other loop, so an idle consumer loop would
sleep forever. That is a separate bug; here the caller keeps the other loop awake (as other
work on a real worker loop would), so this scenario tests the Context handling only.
"""

import asyncio
import threading

from harness.loops import new_loop
from harness.probe import Probe
from harness.targets import Library
from repro.consumer import consume


async def scenario(library: Library, probe: Probe) -> None:
    caller_loop = asyncio.get_running_loop()
    other_loop = new_loop("asyncio")
    other_loop.set_exception_handler(caller_loop.get_exception_handler())
    thread = threading.Thread(target=other_loop.run_forever, name="other-loop", daemon=True)
    thread.start()
    try:
        run = probe.new_run()
        run.result = library.start_run(run)
        future = asyncio.run_coroutine_threadsafe(consume(library, probe, run), other_loop)
        while not future.done():
            other_loop.call_soon_threadsafe(lambda: None)  # keep the other loop awake
            await asyncio.sleep(0.001)
        await asyncio.wrap_future(future)
    finally:
        other_loop.call_soon_threadsafe(other_loop.stop)
        await caller_loop.run_in_executor(None, thread.join, 5)
        other_loop.close()
