"""Candidate targets (a checkout, a wheel, a release plus a patch) and ``nox -s candidate``:
what matrix.yaml accepts, what the command refuses before anything runs (one line, exit 2),
and how the candidate report orders and judges what it compares."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path

import pytest
import yaml

from ctxreset import candidate
from ctxreset.catalogue import PROPERTIES
from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, MatrixError, parse_matrix
from ctxreset.matrix.sources import SourceError, apply_patch, check_source, classify
from ctxreset.records import CellId
from ctxreset.report.candidate import compare, lines
from ctxreset.report.merge import CellRecord

ROOT = DEFAULT_MATRIX_PATH.parent
PATCHES = ROOT / "patches"
REAL = yaml.safe_load(DEFAULT_MATRIX_PATH.read_text())
"""matrix.yaml parsed once (pure-Python YAML: a tenth of a second each time)."""
_RELEASES = [spec["requirement"] for spec in REAL["targets"].values() if spec.get("requirement")]
RELEASES = ", ".join(_RELEASES)
"""Every released target's requirement in matrix.yaml, in its order: what a base may name."""
LIBRARIES = ", ".join(sorted({r.split("==")[0] for r in _RELEASES}))


@pytest.fixture
def data():
    return copy.deepcopy(REAL)  # each test changes a copy of its own


def _error(data) -> str:
    with pytest.raises(MatrixError) as info:
        parse_matrix(data, ROOT)
    assert "\n" not in str(info.value)
    return str(info.value)


# --- matrix.yaml ------------------------------------------------------------------------------


def test_a_patch_target_is_judged_like_a_release_on_what_its_base_supports(data):
    data["targets"]["agents-ignore"] = {"base": "openai-agents==0.0.11",
                                        "patch": "patches/catch_and_ignore.diff"}
    data["targets"]["newest-branch"] = {"base": "openai-agents==0.24.0", "path": "."}
    matrix = parse_matrix(data, ROOT)
    assert matrix.fixes_for("agents-ignore") == ("upstream",)  # no runtime patch
    assert matrix.baseline_of("agents-ignore") == "agents-0.0.11"
    assert matrix.baseline_of("newest-branch") == "agents-0.0.11"  # its base's baseline
    source = matrix.targets["agents-ignore"].source
    assert source is not None and source.location == PATCHES / "catch_and_ignore.diff"
    # the base release's Python range and exclusions
    assert matrix.target_not_run("newest-branch", "3.9") == matrix.target_not_run(
        "agents-newest", "3.9") is not None
    assert matrix.target_not_run("agents-ignore", "3.9") is None
    data["exclusions"].append({"targets": ["agents-0.0.11"], "scenarios": ["same_task"],
                               "reason": "test"})
    matrix = parse_matrix(data, ROOT)
    assert matrix.excluded("agents-ignore", "same_task", "asyncio", "3.11") == (
        "test (matrix.yaml exclusions)")


@pytest.mark.parametrize(("spec", "expected"), [
    ({"base": "openai-agents==0.0.11"},
     "matrix.yaml: targets.x: give exactly one of requirement, path, wheel, patch (with base); "
     "got none"),
    ({"requirement": "openai-agents==0.0.11", "path": "."},
     "matrix.yaml: targets.x: give exactly one of requirement, path, wheel, patch (with base); "
     "got requirement, path"),
    ({"patch": "p.diff"},
     "matrix.yaml: targets.x.base: bad value None; allowed: the requirement of a released "
     f"target: {RELEASES}"),
    ({"patch": "p.diff", "base": "openai-agents==0.0.9"},
     "matrix.yaml: targets.x.base: bad value 'openai-agents==0.0.9'; allowed: the requirement "
     f"of a released target: {RELEASES}"),
    ({"wheel": "a.whl", "base": "openai-agents==0.0.11", "requires_python": ">=3.10"},
     "matrix.yaml: targets.x: a candidate takes its Pythons and baseline from its base "
     "release; remove requires_python/baseline"),
    ({"patch": "", "base": "openai-agents==0.0.11"},
     "matrix.yaml: targets.x.patch: bad value ''; allowed: a path, relative to matrix.yaml or "
     "absolute"),
])
def test_a_malformed_candidate_target_is_one_line(data, spec, expected):
    data["targets"]["x"] = spec
    assert _error(data) == expected


# --- the candidate itself ----------------------------------------------------------------------


def _wheel(folder: Path, name: str, version: str) -> Path:
    path = folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name.replace('-', '_')}-{version}.dist-info/METADATA",
                       f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return path


def test_sources_name_what_they_install(tmp_path):
    assert check_source(classify(str(_wheel(tmp_path, "openai-agents", "0.0.13"))),
                        {"openai-agents"}) == "openai-agents"
    checkout = tmp_path / "branch"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text('[build-system]\n[project]\nname = "OpenAI_Agents"\n')
    assert check_source(classify(str(checkout)), {"openai-agents"}) == "openai-agents"


