"""Settings from the environment and the command line, checked before anything runs.

Each parser returns the value or raises ``SettingError`` with one line naming the setting,
the bad value and what is allowed; every entry point prints it and exits 2.
"""

from __future__ import annotations

import math
import os
from typing import Optional


class SettingError(ValueError):
    """A bad setting; the message is one line."""


def positive_seconds(name: str, text: str) -> float:
    """A finite number of seconds > 0 (``-1``, ``0``, ``nan`` and ``inf`` would turn every cell
    into a timeout or a hang)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise SettingError(f"{name}: bad value {text!r}; allowed: a number of seconds > 0, "
                           "such as 10")
    return value


def cell_timeout_from_env() -> Optional[float]:
    """``CTXRESET_CELL_TIMEOUT`` if set (checked), else None."""
    text = os.environ.get("CTXRESET_CELL_TIMEOUT")
    return positive_seconds("CTXRESET_CELL_TIMEOUT", text) if text else None


def whole_number(name: str, text: str, minimum: int = 1) -> int:
    """A whole number >= ``minimum``."""
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise SettingError(f"{name}: bad value {text!r}; allowed: a whole number >= {minimum}")
    return value
