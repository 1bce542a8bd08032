"""Property-based tests: malformed matrix.yaml documents and results files get one clear line
(exit 2) or a valid report: never a traceback, never a hang, never a false pass.

Generated from the real files by mutation (a key dropped, a value replaced by any JSON-like
value, a key repeated, bytes cut or inserted), so most examples are nearly valid: the inputs
that reach deep into the loader and the merge. The budget is bounded and the run
deterministic (``derandomize``: the same examples on every run, locally and on CI); no example
database is written.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ctxreset.matrix import loader as matrix_module
from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, MatrixError, load_matrix
from ctxreset.records import CellId, CellResult, Problem, cell_problem, write_cell
from ctxreset.report.build import build_report, render
from ctxreset.report.merge import merge

ROOT = Path(__file__).resolve().parents[2]
REAL_TEXT = DEFAULT_MATRIX_PATH.read_text()
REAL = yaml.safe_load(REAL_TEXT)
# The results fuzz merges into a small matrix (one Python, target and loop): the same code
# paths as the real one, at a fraction of the cost per example.
MATRIX = matrix_module.parse_matrix({
    "targets": {"minimal": {"requirement": None}},
    "pythons": ["3.11"],
    "loops": {"asyncio": {}},
    "scenarios": ["same_task", "other_task"],
    "fixes": {"none": {"applies_to": ["minimal"]},
              "streaming_trace": {"applies_to": ["minimal"]}},
    "expectations": [],
})
HASH = "fuzz-matrix"
SCHEMA = json.loads((ROOT / "ctxreset" / "report" / "report.schema.json").read_text())
CELL = CellId("3.11", "minimal", "streaming_trace", "other_task", "asyncio")

# No per-example deadline: a deadline is a timed assertion that fails on a loaded machine
# (it did: 2.5 s against 2 s with the load average at 10). A hang is pytest-timeout's to catch.
BUDGET = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
RESULTS_BUDGET = settings(BUDGET, max_examples=100)  # each example renders a whole report

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``data`` (dict keys and list indices)."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, original: Any) -> Any:
    """``original`` with one to three values replaced or removed."""
    data = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()):
            parent[path[-1]] = draw(values)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return data


def _one_line_or_ok(path: Path) -> None:
    """What `python -m ctxreset.matrix` does with ``path``: exit 0, or exit 2 and one line."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = matrix_module.main([str(path)])
    if code == 0:
        load_matrix(path)  # and it loads
        return
    assert code == 2
    assert err.getvalue().count("\n") == 1 and err.getvalue().strip(), err.getvalue()


REAL_DUMPED = yaml.safe_dump(REAL, sort_keys=False).splitlines()
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter where PyYAML has it: the same text as safe_dump's, six times faster (the
test writes a 60 kB document per example)."""


class Document:
    """A mutated matrix.yaml, shown as the lines that differ from the real file: the whole
    document (past 49 kB) is unreadable in a failing example, and hypothesis warns (an error
    here) when it has to show it, as it does for an example past the deadline."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def __repr__(self) -> str:
        lines = difflib.unified_diff(REAL_DUMPED,
                                     yaml.safe_dump(self.data, sort_keys=False).splitlines(),
                                     lineterm="", n=0)
        return f"Document(changed: {chr(10).join(list(lines)[2:])[:2000]})"


@BUDGET
@given(document=mutated(REAL).map(Document))
def test_a_mutated_matrix_is_refused_in_one_line_or_loads(document):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "matrix.yaml"
        path.write_text(yaml.dump(document.data, Dumper=DUMPER, sort_keys=False))
        _one_line_or_ok(path)


@BUDGET
@given(cut=st.integers(0, len(REAL_TEXT.encode())), junk=st.binary(max_size=12),
       repeat=st.integers(0, 60))
def test_matrix_bytes_cut_spliced_or_repeated_are_refused_in_one_line(cut, junk, repeat):
    raw = REAL_TEXT.encode()
    lines = raw.splitlines(keepends=True)
    line = lines[repeat % len(lines)] if repeat else b""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "matrix.yaml"
        path.write_bytes(raw[:cut] + junk + raw[cut:] + line)
        _one_line_or_ok(path)


def _valid_cell() -> dict[str, Any]:
    properties = {"no-error": {"status": "pass", "evidence": []},
                  "no-leak": {"status": "fail", "evidence": ["leaked"]}}
    result = CellResult(CELL.python, CELL.target, CELL.fix, CELL.scenario, CELL.loop,
                        "checked", properties=properties)
    with tempfile.TemporaryDirectory() as directory:
        path = write_cell(Path(directory), result, {"python": "3.11.7", "matrix_hash": HASH})
        return json.loads(path.read_text())


VALID_CELL = _valid_cell()


def _report_holds(root: Path) -> dict[str, Any]:
    merged = merge(root, MATRIX, HASH)
    report = build_report(merged, MATRIX)
    Draft202012Validator(SCHEMA).validate(json.loads(json.dumps(report)))
    render(report, "report.md.j2")
    render(report, "report.html.j2")
    return {"merged": merged, "report": report}


@RESULTS_BUDGET
@given(data=st.one_of(mutated(VALID_CELL), values))
def test_a_mutated_cell_file_is_listed_or_counted_never_a_false_pass(data):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        path = root / f"py{CELL.python}/{CELL.target}/{CELL.fix}/{CELL.scenario}-{CELL.loop}.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(data))
        held = _report_holds(root)
        record = held["merged"].records[CELL]
        try:
            cell_problem(data, CELL)
            valid = isinstance(data, dict) and data.get("matrix_hash") == HASH
        except Problem:
            valid = False
        if not valid:
            assert record.outcome == "not run", record
            assert str(path) in held["merged"].unreadable + held["merged"].stale
        if record.outcome == "pass":  # only a whole record with every property holding
            assert valid and data["cell"]["status"] == "checked"
            assert all(p["status"] != "fail" for p in data["cell"]["properties"].values())
        assert held["report"]["verdict"]["recommended"] in (None, CELL.fix)


@RESULTS_BUDGET
@given(raw=st.binary(max_size=200), session=st.one_of(values, mutated(
    {"schema_version": 1, "matrix_hash": HASH, "session": {
        "python": "3.11", "targets": ["minimal"], "duration_s": 1.5, "exitstatus": 2}})))
def test_any_bytes_or_session_record_give_a_valid_report(raw, session):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        cell = root / "py3.11" / "minimal" / "none" / "same_task-asyncio.json"
        cell.parent.mkdir(parents=True)
        cell.write_bytes(raw)
        (root / "sessions").mkdir()
        (root / "sessions" / "py3.11-minimal.json").write_text(json.dumps(session))
        held = _report_holds(root)
        assert held["merged"].records[CellId("3.11", "minimal", "none", "same_task",
                                             "asyncio")].outcome == "not run"


def test_the_budget_is_bounded_and_deterministic():
    """The fuzz tests run in CI in the normal test command: a fixed number of examples, the
    same examples every run, and no timing (a hang is pytest-timeout's, pyproject's timeout)."""
    assert BUDGET.max_examples <= 200 and BUDGET.derandomize and BUDGET.database is None
    assert BUDGET.deadline is None and RESULTS_BUDGET.deadline is None
    with pytest.raises(MatrixError):
        matrix_module.parse_matrix({})
