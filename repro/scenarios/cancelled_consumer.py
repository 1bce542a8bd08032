"""The consumer task is cancelled mid-stream, while it waits for the next event.

Stands for a client disconnect or a request timeout cancelling the response task. The model
pauses after two deltas so the cancellation always lands inside ``stream_events()``'s wait.
"""

import asyncio

from ctxreset.repro.consumer import consume
from ctxreset.repro.model_script import ModelScript

from ctxreset.contract import Library
from ctxreset.probe import Probe


async def scenario(library: Library, probe: Probe) -> None:
    run = probe.new_run(ModelScript(pause_after=2))
    run.result = library.start_run(run)
    consumer = asyncio.create_task(consume(library, probe, run))
    while len(run.texts) < 2 and not consumer.done():
        await asyncio.sleep(0)
    for _ in range(3):  # the consumer is now parked waiting for the third delta
        await asyncio.sleep(0)
    consumer.cancel()
    await asyncio.gather(consumer, return_exceptions=True)
