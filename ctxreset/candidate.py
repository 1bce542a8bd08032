"""``nox -s candidate``: judge a maintainer's own branch, wheel or patch file.

    nox -s candidate -- patches/trace_in_run_task.diff            # vs its base, unpatched
    nox -s candidate -- ../openai-agents --against openai-agents==0.0.12
    nox -s candidate -- dist/openai_agents-0.0.13-py3-none-any.whl --python 3.11

1. The candidate is classified and checked (``ctxreset.matrix.sources``): a directory must be
   a checkout of a library of the matrix, a wheel must be one, a patch must be a unified diff;
   otherwise one line and exit 2, before anything runs.
2. A derived matrix.yaml (``.nox/candidate/<id>/matrix.yaml``: this one plus the candidate as a
   target, ``path:``/``wheel:``/``base:`` + ``patch:``) is what every step reads
   (``CTXRESET_MATRIX``), so the candidate's cells are planned, excluded and judged like any
   target's: with the ``upstream`` fix, on every scenario, Python and loop its base release
   supports.
3. The candidate's test sessions run first (a nested nox, ``tests-<py>(target=<id>)``); its
   venv installs the base release and applies the patch (re-done only when the patch's hash
   changes), or installs the checkout or the wheel. A patch that does not apply stops the
   command there (one line, exit 2). Then the comparison release's sessions (only its
   ``none`` or ``upstream`` cells).
4. ``ctxreset.report.candidate`` compares them scenario by scenario and writes
   ``reports/candidate-<id>.md`` and ``.json``; exit status 1 when the candidate does worse
   than the comparison release anywhere.

``install_arguments``/``finish_install`` are also how the noxfile installs a candidate target
that matrix.yaml itself declares.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ctxreset.matrix.checks import read_yaml
from ctxreset.matrix.loader import Matrix, MatrixError, load_matrix, matrix_path, short_python
from ctxreset.matrix.sources import (
    MARKER,
    Source,
    SourceError,
    apply_patch,
    check_source,
    classify,
    provenance,
    sha256,
    wheel_name,
)

EXIT_BAD_INPUT = 2
Log = Callable[[str], None]


# --- installing a candidate target (the noxfile's _install) -------------------------------


def library_of(matrix: Matrix, target: str) -> str:
    requirement = matrix.targets[matrix.release_of(target)].requirement
    assert requirement is not None  # a candidate's base is a released library
    return str(canonicalize_name(Requirement(requirement).name))


def _pins(line: str, name: str) -> bool:
    """Whether a constraints line pins distribution ``name``."""
    found = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==", line)
    return bool(found) and canonicalize_name(found.group(1) if found else "") == name


def install_arguments(matrix: Matrix, target: str, constraints: Path,
                      workdir: Path) -> tuple[Path, list[str], str]:
    """(constraints file, what to install, fingerprint) for candidate ``target``.

    The base release's constraints, without its own pin for a checkout or a wheel (they bring
    their own version). The fingerprint goes into the venv's install stamp: the patch's or
    the wheel's sha256 (a new patch reinstalls the base release, then applies); a checkout's
    commit, dirty state and diff."""
    source = matrix.targets[target].source
    assert source is not None
    if source.kind == "patch":
        base = matrix.targets[matrix.release_of(target)].requirement
        return constraints, [str(base)], f"patch {sha256(source.location)}"
    name = library_of(matrix, target)
    kept = [line for line in constraints.read_text().splitlines() if not _pins(line, name)]
    workdir.mkdir(parents=True, exist_ok=True)
    filtered = workdir / f"constraints-without-{name}.txt"
    filtered.write_text("\n".join(kept) + "\n")
    location = str(source.location.resolve())
    if source.kind == "wheel":
        return filtered, [location], f"wheel {sha256(source.location)}"
    state = provenance(source)
    diff = subprocess.run(["git", "-C", location, "diff", "HEAD"], capture_output=True,
                          text=True).stdout
    digest = hashlib.sha256(diff.encode()).hexdigest()
    return filtered, [location], f"path {state.get('commit')} {digest}"


def finish_install(site: Path, matrix: Matrix, target: str) -> None:
    """Apply a patch to the freshly installed base release, and mark the venv as the
    candidate's (``ctxreset.libraries.installed_candidate``)."""
    source = matrix.targets[target].source
    assert source is not None
    if source.kind == "patch":
        apply_patch(site, source.location)
    (site / MARKER).write_text(json.dumps({"target": target, **provenance(source)}, indent=1))


