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
    nox -s perf -- --rounds 2 --pythons 3.11      # nox vs tox-uv on the same cells (not default)
    nox -s sweep -- 0.0.3..0.0.19 newest          # unpatched, per release (slow; not default)
    nox -s flake-check -- 5 3.12                  # every cell of one Python N times
    nox -s explore -- --seeds 200 --target minimal   # every cell under seeded schedules
    nox -s candidate -- patches/x.diff [--against openai-agents==0.0.12]   # judge a patch

Interpreters come from PATH, pyenv and uv's Pythons; nox never downloads one. A missing one is
recorded "not run" locally and is an error on CI (CI=true). CTXRESET_PYTHONS="3.11,3.12"
narrows the run. A plain ``nox`` runs ``matrix``: each session in a nox process of its own, two
at once per core, longest first (ctxreset.orchestrate), then the report.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from ctxreset import candidate, interpreters, orchestrate, settings  # noqa: E402
from ctxreset.matrix.loader import MatrixError, check_pins, load_matrix  # noqa: E402
from ctxreset.matrix.plan import CELL_PYTEST, session_name  # noqa: E402
from ctxreset.matrix.sources import SourceError  # noqa: E402


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
RESULTS = Path(settings.results_dir() or ROOT / "results")  # `candidate` points it elsewhere
LOGS = ROOT / ".nox" / "logs"
DURATIONS = ROOT / ".nox" / "session-durations.json"
"""How long each session took in the last matrix run: the next one deals by it."""
UNIT_PYTHON = PYTHONS[0]
LIBRARY_SESSIONS = orchestrate.library_sessions(MATRIX, PYTHONS)
WHEEL_TARGET = orchestrate.WHEEL_TARGET

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = ON_CI
nox.options.sessions = ["matrix"]
os.environ["PATH"] = interpreters.search_path()

INTERRUPT_GRACE = 20.0
"""Seconds nox lets pytest finish after Ctrl-C (nox's default, 0.3 s, then SIGTERM and SIGKILL,
is shorter than pytest needs to record the interrupted cell and its session: about 2 s)."""


BYTECODE = "bytecode: compileall of the venv and the checkout's packages"
"""Part of every install stamp: venvs installed before this step existed get it once."""


class _Requirements(NamedTuple):
    """What a venv for one target installs, and the inputs its install stamp is a digest of."""

    required: list[str]
    optional: list[str]
    inputs: str
    constraints: tuple[str, str]
    library: list[str]


def _requirements(target: str, venv: Path) -> _Requirements:
    """The harness, its pinned test tools, the library under test (a release, or a candidate's
    checkout, wheel or patched release) and the loops; the optional loops."""
    spec = MATRIX.targets[target]
    pins = ROOT / f"constraints/{MATRIX.release_of(target)}.txt"
    library, fingerprint = [*([spec.requirement] if spec.requirement else [])], ""
    if spec.source is not None:  # a checkout, a wheel, or a release plus a patch
        pins, library, fingerprint = candidate.install_arguments(MATRIX, target, pins, venv)
    constraints = ("-c", str(pins))
    required = ["-e", ".[test,server]", *constraints, *library, *spec.also,
                *MATRIX.loop_requirements()]
    optional = MATRIX.optional_loop_requirements()
    inputs = "\n".join([*required, *optional, pins.read_text(),
                        (ROOT / "pyproject.toml").read_text(), fingerprint, BYTECODE])
    return _Requirements(required, optional, inputs, constraints, library)


def _install(session: nox.Session, target: str) -> None:
    """``_requirements(target)``; skipped when the reused venv was installed from exactly
    these inputs (a stamp in the venv)."""
    spec = MATRIX.targets[target]
    venv = Path(session.virtualenv.location)
    required, optional, inputs, constraints, library = _requirements(target, venv)
    stamp, digest, current = orchestrate.install_stamp(venv, inputs)
    if current:
        session.log("requirements unchanged since this venv was installed; not reinstalling")
        return
    session.install(*required)
    if spec.source is not None:  # the checkout or wheel as it is now; a pristine base release
        session.install("--reinstall-package", candidate.library_of(MATRIX, target), *library,
                        *constraints)
    for extra in optional:
        try:
            session.install(extra, *constraints)
        except nox.command.CommandFailed:
            session.warn(f"optional {extra!r} did not install; its cells are 'not run'")
    if spec.source is not None:
        site = str(session.run_install("python", "-c", "import sysconfig; print(sysconfig."
                                       "get_path('purelib'))", silent=True)).strip().split()[-1]
        try:
            candidate.finish_install(Path(site), MATRIX, target)
        except SourceError as exc:
            print(exc, file=sys.stderr)
            sys.exit(candidate.EXIT_BAD_INPUT)
    _compile_bytecode(session, venv)
    stamp.write_text(digest)


