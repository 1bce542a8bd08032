"""Every ``CTXRESET_*`` environment variable, parsed and checked here, and nowhere else.

nox hands its choices to pytest through these; a user may set them too. Each reader returns
the value or raises ``SettingError`` with one line naming the setting, the bad value and what
is allowed; every entry point prints it and exits 2.

| variable | meaning | read by |
| --- | --- | --- |
| ``CTXRESET_MATRIX`` | another matrix.yaml | every entry point |
| ``CTXRESET_TARGETS`` | comma-separated target ids whose cells pytest runs | the cell plugin |
| ``CTXRESET_RESULTS_DIR`` | where cell files go (``""``: nowhere) | the cell plugin |
| ``CTXRESET_CELL_TIMEOUT`` | seconds a scenario may run | the cell plugin, nox, tox |
| ``CTXRESET_PYTHONS`` | comma-separated Pythons a nox run narrows to | nox |
| ``CTXRESET_NETNS`` | ``0``: no loopback-only network namespace | nox |
| ``CTXRESET_APPLY_FIX`` | the fix ``-p ctxreset.apply_fix`` applies | the apply-fix plugin |
| ``CTXRESET_FAULTS`` | ``1``: the deliberately broken fixes exist | the fault tests |
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

DEFAULT_TIMEOUT = 10.0
"""Seconds a scenario may run before it is cancelled and its cell recorded "timeout"."""

MATRIX = "CTXRESET_MATRIX"
TARGETS = "CTXRESET_TARGETS"
RESULTS_DIR = "CTXRESET_RESULTS_DIR"
CELL_TIMEOUT = "CTXRESET_CELL_TIMEOUT"
PYTHONS = "CTXRESET_PYTHONS"
NETNS = "CTXRESET_NETNS"
APPLY_FIX = "CTXRESET_APPLY_FIX"
FAULTS = "CTXRESET_FAULTS"
ALL = (MATRIX, TARGETS, RESULTS_DIR, CELL_TIMEOUT, PYTHONS, NETNS, APPLY_FIX, FAULTS)


class SettingError(ValueError):
    """A bad setting; the message is one line."""


def _get(name: str) -> Optional[str]:
    return os.environ.get(name)


def _listed(name: str) -> list[str]:
    return [item for item in (_get(name) or "").split(",") if item]


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


def whole_number(name: str, text: str, minimum: int = 1) -> int:
    """A whole number >= ``minimum``."""
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise SettingError(f"{name}: bad value {text!r}; allowed: a whole number >= {minimum}")
    return value


def matrix_file() -> Optional[Path]:
    """``CTXRESET_MATRIX``: another matrix.yaml, or None for the default one."""
    text = _get(MATRIX)
    return Path(text) if text else None


def cell_timeout_from_env() -> Optional[float]:
    """``CTXRESET_CELL_TIMEOUT`` if set (checked), else None."""
    text = _get(CELL_TIMEOUT)
    return positive_seconds(CELL_TIMEOUT, text) if text else None


def targets() -> list[str]:
    """``CTXRESET_TARGETS``: the target ids asked for (checked against matrix.yaml by the
    plugin, which knows it); empty: every target installed."""
    return _listed(TARGETS)


def results_dir() -> Optional[str]:
    """``CTXRESET_RESULTS_DIR``: where cell files go; None: unset (the plugin's default,
    results/); ``""``: write none."""
    return _get(RESULTS_DIR)


def pythons(allowed: Sequence[str]) -> list[str]:
    """``CTXRESET_PYTHONS``: the Pythons a nox run narrows to (each one of ``allowed``);
    unset: all of them."""
    chosen = _listed(PYTHONS)
    for python in chosen:
        if python not in allowed:
            raise SettingError(f"{PYTHONS}: bad value {python!r}; allowed: {', '.join(allowed)}")
    return chosen or list(allowed)


def netns_opted_out() -> bool:
    """``CTXRESET_NETNS=0``: run the cells without a loopback-only network namespace."""
    return _get(NETNS) == "0"


def apply_fix() -> Optional[str]:
    """``CTXRESET_APPLY_FIX``: the fix ``-p ctxreset.apply_fix`` applies (None: none)."""
    return _get(APPLY_FIX) or None


def faults_enabled() -> bool:
    """``CTXRESET_FAULTS=1``: the deliberately broken fixes are known (the fault tests only)."""
    return _get(FAULTS) == "1"