# --- the command -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    target: str  # the candidate's id in the derived matrix
    source: Source
    against: str  # the comparison release's target id
    against_fix: str  # its cells: none (the unpatched base) or upstream (a fixed release)
    against_why: str  # how the comparison was chosen, said in the report
    pythons: tuple[str, ...]
    matrix_file: Path  # the derived matrix.yaml
    results: Path
    provenance: dict[str, Any]


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s candidate --", add_help=True)
    parser.add_argument("candidates", nargs="+", metavar="candidate",
                        help="a checkout (directory), a wheel, or a patch file; several are "
                        "each judged, then ranked")
    parser.add_argument("--against", help="the release to compare with: a requirement "
                        "(openai-agents==0.0.12) or a target id; default: the base, unpatched")
    parser.add_argument("--base", help="the release a patch applies to, or a checkout/wheel "
                        "starts from (default: the matrix's affected release)")
    parser.add_argument("--python", action="append", help="narrow to these Pythons")
    return parser.parse_args(argv)


def _target_for(matrix: Matrix, text: str, key: str) -> str:
    """A released target by id or requirement; SourceError naming the allowed ones."""
    releases = {t: s.requirement for t, s in matrix.targets.items()
                if s.requirement and s.source is None}
    for target, requirement in releases.items():
        if text in (target, requirement):
            return target
    raise SourceError(f"{key}: bad value {text!r}; allowed: "
                      + ", ".join(str(r) for r in releases.values()))


def candidate_id(source: Source) -> str:
    stem = source.location.resolve().name
    if source.kind == "wheel":
        stem = "-".join(stem.split("-")[:2])  # distribution and version, not the tags
    elif source.kind == "patch":
        stem = stem.rsplit(".", 1)[0]
    return "candidate-" + (re.sub(r"[^a-z0-9.]+", "-", stem.lower()).strip("-.") or "x")


def plans(matrix: Matrix, argv: list[str], root: Path, pythons: tuple[str, ...]) -> list[Plan]:
    """Everything the command will do, checked; ``SourceError`` (one line) otherwise."""
    args = parse_arguments(argv)
    found = [plan(matrix, args, candidate, root, pythons) for candidate in args.candidates]
    ids = [p.target for p in found]
    for target in ids:
        if ids.count(target) > 1:
            raise SourceError(f"{target}: two candidates with the same name; rename one")
    return found


def plan(matrix: Matrix, args: argparse.Namespace, argument: str, root: Path,
         pythons: tuple[str, ...]) -> Plan:
    """One candidate's plan, checked."""
    source = classify(argument)
    libraries = {library_of(matrix, t) for t, s in matrix.targets.items() if s.requirement}
    name = check_source(source, libraries)
    affected = [t for t in matrix.fixes.get("none", ()) if matrix.targets[t].requirement]
    release = f"{name}=={wheel_name(source.location)[1]}" if source.kind == "wheel" else ""
    base_from_wheel = any(matrix.targets[t].requirement == release for t in affected)
    if args.base:
        base = _target_for(matrix, args.base, "--base")
    elif base_from_wheel:
        base = _target_for(matrix, release, "--base")
    elif affected:
        base = affected[0]
    else:
        raise SourceError("--base: matrix.yaml has no released target the fix 'none' applies to")
    if args.against:
        against = _target_for(matrix, args.against, "--against")
        why = f"{against} as asked (--against)"
    else:
        against = base
        starts = ("the release the patch applies to" if source.kind == "patch" or args.base
                  else "the release the wheel's version names" if base_from_wheel
                  else "the matrix's affected release (--base names another)")
        why = (f"{against} unpatched, {starts} (the default; --against openai-agents==X.Y.Z "
               "compares with another release)")
    against_fix = "none" if against in matrix.fixes.get("none", ()) else "upstream"
    if against_fix not in matrix.fixes or against not in matrix.fixes[against_fix]:
        raise SourceError(f"--against: {against} has no unpatched (none) or upstream cells")
    wanted = tuple(short_python(p) for p in args.python) if args.python else pythons
    for python in wanted:
        if python not in matrix.pythons:
            raise SourceError(f"--python: bad value {python!r}; allowed: "
                              + ", ".join(matrix.pythons))
    target = candidate_id(source)
    work = root / ".nox" / "candidate" / target
    return Plan(target, Source(source.kind, source.location, matrix.targets[base].requirement),
                against, against_fix, why, wanted, work / "matrix.yaml", work / "results",
                {**provenance(source), "base": matrix.targets[base].requirement,
                 "target": target})


def write_derived_matrix(plan: Plan, matrix_file: Path) -> None:
    """matrix.yaml plus the candidate as a target (paths made absolute)."""
    data = read_yaml(matrix_file)
    entry = {plan.source.kind: str(plan.source.location.resolve()), "base": plan.source.base}
    data["targets"][plan.target] = entry
    plan.matrix_file.parent.mkdir(parents=True, exist_ok=True)
    plan.matrix_file.write_text(yaml.safe_dump(data, sort_keys=False, width=100))
    load_matrix(plan.matrix_file)  # the derived file must load like any other


