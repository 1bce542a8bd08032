# /// script
# dependencies = ["nox>=2025.2.9", "pyyaml>=6", "jsonschema>=4.18", "packaging>=21", "jinja2>=3.1"]
# ///
"""The project's sessions, generated from matrix.yaml; the work is in the ctxreset package.

    nox                                           # everything below marked (default), then report
    nox -l                                        # the sessions
    nox -s "tests-3.11(target='agents-0.0.11')"   # one cell group (tests/cells/)
    nox -s "tests-3.11(target='minimal')" -- -k other_task   # pytest arguments pass through
    nox -s unit                                   # the harness's own tests (tests/unit/), once
    nox -s "library(python='3.9', target='agents-0.0.11')"   # tests/library/, once per target
    nox -s wheel                                  # -p ctxreset.apply_fix from a built wheel
    nox -s lint typecheck                         # ruff, mypy (.ci/tools.txt pins them)
    nox -s report -- --diff OLD.json              # reports/ from results/ (and a diff)
    nox -s lock                                   # regenerate constraints/ from matrix.yaml
    nox -s tox-ini                                # regenerate tox.ini from matrix.yaml
    nox -s ci-matrix                              # the GitHub Actions job matrix (JSON)
    nox -s bench                                  # what each fix costs (not default)
    nox -s sweep -- 0.0.3..0.0.19 newest          # unpatched, per release (slow; not default)
    nox -s flake-check -- 5 3.12                  # every cell of one Python N times

Interpreters come from PATH, pyenv and uv's Pythons; nox never downloads one. A missing one is
recorded "not run" locally and is an error on CI (CI=true). CTXRESET_PYTHONS="3.11,3.12"
narrows the run. A plain ``nox`` runs ``matrix``: the sessions in one nox process per core
(ctxreset.orchestrate), then the report.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from ctxreset import orchestrate, settings  # noqa: E402
from ctxreset.matrix.loader import MatrixError, check_pins, load_matrix  # noqa: E402
from ctxreset.matrix.plan import session_name  # noqa: E402


def _only_locking(argv: list[str]) -> bool:
    """``nox -s lock``: the session that writes the pins may run while they are out of date."""
    asked = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("-s", "--session",
                                                                      "--sessions", "-e")]
    return asked == ["lock"]


try:
    MATRIX = load_matrix()
    if not _only_locking(sys.argv):
        check_pins(MATRIX)
    settings.cell_timeout_from_env()  # refused here, before any session installs or runs
    PYTHONS = settings.pythons(MATRIX.pythons)
except (MatrixError, settings.SettingError) as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)

ON_CI = os.environ.get("CI", "").lower() == "true"
RESULTS = ROOT / "results"
LOGS = ROOT / ".nox" / "logs"
UNIT_PYTHON = PYTHONS[0]
LIBRARY_SESSIONS = orchestrate.library_sessions(MATRIX, PYTHONS)
WHEEL_TARGET = orchestrate.WHEEL_TARGET

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = ON_CI
nox.options.sessions = ["matrix"]
os.environ["PATH"] = orchestrate.search_path()

INTERRUPT_GRACE = 20.0
"""Seconds nox lets pytest finish after Ctrl-C (nox's default, 0.3 s, then SIGTERM and SIGKILL,
is shorter than pytest needs to record the interrupted cell and its session: about 2 s)."""


def _install(session: nox.Session, target: str) -> None:
    """The harness, its pinned test tools, the library under test and the loops; skipped when
    the reused venv was installed from exactly these inputs (a stamp in the venv)."""
    constraints = ("-c", f"constraints/{target}.txt")
    required = ["-e", ".[test,server]", *constraints, *MATRIX.targets[target].requirements,
                *MATRIX.loop_requirements()]
    optional = MATRIX.optional_loop_requirements()
    inputs = "\n".join([*required, *optional, (ROOT / f"constraints/{target}.txt").read_text(),
                        (ROOT / "pyproject.toml").read_text()])
    stamp, digest, current = orchestrate.install_stamp(Path(session.virtualenv.location), inputs)
    if current:
        session.log("requirements unchanged since this venv was installed; not reinstalling")
        return
    session.install(*required)
    for extra in optional:
        try:
            session.install(extra, *constraints)
        except nox.command.CommandFailed:
            session.warn(f"optional {extra!r} did not install; its cells are 'not run'")
    stamp.write_text(digest)


def _pytest(session: nox.Session, folder: str, env: dict[str, str]) -> None:
    """pytest on one tests/ folder, in a loopback-only network namespace where one can be had
    (ctxreset/run/netns.py; Linux, root; CTXRESET_NETNS=0 opts out). Elsewhere the audit hook
    of the cell plugin (ctxreset/run/netguard.py) is the guard, and the log says so."""
    from ctxreset.run.netns import unavailable

    reason = f"{settings.NETNS}=0" if settings.netns_opted_out() else unavailable()
    if reason:
        session.log(f"no loopback-only network namespace ({reason}); the audit hook guards")
    netns = [] if reason else ["python", "-m", "ctxreset.run.netns"]
    session.run(*netns, "python", "-m", "pytest", "-n", "auto", "-o", f"testpaths={folder}",
                *session.posargs, env=env, interrupt_timeout=INTERRUPT_GRACE)


@nox.session(python=PYTHONS)
@nox.parametrize("target", list(MATRIX.targets))
def tests(session: nox.Session, target: str) -> None:
    """The cells (tests/cells/) of one target on one interpreter; writes results/."""
    reason = MATRIX.target_not_run(target, str(session.python))
    if reason:
        orchestrate.record_not_run(RESULTS, MATRIX, str(session.python), [target], reason)
        session.skip(reason)
    _install(session, target)
    _pytest(session, "tests/cells",
            {settings.RESULTS_DIR: str(RESULTS), settings.TARGETS: target})


@nox.session(python=UNIT_PYTHON)
def unit(session: nox.Session) -> None:
    """The harness's own tests (tests/unit/): independent of Python and target, run once."""
    _install(session, "minimal")
    _pytest(session, "tests/unit", {settings.RESULTS_DIR: "", settings.TARGETS: "minimal"})


