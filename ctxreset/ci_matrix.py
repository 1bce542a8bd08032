"""The GitHub Actions job matrix, from matrix.yaml: one job per session of the default run.

    nox -s ci-matrix      # prints {"include": [{"python": ..., "target": ..., "session": ...}]}

The workflow (.github/workflows/matrix.yml) reads it with ``fromJSON``, so no version or
target is written in YAML. Every test session whose target installs on its Python is a job
(a pair matrix.yaml rules out gets none: the report's merge records its cells "not run" with
the matrix's reason); so is each of the other sessions a plain ``nox`` runs
(``ctxreset.orchestrate.checks``: unit, library per target, typecheck, wheel).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

from ctxreset.matrix.loader import Matrix
from ctxreset.matrix.plan import session_name
from ctxreset.orchestrate import Job, checks


def ci_matrix(matrix: Matrix, pythons: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """The test sessions (every Python x target that installs, matrix.yaml order), then the
    checks."""
    pythons = list(pythons)
    jobs = [Job(session_name(python, target), python, target)
            for python in pythons for target in matrix.targets
            if matrix.target_not_run(target, python) is None]
    return {"include": [asdict(job) for job in [*jobs, *checks(matrix, pythons)]]}
