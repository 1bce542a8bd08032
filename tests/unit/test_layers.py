"""The import rule of ARCHITECTURE.md, checked statically: every import in the package against
the layer table written there, and what nox and tox load."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIRS = {"ctxreset": ROOT / "ctxreset", "ctxreset.repro": ROOT / "repro",
                "ctxreset.fixes": ROOT / "fixes"}
"""Where each part of the package lives (pyproject's package-dir)."""


def _layers() -> dict[str, tuple[list[str], set[str]]]:
    """layer -> (module prefixes, layers it may import), from ARCHITECTURE.md's table."""
    found = {}
    for line in (ROOT / "ARCHITECTURE.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`"):
            layer, modules, may = cells
            found[layer] = (re.findall(r"`([\w.]+)`", modules),
                            {name.strip() for name in may.split(",")})
    return found


LAYERS = _layers()


def _modules() -> dict[str, Path]:
    """Every module of the installed package, by name (a package by its own name), with its
    file."""
    found = {}
    for prefix, folder in PACKAGE_DIRS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([prefix, *parts])] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> str:
    """The layer of ``module``: its package's own entry (``ctxreset.__init__``) for a
    package, else the longest table entry that is ``module`` or a package above it."""
    best, found = -1, ""
    for layer, (prefixes, _) in LAYERS.items():
        for prefix in prefixes:
            if prefix == f"{module}.__init__":
                return layer
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), layer
    if not found:
        raise LookupError(f"{module}: in no layer of ARCHITECTURE.md")
    return found


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every ctxreset module ``path`` imports, anywhere in it, with the line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.append((node.lineno, candidate if candidate in MODULES else node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "ctxreset"]


def test_the_table_has_every_layer_and_every_module_one_layer():
    assert list(LAYERS) == ["base", "records", "matrix", "contract", "scenarios", "libraries",
                            "run", "report", "orchestration"]
    assert len(MODULES) > 80
    for module in MODULES:
        layer_of(module)  # raises for a module the table forgot


def test_every_import_follows_the_layer_table():
    broken = []
    for module, path in sorted(MODULES.items()):
        layer = layer_of(module)
        allowed = LAYERS[layer][1]
        for line, imported in imports_of(path):
            if layer_of(imported) not in allowed:
                broken.append(f"{path.relative_to(ROOT)}:{line}: {layer} imports "
                              f"{imported} ({layer_of(imported)})")
    assert broken == []


@pytest.mark.parametrize(("importer", "imported", "allowed"), [
    ("ctxreset.records", "ctxreset.run.cell", False),  # the record never needs the runner
    ("ctxreset.report.merge", "ctxreset.run.cell", False),
    ("ctxreset.matrix.loader", "ctxreset.repro.scenarios", False),
    ("ctxreset.fixes.none", "ctxreset.libraries.openai_agents", False),
    ("ctxreset.repro.consumer", "ctxreset.contract", True),
    ("ctxreset.run.cell", "ctxreset.fixes", True),
])
def test_the_rule_tells_a_violation_from_an_allowed_import(importer, imported, allowed):
    """The check above has teeth: known bad pairs are refused, known good ones allowed."""
    assert (layer_of(imported) in LAYERS[layer_of(importer)][1]) is allowed


def _closure(paths: list[Path]) -> set[str]:
    """Every ctxreset module reachable from ``paths`` through their imports."""
    seen: set[str] = set()
    todo = [name for path in paths for _, name in imports_of(path)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = MODULES.get(name)
        if path is not None:
            todo += [imported for _, imported in imports_of(path)]
    return seen


def test_nox_and_tox_load_no_scenario_fix_adapter_or_runner():
    """nox and tox run outside any test venv: neither the library under test nor what needs
    it. (The network namespace helper, stdlib only, is the one run module nox starts.)"""
    loaded = _closure([ROOT / "noxfile.py", ROOT / "toxfile.py"])
    assert "ctxreset.orchestrate" in loaded and "ctxreset.report.build" in loaded
    heavy = {m for m in loaded if layer_of(m) in ("contract", "scenarios", "libraries", "run")}
    assert heavy == {"ctxreset.run.netns"}
