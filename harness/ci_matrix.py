"""The GitHub Actions job matrix, from matrix.yaml: one job per test session that can install.

    nox -s ci-matrix      # prints {"include": [{"python": ..., "target": ..., "session": ...}]}

The workflow (.github/workflows/matrix.yml) reads it with ``fromJSON``, so no version or
target is written in YAML. A (python, target) that matrix.yaml rules out gets no job: the
report's merge records its cells "not run" with the matrix's reason.
"""

from __future__ import annotations

from harness.matrix import Matrix
from harness.plan import session_name


def ci_matrix(matrix: Matrix) -> dict[str, list[dict[str, str]]]:
    """Every Python x target whose target installs there, in matrix.yaml order."""
    include = []
    for python in matrix.pythons:
        for target in matrix.targets:
            if matrix.target_not_run(target, python) is None:
                include.append({"python": python, "target": target,
                                "session": session_name(python, target)})
    return {"include": include}
