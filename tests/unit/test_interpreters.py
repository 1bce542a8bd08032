"""nox and tox find the same interpreters: PATH, then pyenv's and uv's (ctxreset.interpreters)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ctxreset import interpreters


def _python(bin_dir: Path, version: str) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    executable = bin_dir / f"python{version}"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    return executable


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    monkeypatch.setenv("PATH", str(tmp_path / "on-path"))
    return tmp_path


def test_pyenv_and_uv_pythons_are_found_after_path(roots: Path):
    pyenv = _python(roots / "pyenv" / "versions" / "3.97.1" / "bin", "3.97")
    uv = _python(roots / "uv" / "cpython-3.98.0-linux-x86_64-gnu" / "bin", "3.98")
    assert interpreters.find_interpreter("3.97") == str(pyenv)
    assert interpreters.find_interpreter("3.98") == str(uv)
    assert interpreters.find_interpreter("3.99") is None
    on_path = _python(roots / "on-path", "3.97")
    assert interpreters.find_interpreter("3.97") == str(on_path)


def test_the_search_path_adds_each_directory_once(roots: Path):
    _python(roots / "pyenv" / "versions" / "3.97.1" / "bin", "3.97")
    once = interpreters.search_path()
    assert once.split(os.pathsep) == [str(roots / "on-path"),
                                      str(roots / "pyenv" / "versions" / "3.97.1" / "bin")]
    assert interpreters.search_path(once) == once
