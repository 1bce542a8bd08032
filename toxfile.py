"""tox 4 loads this file itself (an inline plugin: nothing to install) before it reads any
environment, so ``tox -l`` and ``tox -e ...`` refuse a bad matrix.yaml, a requirement
constraints/ does not pin, or a bad CTXRESET_CELL_TIMEOUT with one line and exit 2, before any
environment is created or installed: the same checks, and the same line, as nox's.

It also gives tox the interpreters nox finds (``ctxreset.interpreters``: PATH, then pyenv's and
uv's installed Pythons, appended to PATH), and tox.ini has tox-uv look on PATH only
(``uv_python_preference = only-system``): so ``tox -p`` runs every installed Python, never
downloads one, and skips a missing one at once.

The check needs the harness's own dependencies (PyYAML, jsonschema, packaging): tox.ini's
``requires`` (written by ctxreset/toxini.py) lists them, so where tox's own environment lacks
them tox provisions one that has them and runs again in it, and the check runs there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional

from tox.plugin import impl

ROOT = Path(__file__).resolve().parent


def matrix_problem() -> Optional[str]:
    """The one line nox would print for matrix.yaml and the settings, or None."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from ctxreset.matrix.loader import MatrixError, check_pins, load_matrix
    from ctxreset.settings import SettingError, cell_timeout_from_env

    try:
        check_pins(load_matrix())
        cell_timeout_from_env()
    except (MatrixError, SettingError) as exc:
        return str(exc)
    return None


def add_interpreters_to_path() -> None:
    """PATH, then the pyenv and uv interpreter directories (the same search as nox's)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from ctxreset.interpreters import search_path  # the standard library only

    os.environ["PATH"] = search_path()


@impl
def tox_add_core_config(core_conf: Any, state: Any) -> None:
    add_interpreters_to_path()
    try:
        problem = matrix_problem()
    except ImportError:
        return  # tox's own environment lacks `requires`: tox provisions one and checks there
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(2)
