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
    nox -s ci-matrix                              # the GitHub Actions job matrix (JSON)
    nox -s bench                                  # what each fix costs (not in the default run)
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
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from harness.matrix import MatrixError, check_pins, load_matrix  # noqa: E402
from harness.plan import session_name  # noqa: E402
from harness.settings import SettingError, cell_timeout_from_env, whole_number  # noqa: E402


def _only_locking(argv: list[str]) -> bool:
    """``nox -s lock``: the session that writes the pins may run while they are out of date."""
    asked = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("-s", "--session",
                                                                      "--sessions", "-e")]
    return asked == ["lock"]


try:
    MATRIX = load_matrix()
    if not _only_locking(sys.argv):
        check_pins(MATRIX)
    cell_timeout_from_env()  # refused here, before any session installs or runs
except (MatrixError, SettingError) as exc:
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


INTERRUPT_GRACE = 20.0
"""Seconds nox lets pytest finish after Ctrl-C (nox's default, 0.3 s, then SIGTERM and SIGKILL,
is shorter than pytest needs to record the interrupted cell and its session: about 2 s)."""


def test_session_names() -> list[str]:
    """Target-major, so dealing them out round-robin gives each process a mix of targets."""
    return [session_name(python, target) for target in MATRIX.targets for python in PYTHONS]


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
    session.run(*_in_namespace(session), "python", "-m", "pytest", "-n", "auto",
                *session.posargs, env=_pytest_environment(target),
                interrupt_timeout=INTERRUPT_GRACE)


def _in_namespace(session: nox.Session) -> list[str]:
    """The kernel-level network guard, where it can be had: the cells run in a network
    namespace with only loopback (harness/netns.py; Linux, root). CTXRESET_NETNS=0 opts out.
    Elsewhere the audit hook in tests/conftest.py is the guard, and the log says so."""
    from harness.netns import unavailable

    reason = ("CTXRESET_NETNS=0" if os.environ.get("CTXRESET_NETNS") == "0"
              else unavailable())
    if reason:
        session.log(f"no loopback-only network namespace ({reason}); the audit hook guards")
        return []
    session.log("cells run in a network namespace with only loopback (harness/netns.py)")
    return ["python", "-m", "harness.netns"]


@nox.session(python=False)
def matrix(session: nox.Session) -> None:
    """Every test session, in one nox process per core (logs in .nox/logs/), then the report.

    The previous run's cell files move to .nox/previous-results/, so the report shows this
    run only. Each session runs its cells in one pytest-xdist worker: a cell
    that kills its interpreter costs that cell, not the rest. Ctrl-C stops the sessions, keeps
    every finished cell, marks the rest "not run (interrupted)" and still writes the report.
    """
    names = test_session_names()
    workers = max(1, min(os.cpu_count() or 1, len(names)))
    _set_aside_previous_cells(session)
    LOGS.mkdir(parents=True, exist_ok=True)
    running = []
    for index in range(workers):
        group = names[index::workers]
        log_path = LOGS / f"matrix-{index + 1}.log"
        command = [sys.executable, "-m", "nox", "--script-mode", "none", "-f", __file__,
                   "-s", *group, "--", "-n", "1", *session.posargs]
        session.log(f"nox process {index + 1}: {len(group)} sessions, log {log_path}")
        with open(log_path, "w") as log:
            running.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT),
                            log_path))
    interrupted = False
    try:
        for process, _log_path in running:
            process.wait()
    except KeyboardInterrupt:  # the children got the same SIGINT; let them finish writing
        interrupted = True
        for process, _log_path in running:
            process.wait()
    failed = []
    for process, log_path in running:
        summary = [line for line in log_path.read_text().splitlines() if line.startswith("nox > *")]
        for line in summary:
            session.log(line.removeprefix("nox > "))
        if process.returncode != 0:
            failed.append(str(log_path))
    if interrupted:
        _record_interrupted()
    report(session)
    if interrupted:
        session.error("interrupted: finished cells are kept; the rest are 'not run (interrupted)'")
    if failed:
        session.error(f"test sessions failed; see {', '.join(failed)}")


def _set_aside_previous_cells(session: nox.Session) -> None:
    """Move the last run's cell and session files to .nox/previous-results/ (benchmark and
    sweep results stay: a matrix run does not redo them)."""
    previous = ROOT / ".nox" / "previous-results"
    shutil.rmtree(previous, ignore_errors=True)
    moved = [path for path in (*RESULTS.glob("py*"), RESULTS / "sessions") if path.exists()]
    for path in moved:
        previous.mkdir(parents=True, exist_ok=True)
        path.rename(previous / path.name)
    if moved:
        session.log(f"moved the previous run's cells to {previous}")


