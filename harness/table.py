"""Print the current results as a plain table: scenario x fix, failing properties named.

    python -m harness.table [--loop asyncio] [--target minimal|openai-agents]

Runs every applicable cell in-process for the stdlib model and, if installed, the
openai-agents release in this environment. A cell reads ``pass``, the failing properties,
``timeout``, ``not run`` or ``error``; a trailing ``!`` marks a cell that differs from
matrix.yaml's expectation.
"""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Optional

from harness.cell import CellResult, run_cell
from harness.checker import SHORT_NAMES
from harness.matrix import Matrix, MatrixError, load_matrix, short_python
from harness.plan import CellId, ruled_out
from harness.targets import Library, installed_agents_version, load_library

ABBREVIATIONS = SHORT_NAMES


def cell_text(result: CellResult) -> str:
    if result.status != "checked":
        return result.status
    return " ".join(ABBREVIATIONS[p] for p in result.failing) or "pass"


def libraries(choice: Optional[str]) -> list[Library]:
    names = ["minimal", "openai-agents"] if choice is None else [choice]
    if "openai-agents" in names and installed_agents_version() is None:
        if choice == "openai-agents":
            raise SystemExit("harness.table: openai-agents is not installed in this environment")
        names.remove("openai-agents")
    return [load_library(name) for name in names]


def print_table(matrix: Matrix, library: Library, loop: str) -> int:
    target = matrix.target_id(library.target_label)
    fixes = matrix.fixes_for(target)
    python = platform.python_version()
    print(f"\n{library.target_label} on Python {python}, loop {loop}")
    width = max(len(s) for s in matrix.scenarios)
    columns = []
    for fix in fixes:
        column = []
        for scenario in matrix.scenarios:
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
        prog="python -m harness.table", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--loop", action="append", help="event loop (repeatable); default: all in matrix.yaml"
    )
    parser.add_argument("--target", choices=["minimal", "openai-agents"])
    args = parser.parse_args(argv)
    try:
        matrix = load_matrix()
    except MatrixError as exc:
        print(exc, file=sys.stderr)
        return 2
    mismatches = 0
    for library in libraries(args.target):
        for loop in args.loop or matrix.loops:
            mismatches += print_table(matrix, library, loop)
    print("\nLegend: pass = every property holds; otherwise the failing properties:")
    print("  " + ", ".join(f"{short} = {name}" for name, short in ABBREVIATIONS.items()))
    if mismatches:
        print(f"{mismatches} cell(s) marked ! differ from matrix.yaml's expectations")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