def nested_nox(noxfile: Path, session: str, env: dict[str, str], pytest_args: list[str],
               log_file: Path, install_only: bool = False) -> int:
    """One test session of the derived matrix, output to ``log_file``; its exit status."""
    command = [sys.executable, "-m", "nox", "--script-mode", "none", "-f", str(noxfile), "-s",
               session, *(["--install-only"] if install_only else []), "--", "-n", "2",
               *pytest_args]
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "w") as out:
        return subprocess.run(command, stdout=out, stderr=subprocess.STDOUT,
                              env={**os.environ, **env}).returncode


def last_line(log_file: Path) -> str:
    """The one-line reason a nested session printed before it exited 2."""
    lines = [line for line in log_file.read_text().splitlines()
             if line.strip() and not line.startswith("nox >")]
    return lines[-1] if lines else f"see {log_file}"


def main(argv: list[str], root: Path, pythons: tuple[str, ...], sessions: Callable[
        [str, str], str], not_run: Callable[[str], Optional[str]], settings_env: dict[str, str],
         log: Log) -> int:
    """The command; returns its exit status (2 bad input, 1 regresses, 0 otherwise)."""
    from ctxreset.report.candidate import ranking_lines, write_candidate_report

    try:
        found = plans(load_matrix(), argv, root, pythons)
        for the_plan in found:
            write_derived_matrix(the_plan, matrix_path())
    except (SourceError, MatrixError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    runnable = [p for p in found[0].pythons if not not_run(p)]
    for the_plan in found:  # install every candidate first: a patch that does not apply
        if runnable:        # stops the command before any cell runs
            status = nested_nox(root / "noxfile.py", sessions(runnable[0], the_plan.target),
                                _env(the_plan, settings_env), [],
                                the_plan.results.parent / "logs" / "install.log",
                                install_only=True)
            if status == EXIT_BAD_INPUT:
                print(last_line(the_plan.results.parent / "logs" / "install.log"),
                      file=sys.stderr)
                return EXIT_BAD_INPUT
    outcomes, worst = [], 0
    for the_plan in found:
        status, key, rule = judge_candidate(the_plan, root, sessions, not_run, settings_env,
                                            log, write_candidate_report)
        outcomes.append((the_plan.target, key, rule))
        worst = max(worst, status)
    if len(outcomes) > 1:
        for line in ranking_lines(outcomes):
            print(line)
    return worst


def _env(the_plan: Plan, settings_env: dict[str, str]) -> dict[str, str]:
    return {settings_env["matrix"]: str(the_plan.matrix_file),
            settings_env["results"]: str(the_plan.results)}


def judge_candidate(the_plan: Plan, root: Path, sessions: Callable[[str, str], str],
                    not_run: Callable[[str], Optional[str]], settings_env: dict[str, str],
                    log: Log, report: Callable[..., tuple[int, tuple[int, int, int], str]]
                    ) -> tuple[int, tuple[int, int, int], str]:
    """One candidate's sessions, the comparison release's and the base's unpatched cells,
    then its report."""
    log(f"candidate {the_plan.target}: {json.dumps(the_plan.provenance)}")
    log(f"compared with {the_plan.against_why}")
    if the_plan.results.exists():
        shutil.rmtree(the_plan.results)
    env = _env(the_plan, settings_env)
    logs = the_plan.results.parent / "logs"
    runs = [(the_plan.target, "upstream"), (the_plan.against, the_plan.against_fix)]
    baseline = load_matrix(the_plan.matrix_file).baseline_of(the_plan.target)
    if baseline is not None and (baseline, "none") not in runs:
        runs.append((baseline, "none"))  # what the report's rule judges every fix against
    for target, fix in runs:
        select = [] if target == the_plan.target else ["-k", f"{target}-{fix}-"]
        for python in the_plan.pythons:
            reason = not_run(python)
            if reason:
                log(f"python {python}: {reason}; not run")
                continue
            name = sessions(python, target)
            log_file = logs / f"py{python}-{target}.log"
            log(f"running {name} (log: {log_file})")
            status = nested_nox(root / "noxfile.py", name, env, select, log_file)
            if status not in (0, 1):
                log(f"{name} exited {status}; its cells count as not run (log: {log_file})")
    return report(the_plan.matrix_file, the_plan.results, root / "reports", the_plan.target,
                  the_plan.against, the_plan.against_fix, the_plan.against_why,
                  the_plan.provenance, print)
