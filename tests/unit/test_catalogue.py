"""The catalogue of names is plain data; these check it against the modules it names, and that
settings.py is the one reader of CTXRESET_* variables."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from ctxreset.fixes import get_fix
from ctxreset.repro.scenarios import get_scenario

from ctxreset import catalogue, settings
from ctxreset.run.loops import LOOP_FACTORIES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", catalogue.SCENARIOS)
def test_every_scenario_name_has_its_module(name):
    scenario = get_scenario(name)  # imports the module now, never at catalogue time
    assert inspect.iscoroutinefunction(getattr(scenario, "func", scenario)), name
    module = inspect.getmodule(getattr(scenario, "func", scenario))
    assert module is not None and module.__doc__, f"{name}: no docstring naming its usage"


def test_one_task_references_and_families():
    assert catalogue.FAMILY_OF["same_task"] == "basic"
    assert catalogue.FAMILY_OF["tool_call_one_task"] == "multi-turn"
    assert "never_iterated_one_task" not in catalogue.FAMILY_OF  # ONLY_ONE_SHAPE
    with pytest.raises(ValueError, match="unknown scenario 'nope'; allowed: same_task,"):
        get_scenario("nope")


@pytest.mark.parametrize("name", catalogue.FIXES)
def test_every_fix_name_is_a_fix(name):
    fix = get_fix(name)
    assert callable(fix.apply) and fix.__doc__, name


def test_fault_fixes_exist_only_when_asked_for(monkeypatch):
    monkeypatch.delenv(settings.FAULTS, raising=False)
    assert not set(catalogue.FAULTS) & set(catalogue.fix_names())
    monkeypatch.setenv(settings.FAULTS, "1")
    assert [get_fix(name).__doc__ for name in catalogue.FAULTS] == [
        "os._exit mid-cell", "time.sleep on the loop", "swallows cancel"]


def test_every_loop_name_has_its_factory():
    assert tuple(LOOP_FACTORIES) == catalogue.LOOPS


def test_every_property_has_a_short_name():
    assert tuple(catalogue.SHORT_NAMES) == catalogue.PROPERTIES


def _variables_named(path: Path) -> list[int]:
    """Lines of ``path`` with a string literal naming a CTXRESET_* variable."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                node.value.startswith("CTXRESET_")):
            found.append(node.lineno)
    return found


def test_settings_is_the_one_place_that_names_ctxreset_variables():
    """Every CTXRESET_* variable is named (and read) in ctxreset/settings.py only; the rest of
    the package and the noxfile use its constants and readers."""
    paths = [*ROOT.glob("ctxreset/**/*.py"), *ROOT.glob("repro/**/*.py"),
             *ROOT.glob("fixes/**/*.py"), ROOT / "noxfile.py", ROOT / "toxfile.py"]
    named = {str(p.relative_to(ROOT)): _variables_named(p) for p in paths}
    assert {p: lines for p, lines in named.items() if lines} == {
        "ctxreset/settings.py": named["ctxreset/settings.py"]}
    assert len(settings.ALL) == len(set(settings.ALL)) == 8
    for name in settings.ALL:
        assert f"``{name}``" in settings.__doc__, name  # the table lists every one
