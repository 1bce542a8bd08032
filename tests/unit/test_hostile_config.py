"""Configuration the harness must refuse before anything runs: one line naming what is wrong
and where, exit 2 (matrix.yaml, the environment, the command line of nox, bench and report)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctxreset.bench import measure as bench
from ctxreset.matrix.loader import (
    CONSTRAINTS,
    DEFAULT_MATRIX_PATH,
    MatrixError,
    check_pins,
    load_matrix,
    parse_matrix,
)
from ctxreset.report import build as report

ROOT = Path(__file__).resolve().parents[2]
REAL = DEFAULT_MATRIX_PATH.read_text()
PARSED = yaml.safe_load(REAL)
"""matrix.yaml parsed once (pure-Python YAML: a tenth of a second each time)."""


def _data() -> dict[str, Any]:
    return copy.deepcopy(PARSED)  # each test changes a copy of its own


def _refused(path: Path) -> str:
    """``python -m ctxreset.matrix PATH``: exit 2 and one line, no traceback."""
    run = subprocess.run([sys.executable, "-m", "ctxreset.matrix", str(path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and run.stderr.count("\n") == 1, run.stderr
    return run.stderr.strip()


def _parse_error(data: dict[str, Any]) -> str:
    with pytest.raises(MatrixError) as info:
        parse_matrix(data)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_duplicate_key_is_refused_with_both_lines(tmp_path):
    path = tmp_path / "matrix.yaml"
    path.write_text(REAL + 'pythons: ["3.11"]\n')
    message = _refused(path)
    first = 1 + next(i for i, line in enumerate(REAL.splitlines()) if line.startswith("pythons:"))
    last = len(REAL.splitlines()) + 1
    assert f"line {last}: duplicate key 'pythons' (first on line {first})" in message


def test_a_duplicate_key_in_a_flow_mapping_is_refused(tmp_path):
    path = tmp_path / "matrix.yaml"
    path.write_text(REAL.replace("asyncio: {}", "asyncio: {requirement: a, requirement: b}"))
    assert "duplicate key 'requirement'" in _refused(path)


def test_a_non_utf8_byte_is_one_line(tmp_path):
    path = tmp_path / "matrix.yaml"
    path.write_bytes(REAL.encode().replace(b"same_task", b"same_t\xffsk", 1))
    assert "not UTF-8: byte 0xff at offset" in _refused(path)


@pytest.mark.parametrize("depth", [40, 5000, 200_000])
def test_very_deep_nesting_is_one_line(tmp_path, depth):
    path = tmp_path / "matrix.yaml"
    path.write_text("targets: " + "[" * depth + "]" * depth + "\n")
    assert "nested more than" in _refused(path) or "more than 1048576 bytes" in _refused(path)


def test_an_alias_bomb_is_refused_before_it_is_built_and_small(tmp_path, monkeypatch):
    """Fast because nothing is expanded: the composed node graph is counted and refused
    before any Python object is built (checked as that, not with a clock), in little memory."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    path = tmp_path / "matrix.yaml"
    path.write_text("\n".join(lines) + "\n")
    built = []
    monkeypatch.setattr(yaml.constructor.BaseConstructor, "construct_document",
                        lambda self, node: built.append(node))
    tracemalloc.start()
    with pytest.raises(MatrixError, match="expands to more than 100000 nodes"):
        load_matrix(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert built == [] and peak < 20 * 1024 * 1024, peak


def test_a_few_aliases_are_still_fine(tmp_path):
    data = _data()
    shared: dict[tuple[str, ...], list[str]] = {}
    for rule in data["expectations"]:  # one list object per distinct targets list...
        rule["targets"] = shared.setdefault(tuple(rule["targets"]), rule["targets"])
    text = yaml.safe_dump(data, sort_keys=False)  # ...which PyYAML writes as anchor + aliases
    assert "&id001" in text and "*id001" in text
    path = tmp_path / "matrix.yaml"
    path.write_text(text)
    assert load_matrix(path).rules == load_matrix(DEFAULT_MATRIX_PATH).rules


def test_a_reproduces_pattern_that_does_not_compile_is_refused():
    data = _data()
    data["expectations"][0]["reproduces"] = "ValueError: (unclosed"
    message = _parse_error(data)
    assert message.startswith("matrix.yaml: expectations[0].reproduces: bad value")
    assert "a regular expression" in message


def test_an_exclusion_that_matches_no_cell_is_refused():
    data = _data()
    data["exclusions"].append({"pythons": ["3.8"], "reason": "never"})
    index = len(data["exclusions"]) - 1
    assert f"exclusions[{index}]: matches no cell" in _parse_error(data)


def test_an_expectation_that_matches_no_cell_is_refused():
    data = _data()
    data["expectations"].append({"targets": ["minimal"], "fix": "none", "scenario": "same_task",
                                 "fails": ["no-leak"], "pythons": ["3.8"]})
    index = len(data["expectations"]) - 1
    assert f"expectations[{index}]: matches no cell" in _parse_error(data)


def test_conflicting_duplicate_expectations_are_refused():
    data = _data()
    first = data["expectations"][0]
    data["expectations"].append({**first, "fails": ["no-error"]})
    index = len(data["expectations"]) - 1
    message = _parse_error(data)
    assert f"expectations[{index}]: conflicts with expectations[0]" in message


def test_an_identical_duplicate_expectation_is_dead_and_refused():
    data = _data()
    data["expectations"].append(dict(data["expectations"][0]))
    index = len(data["expectations"]) - 1
    message = _parse_error(data)
    assert f"expectations[{index}]: never applies" in message and "expectations[0]" in message


def test_an_unparsable_loop_requirement_is_refused():
    data = _data()
    data["loops"]["uvloop"]["requirement"] = "uvloop==0.23.0; python_version >>> '3.9'"
    assert "loops.uvloop.requirement: bad value" in _parse_error(data)


def test_a_release_the_constraints_do_not_pin_is_refused(tmp_path):
    data = _data()
    data["targets"]["agents-newest"]["requirement"] = "openai-agents==99.0.0"
    with pytest.raises(MatrixError) as info:
        check_pins(parse_matrix(data))
    message = str(info.value)
    assert message.startswith("matrix.yaml: targets.agents-newest.requirement: "
                              "'openai-agents==99.0.0' is not pinned in "
                              "constraints/agents-newest.txt (it pins openai-agents "
                              + str(load_matrix().targets["agents-newest"].requirement)
                              .split("==")[1])
    data = _data()
    data["loops"]["uvloop"]["requirement"] = "uvloop==0.0.1"
    with pytest.raises(MatrixError, match=r"loops\.uvloop\.requirement: 'uvloop==0.0.1'"):
        check_pins(parse_matrix(data))
    check_pins(load_matrix(DEFAULT_MATRIX_PATH))  # the real file is pinned
    assert {p.stem for p in CONSTRAINTS.glob("*.txt")} >= set(load_matrix().targets)


# --- settings -------------------------------------------------------------------------------


def _pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args,
                           "tests/test_minimal.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan", "inf"])
