# /// script
# dependencies = ["nox>=2025.2.9", "pyyaml>=6"]
# ///
"""Sessions generated from matrix.yaml: one test session per (python, target).

    nox -l                                        # what can run
    nox -s "tests-3.11(target='agents-0.0.11')"   # one cell group
    nox -s "tests-3.11(target='minimal')" -- -k other_task   # pytest arguments pass through

Interpreters are looked up on PATH and in pyenv's versions directory; nox never downloads
one. Locally a missing interpreter skips its sessions; on CI (CI=true) it is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox
import yaml

ROOT = Path(__file__).parent
MATRIX = yaml.safe_load((ROOT / "matrix.yaml").read_text())
PYTHONS = list(MATRIX["pythons"])
TARGETS = list(MATRIX["targets"])

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = os.environ.get("CI", "").lower() == "true"
nox.options.sessions = ["tests"]

# pyenv keeps every installed CPython under ~/.pyenv/versions/X.Y.Z/bin, only some on PATH.
_pyenv_bins = sorted(Path.home().glob(".pyenv/versions/3.*/bin"), reverse=True)
os.environ["PATH"] = os.pathsep.join([*map(str, _pyenv_bins), os.environ.get("PATH", "")])


def _install_target(session: nox.Session, target: str) -> None:
    """The harness with its pinned test dependencies, and the library under test."""
    requirement = MATRIX["targets"][target]["requirement"]
    extra = [requirement] if requirement else []
    session.install("-e", ".[test]", "-c", f"constraints/{target}.txt", *extra)


@nox.session(python=PYTHONS)
@nox.parametrize("target", TARGETS)
def tests(session: nox.Session, target: str) -> None:
    """Every scenario x fix x loop for one target on one interpreter; writes results/."""
    _install_target(session, target)
    session.run("python", "-c", "import platform, sys; print(platform.python_implementation(),"
                " platform.python_version(), sys.executable)")
    session.run("python", "-m", "pytest", *(session.posargs or ["-n", "auto"]))


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff, at the version pinned in pyproject's lint extra."""
    session.run("uvx", "ruff@0.14.0", "check", ".")
