"""``python -m ctxreset.table``: target ids as pytest and the bench take them, cells planned by
the same planner as everything else."""

from __future__ import annotations

import re

from ctxreset import table
from ctxreset.libraries import installed_targets
from ctxreset.matrix.loader import load_matrix


def test_the_table_of_a_target_matches_matrix_yaml(capsys):
    assert table.main(["--target", "minimal", "--loop", "asyncio"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^minimal \(minimal\) on Python \S+, loop asyncio$", out, re.M)
    assert "!" not in out  # no cell differs from matrix.yaml's expectation
    row = next(line for line in out.splitlines() if line.startswith("other_task "))
    assert row.split("|")[1].strip() == "error leak output"  # none: the bug itself


def test_a_target_not_installed_here_is_refused_with_one_line(capsys):
    assert table.main(["--target", "agents-9.9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ctxreset.table: --target: 'agents-9.9' is not installed here; installed: "
                   + ", ".join(installed_targets(load_matrix()))]