def test_a_bad_cell_timeout_is_refused_before_anything_runs(value):
    run = _pytest(CTXRESET_CELL_TIMEOUT=value)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"CTXRESET_CELL_TIMEOUT: bad value {value!r}; allowed: a number of seconds > 0" in (
        run.stdout + run.stderr)
    assert "passed" not in run.stdout and "Traceback" not in run.stdout + run.stderr
    run = _pytest("--cell-timeout", value)
    assert run.returncode == 4 and "argument --cell-timeout: bad value" in run.stderr


def test_bench_refuses_zero_runs(capsys):
    with pytest.raises(SystemExit) as info:
        bench.main(["--runs", "0"])
    assert info.value.code == 2
    assert "argument --runs: bad value '0'; allowed: a whole number >= 1" in (
        capsys.readouterr().err)


@pytest.mark.parametrize("content", ['{"a": 1}', "[]", '{"schema_version": 1}',
                                     '{"schema_version": 1, "cells": [{"python": 3}]}', "{"])
def test_diff_refuses_what_is_not_a_report(tmp_path, capsys, content):
    old = tmp_path / "old.json"
    old.write_text(content)
    code = report.main(["--results", str(tmp_path / "r"), "--out", str(tmp_path / "out"),
                        "--diff", str(old)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("--diff:") and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()  # refused before anything was written


@pytest.mark.parametrize("meta", [{}, {"python": 3, "loop": []}, [1, 2], "{"])
def test_a_wrong_shaped_sweep_file_is_one_line(tmp_path, capsys, meta):
    sweep = tmp_path / "r" / "sweep" / "sweep.json"
    sweep.parent.mkdir(parents=True)
    sweep.write_text(meta if isinstance(meta, str) else json.dumps(meta))
    code = report.main(["--results", str(tmp_path / "r"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "sweep.json" in err and err.count("\n") == 1, err


def _nox(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which("nox")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nox is not on PATH (CI=true: CI must not skip this check)")
        pytest.skip("nox is not on PATH: python -m pip install nox")
    return subprocess.run([found, "-f", str(ROOT / "noxfile.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1", **env})


def test_nox_flake_check_refuses_a_bad_count():
    run = _nox("-s", "flake-check", "--", "abc")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "flake-check runs: bad value 'abc'; allowed: a whole number >= 1" in run.stderr
    assert "Traceback" not in run.stderr and "run 1 of" not in run.stderr


def test_nox_refuses_a_bad_cell_timeout_before_any_session():
    run = _nox("-l", CTXRESET_CELL_TIMEOUT="nan")
    assert run.returncode == 2 and "CTXRESET_CELL_TIMEOUT: bad value 'nan'" in run.stderr


def test_a_narrower_expectation_before_a_broader_one_overrides_it():
    data = _data()
    first = data["expectations"][0]
    data["expectations"].insert(0, {**first, "fails": ["no-error"], "pythons": ["3.12"]})
    matrix = parse_matrix(data)
    assert matrix.expectation("minimal", "none", "other_task", "asyncio", "3.12").fails == {
        "no-error"}
    assert matrix.expectation("minimal", "none", "other_task", "asyncio", "3.11").fails == set(
        first["fails"])


def test_an_expectation_that_never_applies_is_refused():
    data = _data()
    first = data["expectations"][0]
    data["expectations"].append({**first, "fails": ["no-error"], "pythons": ["3.12"]})
    index = len(data["expectations"]) - 1
    assert f"expectations[{index}]: never applies" in _parse_error(data)
