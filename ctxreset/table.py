"""Print the current results as a plain table: scenario x fix, failing properties named.

    python -m ctxreset.table [--loop asyncio] [--target agents-0.0.11]

Runs every applicable cell in-process for each matrix.yaml target installed in this
environment (``minimal`` always; the openai-agents target whose release is installed), or the
``--target`` ids asked for. A cell reads ``pass``, the failing properties,
``timeout``, ``not run`` or ``error``; a trailing ``!`` marks a cell that differs from
matrix.yaml's expectation.
"""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Optional

from ctxreset.catalogue import SHORT_NAMES, judged_on
from ctxreset.libraries import installed_targets, library_for
from ctxreset.matrix.loader import Matrix, load_matrix_for_command, short_python
from ctxreset.matrix.plan import ruled_out
from ctxreset.records import CellId, CellResult
from ctxreset.run.cell import run_cell

ABBREVIATIONS = SHORT_NAMES


def cell_text(result: CellResult) -> str:
    if result.status != "checked":
        return result.status
    return " ".join(ABBREVIATIONS[p] for p in result.failing) or "pass"


def print_table(matrix: Matrix, target: str, loop: str) -> int:
    library = library_for(matrix, target)
    fixes = matrix.fixes_for(target)
    python = platform.python_version()
    print(f"\n{target} ({library.label}) on Python {python}, loop {loop}")
    width = max(len(s) for s in matrix.scenarios)
    columns = []
    for fix in fixes:
        column = []
        for scenario in matrix.scenarios:
            if not judged_on(fix, scenario):
                column.append("—")  # the fix patches the other shape's points
                continue
            if ruled_out(matrix, CellId(short_python(python), target, fix, scenario, loop)):
                column.append("not run")
                continue
            result = run_cell(library, scenario, fix, loop, target=target)
            expected = matrix.expectation(target, fix, scenario, loop, python)
            differs = result.status == "checked" and set(result.failing) != expected.fails
            column.append(cell_text(result) + ("!" if differs else ""))
        columns.append(column)
    widths = [max(len(fix), *(len(c) for c in col)) for fix, col in zip(fixes, columns)]
    print(" | ".join([" " * width] + [f.ljust(w) for f, w in zip(fixes, widths)]))
    print("-+-".join(["-" * width] + ["-" * w for w in widths]))
    mismatches = 0
    for row, scenario in enumerate(matrix.scenarios):
        cells = [col[row].ljust(w) for col, w in zip(columns, widths)]
        mismatches += sum(col[row].endswith("!") for col in columns)
        print(" | ".join([scenario.ljust(width), *cells]))
    return mismatches


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ctxreset.table", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--loop", action="append", help="event loop (repeatable); default: all in matrix.yaml"
    )
    parser.add_argument(
        "--target", action="append",
        help="matrix.yaml target id (repeatable); default: every target installed here")
    args = parser.parse_args(argv)
    matrix = load_matrix_for_command()
    if matrix is None:
        return 2
    installed = installed_targets(matrix)
    for target in args.target or ():
        if target not in installed:
            print(f"ctxreset.table: --target: {target!r} is not installed here; installed: "
                  f"{', '.join(installed)}", file=sys.stderr)
            return 2
    mismatches = 0
    for target in args.target or installed:
        for loop in args.loop or matrix.loops:
            mismatches += print_table(matrix, target, loop)
    print("\nLegend: pass = every property holds; otherwise the failing properties:")
    print("  " + ", ".join(f"{short} = {name}" for name, short in ABBREVIATIONS.items()))
    if mismatches:
        print(f"{mismatches} cell(s) marked ! differ from matrix.yaml's expectations")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