@nox.session
@nox.parametrize(("python", "target"), LIBRARY_SESSIONS)
def library(session: nox.Session, target: str) -> None:
    """tests/library/ (needs the library installed), once per target, on its first Python.

    Fixes revert exactly, the apply-fix plugin in a foreign suite, nothing is exported."""
    _install(session, target)
    _pytest(session, "tests/library", {settings.RESULTS_DIR: "", settings.TARGETS: target})


@nox.session(python=UNIT_PYTHON)
def wheel(session: nox.Session) -> None:
    """-p ctxreset.apply_fix from a built wheel, installed into a fresh venv.

    The wheel and openai-agents 0.0.11 (the target's constraints) run
    tests/library/foreign_suite, which must pass with --apply-fix context_rerun and fail with
    the "different Context" ValueError without it."""
    tmp = Path(session.create_tmp()).resolve()
    session.run("uv", "build", "--quiet", "--wheel", "--out-dir", str(tmp / "dist"),
                external=True)
    built = max((tmp / "dist").glob("ctxreset_harness-*.whl"), key=lambda p: p.stat().st_mtime)
    venv = tmp / "user-venv"
    session.run("uv", "venv", "--quiet", "--clear", "--python", str(session.python), str(venv),
                external=True)
    python = str(venv / "bin" / "python")
    session.run("uv", "pip", "install", "--quiet", "--python", python, str(built), "pytest",
                str(MATRIX.targets[WHEEL_TARGET].requirement),
                "-c", f"constraints/{WHEEL_TARGET}.txt", external=True)
    suite = tmp / "suite"  # outside any pytest configuration of this project
    suite.mkdir(exist_ok=True)
    (suite / "pytest.ini").write_text("[pytest]\n")
    (suite / "test_stream_endpoint.py").write_text(
        (ROOT / "tests/library/foreign_suite/stream_endpoint.py").read_text())
    from ctxreset.run.netns import unavailable

    netns = [] if settings.netns_opted_out() or unavailable() else [python, "-m",
                                                                      "ctxreset.run.netns"]
    plugin = [*netns, python, "-m", "pytest", "-p", "ctxreset.apply_fix", "-q", str(suite)]
    env = {settings.APPLY_FIX: ""}
    with session.chdir(suite):  # not the checkout: python -m would import ctxreset from it
        fixed = session.run(*plugin, "--apply-fix", "context_rerun", env=env, external=True,
                            silent=True)
        bare = str(session.run(*plugin, env=env, external=True, silent=True,
                               success_codes=[1]))
    session.log(f"with --apply-fix context_rerun: {str(fixed).strip().splitlines()[-1]}")
    if "was created in a different Context" not in bare:
        session.error(f"without a fix the foreign test did not fail with the ValueError:\n{bare}")
    session.log(f"without a fix: {bare.strip().splitlines()[-1]} (the ValueError)")