@pytest.mark.parametrize("make", ["not a package", "wheel for another library", "not a wheel",
                                  "not a diff", "missing"])
def test_bad_input_is_one_line_and_exit_2_before_anything_runs(tmp_path, monkeypatch, capsys,
                                                                make):
    if make == "not a package":
        argument, expected = tmp_path, f"{tmp_path}: not a Python package (no pyproject.toml)"
    elif make == "wheel for another library":
        argument = _wheel(tmp_path, "requests", "2.32.0")
        expected = f"{argument}: builds 'requests', not a library of the matrix ({LIBRARIES})"
    elif make == "not a wheel":
        argument = tmp_path / "broken-1.0-py3-none-any.whl"
        argument.write_text("not a zip")
        expected = f"{argument}: not a wheel (File is not a zip file)"
    elif make == "not a diff":
        argument = tmp_path / "notes.diff"
        argument.write_text("just words\n")
        expected = f"{argument}: not a unified diff (no '+++' file and '@@' hunk)"
    else:
        argument, expected = tmp_path / "gone.diff", f"{tmp_path / 'gone.diff'}: no such patch file"

    def must_not_run(*args, **kwargs):
        raise AssertionError("a session ran for a candidate that cannot be judged")

    monkeypatch.setattr(candidate, "nested_nox", must_not_run)
    status = candidate.main([str(argument)], ROOT, ("3.11",), lambda p, t: "", lambda p: None,
                            {"matrix": "M", "results": "R"}, lambda line: None)
    assert status == 2
    assert capsys.readouterr().err == expected + "\n"


def test_against_and_python_are_checked(monkeypatch, capsys):
    monkeypatch.setattr(candidate, "nested_nox", lambda *a, **k: pytest.fail("ran"))
    for extra, expected in [
        (["--against", "openai-agents==0.0.7"], "--against: bad value 'openai-agents==0.0.7'; "
         f"allowed: {RELEASES}"),
        (["--python", "2.7"], "--python: bad value '2.7'; allowed: 3.9, 3.10, 3.11, 3.12, "
         "3.13, 3.14"),
    ]:
        status = candidate.main([str(PATCHES / "catch_and_ignore.diff"), *extra], ROOT,
                                ("3.11",), lambda p, t: "", lambda p: None,
                                {"matrix": "M", "results": "R"}, lambda line: None)
        assert (status, capsys.readouterr().err) == (2, expected + "\n")


def test_a_patch_that_does_not_apply_changes_nothing(tmp_path):
    site = tmp_path / "site"
    (site / "agents" / "tracing").mkdir(parents=True)
    scope = site / "agents" / "tracing" / "scope.py"
    scope.write_text("# not the 0.0.11 source\n")
    with pytest.raises(SourceError) as info:
        apply_patch(site, PATCHES / "catch_and_ignore.diff")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{PATCHES / 'catch_and_ignore.diff'}: does not apply to {site}: ")
    assert scope.read_text() == "# not the 0.0.11 source\n"
    assert sorted(p.name for p in site.rglob("*") if p.is_file()) == ["scope.py"]


def test_a_checkout_or_wheel_installs_without_its_base_pin(tmp_path, data):
    data["targets"]["branch"] = {"base": "openai-agents==0.0.11",
                                 "wheel": str(_wheel(tmp_path, "openai-agents", "0.0.13"))}
    matrix = parse_matrix(data, ROOT)
    pins, install, fingerprint = candidate.install_arguments(
        matrix, "branch", ROOT / "constraints" / "agents-0.0.11.txt", tmp_path / "venv")
    kept = pins.read_text()
    assert "openai-agents==" not in kept and "openai==" in kept
    assert install == [str(tmp_path / "openai_agents-0.0.13-py3-none-any.whl")]
    assert fingerprint.startswith("wheel ") and len(fingerprint) == len("wheel ") + 64


# --- the comparison --------------------------------------------------------------------------


def _record(target: str, fix: str, scenario: str, loop: str, failing: tuple[str, ...],
            status: str = "checked") -> CellRecord:
    return CellRecord(CellId("3.11", target, fix, scenario, loop), status, failing,
                      evidence={name: [f"{name} evidence"] for name in failing})


