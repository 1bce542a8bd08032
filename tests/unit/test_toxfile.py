"""tox refuses a bad matrix.yaml before it makes or installs any environment (toxfile.py)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BAD = "targets: {}\ntargets: {}\n"


@pytest.fixture
def toxfile(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """toxfile.py as tox loads it; where tox is not installed, with a stand-in for its
    hook marker (the hook itself is what is tested)."""
    try:
        importlib.import_module("tox.plugin")
    except ImportError:
        stub = types.ModuleType("tox.plugin")
        stub.impl = lambda function: function  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "tox", types.ModuleType("tox"))
        monkeypatch.setitem(sys.modules, "tox.plugin", stub)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, "toxfile", raising=False)
    return importlib.import_module("toxfile")


def test_the_hook_passes_the_real_matrix(toxfile, monkeypatch):
    monkeypatch.setenv("PATH", os.environ["PATH"])  # the hook extends it: restored after
    assert toxfile.matrix_problem() is None
    toxfile.tox_add_core_config(None, None)


def test_the_hook_gives_tox_the_interpreters_nox_finds(toxfile, tmp_path, monkeypatch):
    """pyenv's and uv's Pythons go on PATH, where tox-uv looks (tox.ini: only-system)."""
    bin_dir = tmp_path / "pyenv" / "versions" / "3.97.1" / "bin"
    bin_dir.mkdir(parents=True)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("PATH", "/only/this")
    toxfile.tox_add_core_config(None, None)
    assert os.environ["PATH"] == os.pathsep.join(["/only/this", str(bin_dir)])
    text = (ROOT / "tox.ini").read_text()
    assert "\nuv_python_preference = only-system\n" in text
    assert "\n    tox-uv>=" in text


def test_the_hook_refuses_a_bad_matrix_with_one_line(toxfile, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "matrix.yaml"
    bad.write_text(BAD)
    monkeypatch.setenv("CTXRESET_MATRIX", str(bad))
    with pytest.raises(SystemExit) as info:
        toxfile.tox_add_core_config(None, None)
    assert info.value.code == 2
    assert capsys.readouterr().err == (
        "matrix.yaml: cannot read: line 2: duplicate key 'targets' (first on line 1); the last "
        "would silently win\n")
    monkeypatch.setenv("CTXRESET_MATRIX", str(ROOT / "matrix.yaml"))
    monkeypatch.setenv("CTXRESET_CELL_TIMEOUT", "-1")
    assert toxfile.matrix_problem().startswith("CTXRESET_CELL_TIMEOUT: bad value '-1'")


def test_tox_lists_nothing_and_makes_no_env_for_a_bad_matrix(tmp_path):
    if importlib.util.find_spec("tox") is None:
        pytest.skip("tox is not installed beside pytest (the hook is tested above without it)")
    tox = [sys.executable, "-m", "tox"]  # this interpreter has what the check imports: tox
    # needs no provisioning (which would install from the index, and the cells may run in a
    # network namespace)
    bad = tmp_path / "matrix.yaml"
    bad.write_text(BAD)
    env = {**os.environ, "CTXRESET_MATRIX": str(bad)}
    work = tmp_path / "tox-work"
    for command in (["-l"], ["-e", "py311-minimal"]):
        run = subprocess.run([*tox, "-c", str(ROOT / "tox.ini"), "--workdir", str(work),
                              *command], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 2, run.stdout + run.stderr
        assert "duplicate key 'targets'" in run.stderr
        assert "py39-minimal" not in run.stdout.splitlines()  # nothing listed
        assert not (work / "py311-minimal").exists()
