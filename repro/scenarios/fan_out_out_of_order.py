"""One caller task starts three runs, then reads the answers in the order they come back,
not the order they were asked: the second, then the third, then the first, one task each.

Stands for fan-out (ask three agents, stream each answer as it is ready). Each reader copies
the caller's Context after all three runs have started; once its run's reading is over it
must show what was current when that run started, as a stack unwinds: the second run's
reader the first run's trace (still unread), not nothing and not the third run's.
"""

from ctxreset.repro.consumer import Placement, consume, let_go, start_runs

from ctxreset.contract import Library
from ctxreset.probe import Probe

RUNS = 3
READING_ORDER = (1, 2, 0)


async def scenario(library: Library, probe: Probe, place: Placement) -> None:
    runs = start_runs(library, probe, RUNS)
    for index in READING_ORDER:
        await place.run(consume(library, probe, runs[index]))
        await let_go(library, probe, runs[index])
