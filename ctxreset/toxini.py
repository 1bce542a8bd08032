"""tox.ini, generated from matrix.yaml: the same cells as nox, as tox environments.

One environment per (python, target) that matrix.yaml lets install, named by factors, e.g.
``py312-agents0011``. tox-uv makes the environments (required, at least the version
.ci/tools.txt pins), with the interpreters on PATH only: toxfile.py puts there the ones nox
finds (``ctxreset.interpreters``). ``nox -s tox-ini`` writes the file; a test fails when it
has drifted.
"""

from __future__ import annotations

import re

from ctxreset.matrix.loader import Matrix
from ctxreset.matrix.plan import CELL_PYTEST
from ctxreset.orchestrate import tool

CHECK_REQUIRES = ("pyyaml>=6", "jsonschema>=4.18", "packaging>=21")
"""What toxfile.py's check of matrix.yaml imports (pyproject's dependencies, less jinja2)."""


def factor(target: str) -> str:
    """A tox factor for a target id: ``agents-0.0.11`` -> ``agents0011``."""
    return re.sub(r"[^a-z0-9]", "", target.lower())


def env_name(python: str, target: str) -> str:
    return f"py{python.replace('.', '')}-{factor(target)}"


def at_least(name: str) -> str:
    """``tox-uv>=1.37.1``: the pin of .ci/tools.txt as the least version tox may run with."""
    return tool(name).split(";")[0].strip().replace("==", ">=")


def render_tox_ini(matrix: Matrix) -> str:
    envs, ruled_out = [], []
    released = [t for t, spec in matrix.targets.items() if spec.source is None]
    for python in matrix.pythons:
        for target in released:
            if matrix.target_not_run(target, python):
                ruled_out.append(env_name(python, target))
            else:
                envs.append(env_name(python, target))
    loops = [*matrix.loop_requirements(), *matrix.optional_loop_requirements()]
    lines = [
        "# Generated from matrix.yaml by `nox -s tox-ini`: edit matrix.yaml, then regenerate.",
        "# tests/unit/test_toxini.py fails while this file differs from what matrix.yaml gives.",
        "# Left out (matrix.yaml says they cannot install): " + (", ".join(ruled_out) or "none"),
        "# toxfile.py (loaded by tox itself) checks matrix.yaml before any environment is made;",
        "# `requires` gives tox tox-uv and what the check imports (tox provisions them when",
        "# missing); toxfile.py also puts pyenv's and uv's Pythons on PATH, as nox finds them.",
        "[tox]",
        "requires =",
        f"    {at_least('tox')}",
        f"    {at_least('tox-uv')}",
        *(f"    {requirement}" for requirement in CHECK_REQUIRES),
        "env_list =",
        *(f"    {env}" for env in envs),
        "skip_missing_interpreters = true",
        "",
        "[testenv]",
        "description = every fix x scenario x loop of one target; writes results/",
        "skip_install = true",
        "uv_python_preference = only-system",
        "deps =",
        "    -e .[test,server]",
        *(f"    {requirement}" for requirement in loops),
    ]
    for target in released:  # a candidate (checkout, wheel, patch) installs under nox only
        spec = matrix.targets[target]
        lines.append(f"    {factor(target)}: -c constraints/{target}.txt")
        for requirement in spec.requirements:
            lines.append(f"    {factor(target)}: {requirement}")
    lines += [
        "set_env =",
        "    CTXRESET_RESULTS_DIR = {tox_root}/results",
        *(f"    {factor(target)}: CTXRESET_TARGETS = {target}" for target in released),
        f"commands = python -m pytest -n auto {' '.join(CELL_PYTEST)} {{posargs}}",
        "",
    ]
    return "\n".join(lines)
