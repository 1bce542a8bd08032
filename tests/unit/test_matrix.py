"""matrix.yaml is validated on load: one line naming the key, the bad value, the allowed ones."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml

from ctxreset.libraries import target_of
from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, MatrixError, parse_matrix

REAL = yaml.safe_load(DEFAULT_MATRIX_PATH.read_text())
"""matrix.yaml parsed once (pure-Python YAML: a tenth of a second each time)."""


@pytest.fixture
def data():
    return copy.deepcopy(REAL)  # each test changes a copy of its own


def _error(data) -> str:
    with pytest.raises(MatrixError) as info:
        parse_matrix(data)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_the_real_matrix_loads(data):
    matrix = parse_matrix(data)
    assert "none" in matrix.fixes_for("agents-0.0.11")
    assert target_of(matrix, "openai-agents", "0.0.11") == "agents-0.0.11"
    assert target_of(matrix, "openai-agents", "0.0.10") is None
    assert target_of(matrix, "minimal", "stdlib") == "minimal"


def test_unknown_top_level_key(data):
    data["pythonz"] = ["3.11"]
    message = _error(data)
    assert message.startswith("matrix.yaml: pythonz: unknown key 'pythonz'; allowed: targets,")


def test_unknown_nested_key(data):
    data["loops"]["uvloop"]["requirment"] = "uvloop"
    message = _error(data)
    assert "loops.uvloop.requirment: unknown key 'requirment'; allowed: requirement," in message


def test_missing_section(data):
    del data["scenarios"]
    assert "scenarios: missing; required: targets, pythons," in _error(data)


def test_unknown_fix(data):
    data["fixes"]["magic"] = {"applies_to": ["minimal"]}
    message = _error(data)
    assert "fixes: bad value 'magic'" in message and "context_rerun" in message


def test_unknown_loop(data):
    data["loops"]["trio"] = {}
    message = _error(data)
    assert "loops: bad value 'trio'; allowed: asyncio, asyncio-eager, uvloop" in message


def test_unknown_scenario(data):
    data["scenarios"].append("teleport")
    at = len(data["scenarios"]) - 1
    assert f"scenarios[{at}]: bad value 'teleport'; allowed: same_task," in _error(data)


def test_unknown_target_in_a_fix(data):
    data["fixes"]["none"]["applies_to"].append("agents-9")
    index = len(data["fixes"]["none"]["applies_to"]) - 1
    assert (f"fixes.none.applies_to[{index}]: bad value 'agents-9'; allowed: minimal,"
            in _error(data))


def test_expectation_for_a_target_the_fix_does_not_apply_to(data):
    upstream = [rule for rule in data["expectations"] if rule["fix"] == "upstream"]
    upstream[-1]["targets"].append("minimal")
    assert "].targets: bad value 'minimal'; allowed: agents-0.0.12, agents-newest" in _error(data)


def test_bad_library_version(data):
    data["targets"]["agents-0.0.11"]["requirement"] = "openai-agents==latest"
    message = _error(data)
    assert "targets.agents-0.0.11.requirement: bad value 'openai-agents==latest'" in message
    assert "openai-agents==X.Y.Z" in message


def test_bad_python_version(data):
    data["pythons"].append(3.1)
    assert "pythons[6]: bad value 3.1; allowed: a quoted CPython version" in _error(data)


def test_bad_python_specifier(data):
    data["targets"]["agents-newest"]["requires_python"] = "3.10"
    message = _error(data)
    assert "targets.agents-newest.requires_python: bad value '3.10'; allowed: a PEP 440" in message


def test_unknown_property_in_an_expectation(data):
    data["expectations"][0]["fails"].append("fast")
    assert "expectations[0].fails[3]: bad value 'fast'; allowed: no-error," in _error(data)


def test_constraints_are_data(data):
    matrix = parse_matrix(data)
    assert matrix.loop_not_run("asyncio-eager", "3.11.7") == (
        "loop asyncio-eager requires Python >=3.12 (matrix.yaml)"
    )
    assert matrix.loop_not_run("asyncio-eager", "3.12") is None
    assert "requires Python >=3.10" in str(matrix.target_not_run("agents-newest", "3.9"))
    assert matrix.target_not_run("agents-newest", "3.13") is None


def test_command_line_check_exits_2_with_one_line(tmp_path, data):
    data["loops"]["trio"] = {}
    bad = tmp_path / "matrix.yaml"
    bad.write_text(yaml.safe_dump(data))
    done = subprocess.run(
        [sys.executable, "-m", "ctxreset.matrix", str(bad)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "loops: bad value 'trio'" in done.stderr


def test_unreadable_yaml_is_one_line(tmp_path):
    bad = tmp_path / "matrix.yaml"
    bad.write_text("targets: [unclosed\n")
    done = subprocess.run(
        [sys.executable, "-m", "ctxreset.matrix", str(bad)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "cannot read" in done.stderr


def test_unknown_loop_in_an_exclusion(data):
    data["exclusions"][0]["loops"] = ["tokio"]
    message = _error(data)
    assert "exclusions[0].loops[0]: bad value 'tokio'; allowed: asyncio, asyncio-eager," in message


def test_an_expectation_for_a_fix_the_file_leaves_out(data):
    """Found by the fuzz test (tests/unit/test_fuzz.py): a KeyError traceback before."""
    index = next(i for i, rule in enumerate(data["expectations"]) if rule["fix"] == "safe_reset")
    del data["fixes"]["safe_reset"]
    assert f"expectations[{index}].fix: bad value 'safe_reset'; allowed: none," in _error(data)


def test_exclusion_without_reason(data):
    del data["exclusions"][0]["reason"]
    assert "exclusions[0].reason: missing; required: reason" in _error(data)


def test_an_exclusion_rules_cells_out_with_its_reason(data):
    from ctxreset.matrix.plan import ruled_out
    from ctxreset.records import CellId

    matrix = parse_matrix(data)
    eager = CellId("3.12", "agents-0.0.11", "none", "server_stream", "asyncio-eager")
    plain = CellId("3.12", "agents-0.0.11", "none", "server_stream", "asyncio")
    reason = ruled_out(matrix, eager)
    assert reason is not None and "eager tasks" in reason
    assert reason.endswith("(matrix.yaml exclusions)")
    assert ruled_out(matrix, plain) is None


def test_bench_section_is_optional_and_checked(data):
    bench = parse_matrix(data).bench
    assert bench is not None and bench.target == "agents-0.0.11"
    data["bench"]["loops"].append("asyncio-eager")
    assert "bench.loops[2]: bad value 'asyncio-eager'; allowed: a loop that runs on Python 3.11" \
        in _error(data)
    data["bench"]["loops"] = ["trio"]
    assert "bench.loops[0]: bad value 'trio'; allowed: asyncio," in _error(data)
    data["bench"]["loops"] = ["asyncio"]
    data["bench"]["repeats"] = 0
    assert "bench.repeats: bad value 0; allowed: an integer >= 1" in _error(data)
    data["bench"]["repeats"] = 3
    data["bench"]["python"] = "3.8"
    assert "bench.python: bad value '3.8'; allowed: 3.9, 3.10," in _error(data)
    del data["bench"]
    assert parse_matrix(data).bench is None
def test_sweep_section(data):
    sweep = parse_matrix(data).sweep
    assert sweep is not None
    assert (sweep.package, sweep.first, sweep.last) == ("openai-agents", "0.0.3", None)
    del data["sweep"]
    assert parse_matrix(data).sweep is None  # optional: only `nox -s sweep` needs it


@pytest.mark.parametrize(("change", "expected"), [
    ({"form": "0.0.3"}, "sweep.form: unknown key 'form'; allowed: package, from, to,"),
    ({"from": 0.3}, "sweep.from: bad value 0.3; allowed: a quoted release version"),
    ({"to": "latest"}, "sweep.to: bad value 'latest'; allowed: null (the newest), a quoted"),
    ({"package": "langchain"}, "sweep.package: bad value 'langchain'; allowed: openai-agents"),
    ({"loop": "trio"}, "sweep.loop: bad value 'trio'; allowed: asyncio, asyncio-eager,"),
    ({"to": "0.0.2"}, "sweep.to: bad value '0.0.2'; allowed: null or a release not older"),
    ({"timeout": 0}, "sweep.timeout: bad value 0; allowed: seconds per cell"),
])
def test_bad_sweep_section(data, change, expected):
    data["sweep"].update(change)
    assert expected in _error(data)


def test_sweep_loop_must_be_in_the_file(data):
    for other in ("bench", "exclusions"):  # sections that may name loops too
        data.pop(other, None)
    data["expectations"] = [e for e in data["expectations"] if "loops" not in e]
    del data["loops"]["uvloop"]
    data["sweep"]["loop"] = "uvloop"
    assert "sweep.loop: bad value 'uvloop'; allowed: asyncio, asyncio-eager, rloop" in _error(data)


def test_explore_section(data):
    explore = parse_matrix(data).explore
    assert explore is not None
    assert explore.seeds >= 100 and explore.targets == ("agents-0.0.11", "minimal")
    assert all(reason for reason in explore.exclude.values())
    del data["explore"]
    assert parse_matrix(data).explore is None  # optional: only `nox -s explore` needs it


@pytest.mark.parametrize(("change", "expected"), [
    ({"seed": 3}, "explore.seed: unknown key 'seed'; allowed: python, targets, seeds,"),
    ({"seeds": 0}, "explore.seeds: bad value 0; allowed: an integer >= 1"),
    ({"budget": -5}, "explore.budget: bad value -5; allowed: seconds for the whole run"),
    ({"targets": ["agents-9"]}, "explore.targets[0]: bad value 'agents-9'; allowed: minimal,"),
    ({"python": "3.8"}, "explore.python: bad value '3.8'; allowed: 3.9, 3.10,"),
    ({"exclude": {"no_such": "why"}}, "no_such"),
    ({"exclude": {"server_stream": ""}}, "explore.exclude.server_stream: bad value ''"),
])
def test_bad_explore_section(data, change, expected):
    data["explore"].update(change)
    assert expected in _error(data)
