"""The consumer runs on another thread's event loop (``run_coroutine_threadsafe``).

Stands for sync frameworks and background workers that bridge into a loop of their own. The
result's queue belongs to the caller's loop, so the consumer waits on it from the other loop.
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
        await asyncio.wrap_future(future)
    finally:
        other_loop.call_soon_threadsafe(other_loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, thread.join, 5)
        other_loop.close()
