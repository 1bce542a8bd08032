# /// script
# dependencies = ["nox>=2025.2.9", "pyyaml>=6", "jsonschema>=4.18", "packaging>=21", "jinja2>=3.1"]
# ///
"""Sessions generated from matrix.yaml: one test session per (python, target), then the report.

    nox                                           # every cell this machine can run, then report
    nox -s tests report                           # the same, one session after another
    nox -l                                        # the sessions
    nox -s "tests-3.11(target='agents-0.0.11')"   # one cell group
    nox -s "tests-3.11(target='minimal')" -- -k other_task   # pytest arguments pass through
    nox -s lock                                   # regenerate constraints/ from matrix.yaml
    nox -s tox-ini                                # regenerate tox.ini from matrix.yaml
    nox -s sweep -- 0.0.3..0.0.19 newest          # unpatched, per release (slow; not default)

Interpreters are looked up on PATH, in pyenv's versions directory and among uv-managed
Pythons; nox never downloads one. A missing interpreter is recorded "not run" by the report
session locally, and is an error on CI (CI=true). CTXRESET_PYTHONS="3.11,3.12" narrows the
run to those Pythons (the others are reported "not run").

A plain ``nox`` runs the ``matrix`` session: the test sessions in one nox process per core
(measured on 2 cores: about half the wall time of running them one after another), then the
report.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from harness.matrix import MatrixError, load_matrix  # noqa: E402

try:
    MATRIX = load_matrix()
except MatrixError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)

ON_CI = os.environ.get("CI", "").lower() == "true"
RESULTS = ROOT / "results"
LOGS = ROOT / ".nox" / "logs"
_chosen = [p for p in os.environ.get("CTXRESET_PYTHONS", "").split(",") if p]
for _python in _chosen:
    if _python not in MATRIX.pythons:
        print(f"CTXRESET_PYTHONS: bad value {_python!r}; allowed: {', '.join(MATRIX.pythons)}",
              file=sys.stderr)
        sys.exit(2)
PYTHONS = _chosen or list(MATRIX.pythons)

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = ON_CI
nox.options.sessions = ["matrix"]


def _interpreter_dirs() -> list[Path]:
    """pyenv's and uv's installed CPythons (newest first); PATH is searched before these."""
    home = Path.home()
    pyenv_root = Path(os.environ.get("PYENV_ROOT", home / ".pyenv"))
    uv_root = Path(os.environ.get("UV_PYTHON_INSTALL_DIR", home / ".local/share/uv/python"))
    found = sorted(pyenv_root.glob("versions/3.*/bin"), reverse=True)
    found += sorted(uv_root.glob("cpython-3.*/bin"), reverse=True)
    return found


os.environ["PATH"] = os.pathsep.join(
    [os.environ.get("PATH", ""), *map(str, _interpreter_dirs())]
)


def find_interpreter(version: str) -> str | None:
    return shutil.which(f"python{version}")


def _pytest_environment(target: str) -> dict[str, str]:
    return {"CTXRESET_RESULTS_DIR": str(RESULTS), "CTXRESET_TARGETS": target}


def _install(session: nox.Session, target: str) -> None:
    """The harness, its pinned test tools, the library under test and the loops.

    Skipped when the reused venv was installed from exactly these inputs before (a stamp in
    the venv records their hash), so a warm run spends no time on installers.
    """
    constraints = ("-c", f"constraints/{target}.txt")
    requirement = MATRIX.targets[target].requirement
    required = ["-e", ".[test,server]", *constraints, *([requirement] if requirement else []),
                *MATRIX.loop_requirements()]
    optional = MATRIX.optional_loop_requirements()
    inputs = "\n".join([*required, *optional, (ROOT / f"constraints/{target}.txt").read_text(),
                        (ROOT / "pyproject.toml").read_text()])
    stamp = Path(session.virtualenv.location) / "ctxreset-installed.sha256"
    digest = hashlib.sha256(inputs.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        session.log("requirements unchanged since this venv was installed; not reinstalling")
        return
    session.install(*required)
    for extra in optional:
        try:
            session.install(extra, *constraints)
        except nox.command.CommandFailed:
            session.warn(f"optional {extra!r} did not install; its cells are 'not run'")
    stamp.write_text(digest)


def test_session_names() -> list[str]:
    """Target-major, so dealing them out round-robin gives each process a mix of targets."""
    return [f"tests-{python}(target='{target}')" for target in MATRIX.targets for python in PYTHONS]


@nox.session(python=PYTHONS)
@nox.parametrize("target", list(MATRIX.targets))
def tests(session: nox.Session, target: str) -> None:
    """Every fix x scenario x loop of one target on one interpreter; writes results/."""
    python = str(session.python)
    reason = MATRIX.target_not_run(target, python)
    if reason:
        _record_not_run(python, [target], reason)
        session.skip(reason)
    _install(session, target)
    session.run("python", "-m", "pytest", "-n", "auto", *session.posargs,
                env=_pytest_environment(target))


@nox.session(python=False)
def matrix(session: nox.Session) -> None:
    """Every test session, in one nox process per core (logs in .nox/logs/), then the report."""
    names = test_session_names()
    workers = max(1, min(os.cpu_count() or 1, len(names)))
    LOGS.mkdir(parents=True, exist_ok=True)
    running = []
    for index in range(workers):
        group = names[index::workers]
        log_path = LOGS / f"matrix-{index + 1}.log"
        command = [sys.executable, "-m", "nox", "--script-mode", "none", "-f", __file__,
                   "-s", *group, "--", "-n", "0", *session.posargs]
        session.log(f"nox process {index + 1}: {len(group)} sessions, log {log_path}")
        with open(log_path, "w") as log:
            running.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT),
                            log_path))
    failed = []
    for process, log_path in running:
        process.wait()
        summary = [line for line in log_path.read_text().splitlines() if line.startswith("nox > *")]
        for line in summary:
            session.log(line.removeprefix("nox > "))
        if process.returncode != 0:
            failed.append(str(log_path))
    report(session)
    if failed:
        session.error(f"test sessions failed; see {', '.join(failed)}")


@nox.session(python=False)
def report(session: nox.Session) -> None:
    """Record missing interpreters as "not run", then write reports/report.{md,html,json}.

    nox -s report -- --diff OLD.json      # also: what changed since an earlier report.json
    """
    from harness.report import main as write_report

    for python in PYTHONS:
        if find_interpreter(python) is None:
            reason = f"interpreter missing: no python{python} on PATH, in pyenv or uv"
            _record_not_run(python, list(MATRIX.targets), reason)
            session.log(f"python {python}: {reason}")
    arguments = ["--results", str(RESULTS), "--out", str(ROOT / "reports")]
    if "--diff" in session.posargs:  # a plain `nox -- <pytest args>` reaches here too
        at = session.posargs.index("--diff")
        arguments += session.posargs[at:at + 2]
    if write_report(arguments) != 0:
        session.error("the report could not be written")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as stream:
            stream.write((ROOT / "reports" / "report.md").read_text())


@nox.session(python=False)
def sweep(session: nox.Session) -> None:
    """Every scenario, unpatched, against each release in matrix.yaml's sweep: range (slow).

    One venv per release in .nox/sweep/<version>/ (reused), then the report. Not in `nox`.

    nox -s sweep -- 0.0.3..0.0.19 newest      # narrow: ranges, single releases, `newest`
    """
    from harness.sweep_driver import sweep_from_matrix

    spec = MATRIX.sweep
    interpreter = find_interpreter(spec.python) if spec else None
    if spec and interpreter is None:
        session.error(f"sweep: python{spec.python} not found on PATH, in pyenv or uv")
    try:
        sweep_from_matrix(MATRIX, str(interpreter), session.posargs, ROOT, session.log)
    except ValueError as exc:
        session.error(str(exc))
    report(session)


def _record_not_run(python: str, targets: list[str], reason: str) -> None:
    """A "not run" results file, with its reason, for every planned cell of these targets."""
    from harness.cell import not_run
    from harness.plan import planned_cells
    from harness.results import matrix_hash, write_cell

    provenance = {"python": None, "matrix_hash": matrix_hash()}
    for cell in planned_cells(MATRIX, python, targets):
        write_cell(RESULTS, not_run(cell, reason), provenance)


@nox.session(python=False)
def lock(session: nox.Session) -> None:
    """Regenerate constraints/<target>.txt for every target (uv pip compile, all Pythons)."""
    for target, spec in MATRIX.targets.items():
        oldest = next(p for p in MATRIX.pythons if not MATRIX.target_not_run(target, p))
        requirements = [*([spec.requirement] if spec.requirement else []),
                        *MATRIX.loop_requirements(), *MATRIX.optional_loop_requirements()]
        source = ROOT / "constraints" / f".{target}.in"
        source.write_text("\n".join(requirements) + "\n")
        try:
            session.run(
                "uv", "pip", "compile", "--quiet", "--universal", "--python-version", oldest,
                "--extra", "test", "--extra", "server", "--no-header", "--annotation-style", "line",
                "-o", f"constraints/{target}.txt", "pyproject.toml", str(source),
                external=True,
            )
        finally:
            source.unlink()


@nox.session(name="tox-ini", python=False)
def tox_ini(session: nox.Session) -> None:
    """Regenerate tox.ini from matrix.yaml (tests fail while it has drifted)."""
    from harness.toxini import render_tox_ini

    (ROOT / "tox.ini").write_text(render_tox_ini(MATRIX))
    session.log("wrote tox.ini")


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff, at the version pinned in pyproject's lint extra."""
    session.run("uvx", "ruff@0.14.0", "check", ".", external=True)
