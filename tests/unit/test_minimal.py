"""``python -m repro.minimal`` (both shapes) shows the real traceback and exits 1 on every
CPython 3.9+."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYENV = Path.home() / ".pyenv" / "versions"


def _interpreters() -> list:
    found = {f"{sys.version_info[0]}.{sys.version_info[1]}": sys.executable}
    for version in ("3.9", "3.10", "3.11", "3.12", "3.13"):
        for candidate in sorted(PYENV.glob(f"{version}.*/bin/python{version}")):
            found.setdefault(version, str(candidate))
    return [pytest.param(path, id=version) for version, path in sorted(found.items())]


@pytest.mark.parametrize("shape", [[], ["--shape", "split"], ["--shape", "held"]])
@pytest.mark.parametrize("python", _interpreters())
def test_minimal_reproduces_with_stdlib_only(python, shape):
    # -S: no site-packages; -E: no PYTHON* variables: the standard library alone.
    completed = subprocess.run(
        [python, "-S", "-E", "-m", "repro.minimal", *shape],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert len(completed.stdout.splitlines()) == 2
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ValueError: <Token var=<ContextVar name='current_trace'")
    assert last_line.endswith("was created in a different Context")
    assert "in reset_current_trace" in completed.stderr  # raised by the reset, not elsewhere
    if shape[-1:] == ["held"]:  # by the block's exit inside the generator, during aclose()
        assert "in _held_words" in completed.stderr


def test_minimal_refuses_an_unknown_shape():
    completed = subprocess.run(
        [sys.executable, "-S", "-E", "-m", "repro.minimal", "--shape", "sideways"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "usage: python -m repro.minimal [--shape split|held]; got --shape sideways"]
