"""matrix.yaml is validated on load: one line naming the key, the bad value, the allowed ones."""

from __future__ import annotations

import copy

import pytest
import yaml

from harness.matrix import MATRIX_PATH, MatrixError, parse_matrix


@pytest.fixture
def data():
    return yaml.safe_load(MATRIX_PATH.read_text())


def _error(data) -> str:
    with pytest.raises(MatrixError) as info:
        parse_matrix(data)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_the_real_matrix_loads(data):
    matrix = parse_matrix(data)
    assert "none" in matrix.fixes_for("agents-0.0.11")
    assert matrix.target_id("openai-agents==0.0.11") == "agents-0.0.11"


def test_unknown_top_level_key(data):
    data["pythonz"] = ["3.11"]
    assert _error(data).startswith("matrix.yaml: pythonz: bad value 'pythonz'; allowed: targets,")


def test_unknown_fix(data):
    data["fixes"]["magic"] = {"applies_to": ["minimal"]}
    message = _error(data)
    assert "fixes: bad value 'magic'" in message and "context_rerun" in message


def test_unknown_loop(data):
    data["loops"].append("trio")
    message = _error(data)
    assert "loops[2]: bad value 'trio'" in message and "uvloop" in message


def test_unknown_target_in_a_fix(data):
    data["fixes"]["none"]["applies_to"].append("agents-9")
    assert "fixes.none.applies_to[2]: bad value 'agents-9'; allowed: minimal," in _error(data)


def test_bad_version(data):
    data["targets"]["agents-0.0.11"]["requirement"] = "openai-agents==latest"
    message = _error(data)
    assert "targets.agents-0.0.11.requirement: bad value 'openai-agents==latest'" in message
    assert "openai-agents==X.Y.Z" in message


def test_bad_python_version(data):
    data["pythons"].append(3.1)
    assert "pythons[6]: bad value 3.1; allowed: a quoted CPython version" in _error(data)


def test_unknown_property_in_an_expectation(data):
    broken = copy.deepcopy(data)
    broken["expectations"][0]["fails"].append("fast")
    assert "expectations[0].fails: bad value 'fast'" in _error(broken)
