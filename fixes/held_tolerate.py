"""Tolerate the foreign reset (the family sentry-sdk 2.42.1 shipped), for the held shape.

Strategy: leaving the library's block, a ``ValueError`` saying the token "was created in a
different Context" is caught and dropped (logged at DEBUG); every other error propagates.

Patches: ``HeldBlock.open`` (the library's ``with trace(...)`` / ``isolation_scope()`` /
``start_as_current_span(...)``), wrapping the block it returns. Upstream, the same change is
a ``try/except ValueError`` around each ``ContextVar.reset`` in the block's exit.

Trade-off: nothing raises, but nothing is restored either: the Context that entered the block
keeps what it made current (a leak: the next work there runs under a finished trace or a
stale scope). Where the library reports the failed reset by logging it (OpenTelemetry's
``detach``) rather than raising, there is nothing to catch. Where a block resets several
variables, the ones after the first failure are skipped (a per-reset catch upstream avoids it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ctxreset.fixes._held_patching import HeldPatches

from ctxreset.contract import HeldPoints, Undo

SHAPE = "held"
FOREIGN = "was created in a different Context"
logger = logging.getLogger("fixes.held_tolerate")


def apply(points: HeldPoints) -> Undo:
    patches = HeldPatches()
    original = patches.original(points.block, "open")

    @contextmanager
    def tolerant(name: str) -> Iterator[Any]:
        block = original(name)
        thing = block.__enter__()
        try:
            yield thing
        except BaseException as exc:
            _leave(block, exc)
            raise
        else:
            _leave(block, None)

    patches.replace(points.block, "open", tolerant)
    return patches.undo


def _leave(block: Any, exc: BaseException | None) -> None:
    try:
        if exc is None:
            block.__exit__(None, None, None)
        else:
            block.__exit__(type(exc), exc, exc.__traceback__)
    except ValueError as error:
        if FOREIGN not in str(error):
            raise
        logger.debug("block left in a foreign Context: %s", error)