def _record_interrupted() -> None:
    """After Ctrl-C: a "not run (interrupted)" file for every planned cell that has none."""
    from harness.cell import INTERRUPTED, not_run
    from harness.plan import planned_cells, ruled_out
    from harness.results import cell_path, matrix_hash, write_cell

    provenance = {"python": None, "matrix_hash": matrix_hash()}
    for python in PYTHONS:
        for cell in planned_cells(MATRIX, python):
            record = not_run(cell, ruled_out(MATRIX, cell) or INTERRUPTED)
            if not cell_path(RESULTS, record).exists():
                write_cell(RESULTS, record, provenance)


@nox.session(python=False)
def report(session: nox.Session) -> None:
    """Record missing interpreters as "not run", then write reports/report.{md,html,json}.

    nox -s report -- --diff OLD.json      # also: what changed since an earlier report.json

    A target that already has results for a missing Python (CI's report job collects them
    from the test jobs' runners) keeps them: only the targets without any are recorded.
    """
    from harness.report import main as write_report
    from harness.results import matrix_hash, targets_without_results

    for python in PYTHONS:
        if find_interpreter(python) is None:
            reason = f"interpreter missing: no python{python} on PATH, in pyenv or uv"
            targets = targets_without_results(RESULTS, MATRIX, python, matrix_hash())
            _record_not_run(python, targets, reason)
            if targets:
                session.log(f"python {python}: {reason} ({', '.join(targets)})")
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


@nox.session(name="ci-matrix", python=False)
def ci_matrix(session: nox.Session) -> None:
    """The GitHub Actions job matrix as one line of JSON on stdout (.github/workflows/)."""
    from harness.ci_matrix import ci_matrix as job_matrix

    print(json.dumps(job_matrix(MATRIX)))


@nox.session(name="flake-check", python=False)
def flake_check(session: nox.Session) -> None:
    """Run every cell of one Python N times and list any cell whose outcome differs.

    nox -s flake-check                     # 20 runs on 3.11 (writes .nox/flake-check/run-*)
    nox -s flake-check -- 5 3.12           # 5 runs on 3.12
    """
    try:
        runs = whole_number("flake-check runs", session.posargs[0]) if session.posargs else 20
    except SettingError as exc:
        session.error(str(exc))
    python = session.posargs[1] if len(session.posargs) > 1 else "3.11"
    if python not in MATRIX.pythons:
        session.error(f"python: bad value {python!r}; allowed: {', '.join(MATRIX.pythons)}")
    targets = [t for t in MATRIX.targets if not MATRIX.target_not_run(t, python)]
    names = [session_name(python, target) for target in targets]
    root = ROOT / ".nox" / "flake-check"
    shutil.rmtree(root, ignore_errors=True)
    run_dirs = []
    for index in range(1, runs + 1):
        run_dir = root / f"run-{index:02d}"
        run_dirs.append(str(run_dir))
        session.log(f"run {index} of {runs}: {len(names)} sessions on {python}")
        session.run(sys.executable, "-m", "nox", "--script-mode", "none", "-f", __file__,
                    "-s", *names, "--", "-n", "1", "-q", "--results-dir", str(run_dir),
                    "tests/test_cells.py", silent=True, success_codes=[0, 1], external=True)
    from harness.flakes import main as compare_runs

    if compare_runs(run_dirs) != 0:
        session.error("some cells flipped between runs (listed above)")


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


@nox.session(python=MATRIX.bench.python if MATRIX.bench else False)
def bench(session: nox.Session) -> None:
    """What each fix costs per same-task streamed run and per event, as ratios to ``none``.

    Not in the default run. Settings from matrix.yaml's ``bench:`` section; its own venv,
    installed as the test sessions are; one process per loop, each writing
    results/bench/py<python>-<target>-<loop>.json (the report shows it beside each fix).
    ``nox -s bench -- --repeats 5`` passes arguments on to ``python -m harness.bench``.
    """
    if MATRIX.bench is None:
        session.skip("matrix.yaml has no bench: section")
    target = MATRIX.bench.target
    _install(session, target)
    for loop in MATRIX.bench.loops:
        out = RESULTS / "bench" / f"py{MATRIX.bench.python}-{target}-{loop}.json"
        session.run("python", "-m", "harness.bench", "--target", target, "--loop", loop,
                    "--out", str(out), *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff, at the version pinned in pyproject's lint extra."""
    session.run("uvx", "ruff@0.14.0", "check", ".", external=True)