@nox.session(python=False)
def matrix(session: nox.Session) -> None:
    """The default: every session below, one nox process per core, then the report.

    Logs in .nox/logs/. The previous run's cell files move to .nox/previous-results/. Ctrl-C
    keeps every finished cell, marks the rest "not run (interrupted)", still writes the
    report."""
    names = [*orchestrate.cell_session_names(MATRIX, PYTHONS),
             *(job.session for job in orchestrate.checks(MATRIX, PYTHONS))]
    if orchestrate.set_aside_previous_cells(RESULTS, ROOT / ".nox" / "previous-results"):
        session.log("moved the previous run's cells to .nox/previous-results")
    commands = [[sys.executable, "-m", "nox", "--script-mode", "none", "-f", __file__,
                 "-s", *group, "--", "-n", "1", *session.posargs]
                for group in orchestrate.deal(names, os.cpu_count() or 1)]
    failed, interrupted = orchestrate.run_processes(commands, LOGS, session.log)
    if interrupted:
        orchestrate.record_interrupted(RESULTS, MATRIX, PYTHONS)
    report(session)
    if interrupted:
        session.error("interrupted: finished cells are kept; the rest are 'not run (interrupted)'")
    if failed:
        session.error(f"sessions failed; see {', '.join(failed)}")


@nox.session(python=False)
def report(session: nox.Session) -> None:
    """Record missing interpreters as "not run", then write reports/report.{md,html,json}.

    nox -s report -- --diff OLD.json      # also: what changed since an earlier report.json

    A target that already has results for a missing Python (CI's report job collects them
    from the test jobs' runners) keeps them: only the targets without any are recorded.
    """
    from ctxreset.matrix.loader import matrix_hash
    from ctxreset.report.build import main as write_report

    for python in PYTHONS:
        if orchestrate.find_interpreter(python) is None:
            reason = orchestrate.MISSING_INTERPRETER.format(python=python)
            targets = orchestrate.targets_without_results(RESULTS, MATRIX, python, matrix_hash())
            orchestrate.record_not_run(RESULTS, MATRIX, python, targets, reason)
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
    """Every scenario, unpatched, per release in matrix.yaml's sweep: range (slow).

    One venv per release in .nox/sweep/<version>/ (reused), then the report. Not in `nox`.

    nox -s sweep -- 0.0.3..0.0.19 newest      # narrow: ranges, single releases, `newest`
    """
    from ctxreset.sweep.driver import sweep_from_matrix

    spec = MATRIX.sweep
    interpreter = orchestrate.find_interpreter(spec.python) if spec else None
    if spec and interpreter is None:
        session.error(f"sweep: python{spec.python} not found on PATH, in pyenv or uv")
    try:
        sweep_from_matrix(MATRIX, str(interpreter), session.posargs, ROOT, session.log)
    except ValueError as exc:
        session.error(str(exc))
    report(session)


@nox.session(name="ci-matrix", python=False)
def ci_matrix(session: nox.Session) -> None:
    """The GitHub Actions job matrix as one line of JSON on stdout (.github/workflows/)."""
    from ctxreset.ci_matrix import ci_matrix as job_matrix

    print(json.dumps(job_matrix(MATRIX, PYTHONS)))