def test_new_failures_first_then_better_then_the_same(data):
    data["targets"]["cand"] = {"base": "openai-agents==0.0.11", "patch": "p.diff"}
    matrix = parse_matrix(data, ROOT)
    records = {}
    for loop in ("asyncio", "uvloop"):
        for record in (
            _record("cand", "upstream", "other_task", loop, ("no-leak",)),
            _record("agents-0.0.11", "none", "other_task", loop, ("no-error", "no-leak")),
            _record("cand", "upstream", "same_task", loop, ()),
            _record("agents-0.0.11", "none", "same_task", loop, ()),
            _record("cand", "upstream", "consumer_spans", loop,
                    ("consumer-spans-attached",) if loop == "uvloop" else ()),
            _record("agents-0.0.11", "none", "consumer_spans", loop, ()),
            _record("cand", "upstream", "early_break", loop, (), status="timeout"),
            _record("agents-0.0.11", "none", "early_break", loop, ("no-leak",)),
        ):
            records[record.cell] = record
    found = compare(matrix, records, "cand", "agents-0.0.11", "none")
    assert [(c.scenario, c.verdict) for c in found[:4]] == [
        ("early_break", "worse"), ("consumer_spans", "worse"), ("other_task", "better"),
        ("same_task", "same")]
    assert found[0].worse == {name: ["py3.11 asyncio", "py3.11 uvloop"]
                              for name in sorted(set(PROPERTIES) - {"no-leak"} | {"timeout"})}
    assert found[1].worse == {"consumer-spans-attached": ["py3.11 uvloop"]}
    assert found[2].better == {"no-error": ["py3.11 asyncio", "py3.11 uvloop"]}
    assert found[2].still == {"no-leak"}
    assert all(c.verdict == "not compared" for c in found[4:])
    text = lines(found, "cand", "agents-0.0.11", "why", {"kind": "patch"}, "rule")
    assert text[0] == ("cand vs agents-0.0.11: REGRESSES: worse on 2 scenarios, better on 1, "
                       f"the same on 1, not compared on {len(found) - 4}")
    assert text[1].startswith("  WORSE  early_break: newly fails ")
    assert text[2].startswith("         evidence: py3.11/cand/upstream/early_break[")
    assert "  BETTER other_task: passes no-error (all 2 cells); still fails no-leak" in text


def test_provenance_names_what_was_judged(tmp_path):
    from ctxreset.matrix.sources import Source, provenance, sha256

    patch = PATCHES / "catch_and_ignore.diff"
    assert provenance(Source("patch", patch, "openai-agents==0.0.11")) == {
        "kind": "patch", "patch": str(patch), "sha256": sha256(patch),
        "base": "openai-agents==0.0.11"}
    checkout = tmp_path / "branch"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text('[project]\nname = "openai-agents"\n')
    git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@t"]
    import subprocess

    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    source = Source("path", checkout, None)
    assert provenance(source) == {"kind": "path", "path": str(checkout), "commit": commit,
                                  "dirty": False, "base": None}
    (checkout / "pyproject.toml").write_text('[project]\nname = "openai-agents"\n# edit\n')
    assert provenance(source)["dirty"] is True


def test_a_regressing_candidate_ranks_after_every_other():
    from ctxreset.report.candidate import ranking_lines

    found = ranking_lines([("in-task", (13, 4, 22), "rule: REGRESSES"),
                           ("ignore", (0, 42, 116), "rule: short 42"),
                           ("better", (0, 3, 5), "rule: short 3")])
    assert found[1:] == ["  1. better: rule: short 3", "  2. ignore: rule: short 42",
                         "  3. in-task: rule: REGRESSES"]


def test_every_candidate_installs_before_any_cell_runs(tmp_path, monkeypatch, capsys):
    calls = []

    def nested(noxfile, session, env, pytest_args, log_file, install_only=False):
        calls.append((session, install_only))
        log_file.parent.mkdir(parents=True, exist_ok=True)
        if "trace-in-run-task" in session:
            log_file.write_text("nox > Running session\nPATCH: does not apply: Hunk #1 FAILED\n")
            return 2
        log_file.write_text("nox > ok\n")
        return 0

    monkeypatch.setattr(candidate, "nested_nox", nested)
    status = candidate.main([str(PATCHES / "catch_and_ignore.diff"),
                             str(PATCHES / "trace_in_run_task.diff")], tmp_path, ("3.11",),
                            lambda p, t: f"tests-{p}({t})", lambda p: None,
                            {"matrix": "M", "results": "R"}, lambda line: None)
    assert status == 2
    assert capsys.readouterr().err == "PATCH: does not apply: Hunk #1 FAILED\n"
    assert calls == [("tests-3.11(candidate-catch-and-ignore)", True),
                     ("tests-3.11(candidate-trace-in-run-task)", True)]


def test_a_patch_is_reapplied_only_when_its_hash_changes(tmp_path, data):
    patch = tmp_path / "mine.diff"
    patch.write_bytes((PATCHES / "catch_and_ignore.diff").read_bytes())
    data["targets"]["mine"] = {"base": "openai-agents==0.0.11", "patch": str(patch)}
    matrix = parse_matrix(data, ROOT)
    pins = ROOT / "constraints" / "agents-0.0.11.txt"

    def inputs():
        return candidate.install_arguments(matrix, "mine", pins, tmp_path / "venv")

    first = inputs()
    assert first[:2] == (pins, ["openai-agents==0.0.11"])  # the base release, its own pins
    assert inputs() == first  # the same file: the venv's install stamp stays current
    patch.write_text(patch.read_text().replace("carry on", "go on"))
    assert inputs()[2] != first[2]  # a new stamp: reinstall the base, then apply