def _compile_bytecode(session: nox.Session, venv: Path) -> None:
    """Bytecode for everything the venv holds and the checkout's own packages, as pip writes it
    at install by default (uv does not). nox passes PYTHONDONTWRITEBYTECODE on to a session
    (tox does not): without this, every pytest process of such a run compiles each module it
    imports from source, each time (measured: about 1 s per process with openai-agents)."""
    session.run("python", "-m", "compileall", "-q", "-q", "-j", "0", str(venv / "lib"),
                *(str(ROOT / folder) for folder in ("ctxreset", "repro", "fixes", "tests")),
                success_codes=[0, 1], silent=True)  # 1: a file for another Python; left out


def _pytest(session: nox.Session, arguments: Sequence[str], env: dict[str, str]) -> None:
    """pytest on one tests/ folder (``arguments`` name it), in a loopback-only network
    namespace where one can be had (ctxreset/run/netns.py; Linux, root; CTXRESET_NETNS=0 opts
    out). Elsewhere the audit hook of the cell plugin (ctxreset/run/netguard.py) is the guard,
    and the log says so."""
    from ctxreset.run.netns import unavailable

    reason = f"{settings.NETNS}=0" if settings.netns_opted_out() else unavailable()
    if reason:
        session.log(f"no loopback-only network namespace ({reason}); the audit hook guards")
    netns = [] if reason else ["python", "-m", "ctxreset.run.netns"]
    session.run(*netns, "python", "-m", "pytest", "-n", "auto", *arguments,
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
    _pytest(session, CELL_PYTEST, {settings.RESULTS_DIR: str(RESULTS), settings.TARGETS: target})


@nox.session(python=UNIT_PYTHON)
def unit(session: nox.Session) -> None:
    """The harness's own tests (tests/unit/): independent of Python and target, run once."""
    _install(session, "minimal")
    _pytest(session, ["-o", "testpaths=tests/unit"],
            {settings.RESULTS_DIR: "", settings.TARGETS: "minimal"})


@nox.session
@nox.parametrize(("python", "target"), LIBRARY_SESSIONS)
def library(session: nox.Session, target: str) -> None:
    """tests/library/ (needs the library installed), once per target, on its first Python.

    Fixes revert exactly, the apply-fix plugin in a foreign suite, nothing is exported."""
    _install(session, target)
    _pytest(session, ["-o", "testpaths=tests/library"],
            {settings.RESULTS_DIR: "", settings.TARGETS: target})


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


def _run_sessions(names: list[str], posargs: list[str], logs: Path,
                  log: Callable[[str], object]) -> tuple[list[str], bool]:
    """Each session in a nox process of its own, two at once per core (cells often wait:
    orchestrate.PER_CORE), longest first (by .nox/session-durations.json, which this run
    updates): the next starts when one ends. pytest gets ``-n 1``: the processes already fill
    the cores, and the one xdist worker keeps a session going when a cell kills its process."""
    ordered = orchestrate.longest_first(names, orchestrate.read_durations(DURATIONS))
    shutil.rmtree(logs, ignore_errors=True)
    reports = [logs / f"matrix-{index}.json" for index in range(1, len(ordered) + 1)]
    commands = [[sys.executable, "-m", "nox", "--script-mode", "none", "-f", __file__,
                 "--report", str(report_file), "-s", name, "--", "-n", "1", *posargs]
                for name, report_file in zip(ordered, reports)]
    outcome = orchestrate.run_processes(commands, logs, log,
                                        at_once=orchestrate.side_by_side(os.cpu_count()))
    orchestrate.remember_durations(reports, DURATIONS)
    return outcome


@nox.session(python=False)
def matrix(session: nox.Session) -> None:
    """The default: every session below, each in a nox process of its own, two at once per
    core, longest first (by how long each took last time), then the report.

    Logs in .nox/logs/. The previous run's cell files move to .nox/previous-results/. Ctrl-C
    keeps every finished cell, marks the rest "not run (interrupted)", still writes the
    report."""
    names = [*orchestrate.cell_session_names(MATRIX, PYTHONS),
             *(job.session for job in orchestrate.checks(MATRIX, PYTHONS))]
    if orchestrate.set_aside_previous_cells(RESULTS, ROOT / ".nox" / "previous-results"):
        session.log("moved the previous run's cells to .nox/previous-results")
    failed, interrupted = _run_sessions(names, session.posargs, LOGS, session.log)
    if interrupted:
        orchestrate.record_interrupted(RESULTS, MATRIX, PYTHONS)
    report(session)
    if interrupted:
        session.error("interrupted: finished cells are kept; the rest are 'not run (interrupted)'")
    if failed:
        session.error(f"sessions failed; see {', '.join(failed)}")


@nox.session(python=False)
def report(session: nox.Session) -> None:
    """Record missing interpreters as "not run", then write reports/report.{md,html,json}
    (and reports/first-screen.png, report.html at 1400x900, where Chromium is installed).

    nox -s report -- --diff OLD.json      # also: what changed since an earlier report.json

    A target that already has results for a missing Python (CI's report job collects them
    from the test jobs' runners) keeps them: only the targets without any are recorded.
    """
    from ctxreset.matrix.loader import matrix_hash
    from ctxreset.report.build import main as write_report
    from ctxreset.report.screenshot import first_screen

    for python in PYTHONS:
        if interpreters.find_interpreter(python) is None:
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
    shot = ROOT / "reports" / "first-screen.png"
    problem = first_screen(ROOT / "reports" / "report.html", shot)
    session.log(problem or f"wrote {shot}: report.html's first screen at 1400x900")


@nox.session(python=False)
def sweep(session: nox.Session) -> None:
    """Every scenario, unpatched, per release in matrix.yaml's sweep: range (slow).

    One venv per release in .nox/sweep/<version>/ (reused), then the report. Not in `nox`.

    nox -s sweep -- 0.0.3..0.0.19 newest      # narrow: ranges, single releases, `newest`
    """
    from ctxreset.sweep.driver import sweep_from_matrix

    spec = MATRIX.sweep
    interpreter = interpreters.find_interpreter(spec.python) if spec else None
    if spec and interpreter is None:
        session.error(f"sweep: python{spec.python} not found on PATH, in pyenv or uv")
    try:
        sweep_from_matrix(MATRIX, str(interpreter), session.posargs, ROOT, session.log)
    except ValueError as exc:
        session.error(str(exc))
    report(session)


@nox.session(name="candidate", python=False)
def candidate_session(session: nox.Session) -> None:
    """Judge a checkout, a wheel or a patch file against a release (not in the default run).

    nox -s candidate -- patches/trace_in_run_task.diff        # vs the base, unpatched
    nox -s candidate -- ../openai-agents --against openai-agents==0.0.12 --python 3.11

    Writes reports/candidate-<id>.{md,json}; exit 2 for a candidate that cannot be judged,
    1 when it does worse than the comparison release in any scenario (ctxreset/candidate.py).
    """
    status = candidate.main(
        list(session.posargs), ROOT, PYTHONS, session_name,
        lambda python: None if interpreters.find_interpreter(python) else
        orchestrate.MISSING_INTERPRETER.format(python=python),
        {"matrix": settings.MATRIX, "results": settings.RESULTS_DIR}, session.log)
    if status:
        sys.exit(status)

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


def _explore_install_target(argv: list[str]) -> str:
    """The one library target an explore run needs installed (``minimal`` needs nothing)."""
    named = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--target"]
    spec = MATRIX.explore
    wanted = named or (list(spec.targets) if spec else [])
    libraries = sorted({t for t in wanted if t in MATRIX.targets
                        and MATRIX.targets[t].requirement is not None})
    if len(libraries) > 1:
        raise ValueError(f"--target: one library target per explore run, not "
                         f"{', '.join(libraries)} (minimal joins any)")
    return libraries[0] if libraries else "minimal"


@nox.session(python=MATRIX.explore.python if MATRIX.explore else False)
def explore(session: nox.Session) -> None:
    """Every cell of matrix.yaml's explore: targets under N seeded schedules (not in `nox`).

    nox -s explore -- --seeds 200 --target agents-0.0.11 --budget 600   # override
    nox -s explore -- --target T --fix F --scenario S --seed K          # replay one seed

    Writes results/explore/ (python -m ctxreset.explore, ctxreset/explore/cli.py), then the
    report, whose "Interleavings" section reads it."""
    if MATRIX.explore is None:
        session.skip("matrix.yaml has no explore: section")
    try:
        target = _explore_install_target(session.posargs)
    except ValueError as exc:
        session.error(str(exc))
    _install(session, target)
    session.run("python", "-m", "ctxreset.explore", "--results", str(RESULTS),
                *session.posargs, env={settings.RESULTS_DIR: str(RESULTS)})
    if "--seed" not in session.posargs:
        report(session)


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
    from ctxreset.bench import releases
    from ctxreset.bench.costs import cost_entry
    from ctxreset.records import read_json, write_atomically

    if MATRIX.bench is None:
        session.skip("matrix.yaml has no bench: section")
    target, python = MATRIX.bench.target, MATRIX.bench.python
    _install(session, target)
    compared = releases.release_fixes(MATRIX, target, python)
    venvs = {target: "python", **{release: _release_venv(session, release, python)
                                  for _, release in compared}}
    samples = Path(session.create_tmp()) / "samples.json"

    def sample(on: str, fix: str, loop: str) -> dict[str, object]:
        """One process: ``fix`` alone on target ``on`` (its venv), its raw timings."""
        session.run(venvs[on], "-m", "ctxreset.bench", "--target", on, "--loop", loop,
                    "--only", fix, "--out", str(samples), *session.posargs,
                    "--repeats", str(releases.REPEATS_PER_PROCESS), silent=True, external=True)
        return dict(read_json(samples))

    for loop in MATRIX.bench.loops:
        out = RESULTS / "bench" / f"py{python}-{target}-{loop}.json"
        session.run("python", "-m", "ctxreset.bench", "--target", target, "--loop", loop,
                    "--out", str(out), *session.posargs)
        entries = []
        for fix, release in compared:
            sides = {"baseline": (target, releases.BASELINE, loop), "release": (release, fix, loop)}
            baseline, timed = releases.alternate(releases.PAIRS,
                                                 lambda side, s=sides: sample(*s[side]))
            entries.append(releases.entry(fix, release, baseline, timed, MATRIX.bench.budget))
        payload = read_json(out)
        releases.merge_entries(payload, entries)
        write_atomically(out, payload)
        for shown in entries:
            line = cost_entry(payload["bench"], shown)["text"]
            session.log(f"{shown['fix']} ({shown['target']}, {loop}): {line}")


def _release_venv(session: nox.Session, target: str, python: str) -> str:
    """A venv of its own for a release the bench compares (.nox/bench-releases/<target>),
    installed like a session's and reused while its inputs are unchanged; its python."""
    venv = ROOT / ".nox" / "bench-releases" / target
    required, _, inputs, _, _ = _requirements(target, venv)
    stamp, digest, current = orchestrate.install_stamp(venv, inputs)
    executable = str(venv / "bin" / "python")
    if not current:
        interpreter = interpreters.find_interpreter(python)
        if interpreter is None:
            session.error(f"bench: python{python} not found on PATH, in pyenv or uv")
        session.run("uv", "venv", "--quiet", "--clear", "--python", interpreter, str(venv),
                    external=True)
        session.run("uv", "pip", "install", "--quiet", "--python", executable, *required,
                    external=True)  # the optional loops are not the bench's
        stamp.write_text(digest)
    return executable


@nox.session(python=False)
def perf(session: nox.Session) -> None:
    """The same warm cells under nox and under tox with tox-uv, alternately (not default).

    nox -s perf -- --rounds 3 --pythons 3.11 --full   # ctxreset/perf.py; prints medians,
                                                      # the tox/nox ratio, the cells' limit
    """
    from ctxreset import perf as bench_matrix
    from ctxreset.toxini import CHECK_REQUIRES, env_name

    try:
        options = bench_matrix.parse_args(session.posargs, PYTHONS)
    except bench_matrix.PerfArgumentError as exc:
        session.error(str(exc))
    pythons = [p for p in options.pythons if interpreters.find_interpreter(p)]
    for missing in sorted(set(options.pythons) - set(pythons)):
        session.log(f"python {missing}: not installed here; left out")
    if not pythons:
        session.error("perf: none of those Pythons is installed here")
    pairs = [(p, t) for p in pythons for t in MATRIX.targets if not MATRIX.target_not_run(t, p)]
    names = [session_name(p, t) for p, t in pairs]
    work = ROOT / ".nox" / "perf"
    # tox and tox-uv at the .ci/tools.txt pins, with what toxfile.py imports (so tox needs
    # no provisioning), in a venv of their own
    tools = work / "tox-tools"
    requirements = [orchestrate.tool("tox"), orchestrate.tool("tox-uv"), *CHECK_REQUIRES]
    stamp, digest, current = orchestrate.install_stamp(tools, "\n".join(requirements))
    if not current:
        session.run("uv", "venv", "--quiet", "--clear", "--python", sys.executable, str(tools),
                    external=True)  # nox's own Python (tox 4.67 needs 3.11 or newer)
        session.run("uv", "pip", "install", "--quiet", "--python", str(tools / "bin" / "python"),
                    *requirements, external=True)
        stamp.write_text(digest)
    if not (tools / "bin" / "tox").exists():
        session.error(f"perf: tox did not install for {sys.executable} (it needs Python 3.11+)")
    cores = os.cpu_count() or 1

    def run(kind: str, out: Path) -> None:
        if kind == bench_matrix.NOX:
            failed, _ = _run_sessions(names, [f"--results-dir={out}"],
                                      work / f"{out.name}-logs", lambda line: None)
        elif kind == bench_matrix.TOX:
            command = [str(tools / "bin" / "tox"), "-p", "auto", "-e",
                       ",".join(env_name(p, t) for p, t in pairs), "--", f"--results-dir={out}"]
            code = bench_matrix.run_logged(command, work / f"{out.name}.log")
            failed = [str(work / f"{out.name}.log")] if code else []
        else:
            code = bench_matrix.run_logged(
                [sys.executable, "-m", "nox", "--script-mode", "none", "-f", __file__],
                work / f"{out.name}.log", env={settings.PYTHONS: ",".join(pythons)})
            failed = [str(work / f"{out.name}.log")] if code else []
        if failed:
            session.error(f"perf: {kind} failed; see {', '.join(failed)}")

    kinds = [bench_matrix.NOX, bench_matrix.TOX, *([bench_matrix.FULL] if options.full else [])]
    timings = bench_matrix.measure(kinds, options.rounds, run, work, session.log)
    last_nox, last_tox = work / f"nox-{options.rounds}", work / f"tox-{options.rounds}"
    differing = bench_matrix.differing(last_nox, last_tox)
    seconds, cells = bench_matrix.cell_work(last_nox)
    summary = bench_matrix.summarize(timings, seconds, cores)
    print(bench_matrix.report(summary, timings, cells,
                              bench_matrix.header(pythons, len(names), cores)))
    bench_matrix.write_json(work / "perf.json", summary, timings, cells)
    if differing:
        session.error(f"perf: nox and tox disagree on {len(differing)} cells, e.g. "
                      f"{differing[0]} ({last_nox} vs {last_tox})")
    print(f"nox and tox agree on every cell ({cells} run); figures in {work / 'perf.json'}")


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
    # pyproject's [tool.mypy], checked as the session's Python: the site-packages installed
    # for a newer one may use syntax an older python_version cannot parse.
    session.run("mypy", "--python-version", str(session.python),
                env={"MYPYPATH": str(tree.resolve())})
