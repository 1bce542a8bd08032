"""tox.ini is generated from matrix.yaml and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix
from ctxreset.toxini import env_name, render_tox_ini

TOX_INI = Path(__file__).resolve().parents[2] / "tox.ini"


def test_tox_ini_matches_matrix_yaml():
    expected = render_tox_ini(load_matrix(DEFAULT_MATRIX_PATH))
    assert TOX_INI.read_text() == expected, "tox.ini has drifted from matrix.yaml: nox -s tox-ini"


def test_every_installable_python_target_pair_is_an_environment():
    matrix = load_matrix(DEFAULT_MATRIX_PATH)
    text = TOX_INI.read_text()
    for python in matrix.pythons:
        for target in matrix.targets:
            listed = f"\n    {env_name(python, target)}\n" in text
            assert listed == (matrix.target_not_run(target, python) is None), (python, target)


def test_env_names_use_factors():
    assert env_name("3.12", "agents-0.0.11") == "py312-agents0011"
    assert env_name("3.9", "minimal") == "py39-minimal"
