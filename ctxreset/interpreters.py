"""Where the harness finds CPython interpreters: one answer for nox, tox and the sweep.

PATH first, then pyenv's installed versions (``$PYENV_ROOT/versions/3.*/bin``, default
``~/.pyenv``) and uv's managed Pythons (``$UV_PYTHON_INSTALL_DIR/cpython-3.*/bin``, default
``~/.local/share/uv/python``), newest first. Nothing is ever downloaded. Standard library only:
toxfile.py imports it inside tox's own environment, before anything is provisioned.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional


def interpreter_dirs() -> list[Path]:
    """pyenv's and uv's installed CPythons (newest first); PATH is searched before these."""
    home = Path.home()
    pyenv_root = Path(os.environ.get("PYENV_ROOT", home / ".pyenv"))
    uv_root = Path(os.environ.get("UV_PYTHON_INSTALL_DIR", home / ".local/share/uv/python"))
    found = sorted(pyenv_root.glob("versions/3.*/bin"), reverse=True)
    found += sorted(uv_root.glob("cpython-3.*/bin"), reverse=True)
    return found


def search_path(path: Optional[str] = None) -> str:
    """``path`` (default: PATH) with the interpreter directories after it, each once."""
    entries = (os.environ.get("PATH", "") if path is None else path).split(os.pathsep)
    for directory in map(str, interpreter_dirs()):
        if directory not in entries:
            entries.append(directory)
    return os.pathsep.join(entries)


def find_interpreter(version: str) -> Optional[str]:
    """The ``python<version>`` nox and tox would use, or None."""
    return shutil.which(f"python{version}", path=search_path())