@nox.session(name="flake-check", python=False)
def flake_check(session: nox.Session) -> None:
    """Run every cell of one Python N times and list any cell whose outcome differs.

    nox -s flake-check                     # 20 runs on 3.11 (writes .nox/flake-check/run-*)
    nox -s flake-check -- 5 3.12           # 5 runs on 3.12
    """
    from ctxreset.report.flakes import main as compare_runs

    try:
        runs = (settings.whole_number("flake-check runs", session.posargs[0])
                if session.posargs else 20)
    except settings.SettingError as exc:
        session.error(str(exc))
    python = session.posargs[1] if len(session.posargs) > 1 else "3.11"
    if python not in MATRIX.pythons:
        session.error(f"python: bad value {python!r}; allowed: {', '.join(MATRIX.pythons)}")
    names = [session_name(python, target) for target in MATRIX.targets
             if not MATRIX.target_not_run(target, python)]
    root = ROOT / ".nox" / "flake-check"
    run_dirs = [root / f"run-{index:02d}" for index in range(1, runs + 1)]
    for index, run_dir in enumerate(run_dirs, 1):
        session.log(f"run {index} of {runs}: {len(names)} sessions on {python}")
        session.run(sys.executable, "-m", "nox", "--script-mode", "none", "-f", __file__,
                    "-s", *names, "--", "-n", "1", "-q", "--results-dir", str(run_dir),
                    "tests/cells", silent=True, success_codes=[0, 1], external=True)
    if compare_runs([str(d) for d in run_dirs]) != 0:
        session.error("some cells flipped between runs (listed above)")


@nox.session(python=False)
def lock(session: nox.Session) -> None:
    """Regenerate constraints/<target>.txt for every target (uv pip compile, all Pythons)."""
    for target, spec in MATRIX.targets.items():
        oldest = next(p for p in MATRIX.pythons if not MATRIX.target_not_run(target, p))
        requirements = [*spec.requirements,
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
    from ctxreset.toxini import render_tox_ini

    (ROOT / "tox.ini").write_text(render_tox_ini(MATRIX))
    session.log("wrote tox.ini")


@nox.session(python=MATRIX.bench.python if MATRIX.bench else False)
def bench(session: nox.Session) -> None:
    """What each fix costs, as ratios to ``none`` (not in the default run).

    Per same-task streamed run and per event (matrix.yaml's ``bench:``; results/bench/; the
    report shows it). ``nox -s bench -- --repeats 5`` passes arguments on to
    ``python -m ctxreset.bench``."""
    if MATRIX.bench is None:
        session.skip("matrix.yaml has no bench: section")
    target = MATRIX.bench.target
    _install(session, target)
    for loop in MATRIX.bench.loops:
        out = RESULTS / "bench" / f"py{MATRIX.bench.python}-{target}-{loop}.json"
        session.run("python", "-m", "ctxreset.bench", "--target", target, "--loop", loop,
                    "--out", str(out), *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff, at the version .ci/tools.txt pins."""
    session.run("uvx", "--from", orchestrate.tool("ruff"), "ruff", "check", ".", external=True)


@nox.session(python=UNIT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy, at the version .ci/tools.txt pins, with pyproject's [tool.mypy]."""
    _install(session, WHEEL_TARGET)
    session.install(orchestrate.tool("mypy"))
    # mypy cannot follow the import hook of a default editable install, through which
    # ctxreset.repro and ctxreset.fixes resolve to repro/ and fixes/; setuptools' strict
    # editable mode lays the package out as installed (links into the checkout, build/).
    session.install("--no-deps", "-e", ".", "--config-settings", "editable_mode=strict")
    tree = max(Path("build").glob("__editable__.ctxreset_harness-*"),
               key=lambda p: p.stat().st_mtime)
    session.run("mypy", env={"MYPYPATH": str(tree.resolve())})  # what: pyproject's [tool.mypy]
