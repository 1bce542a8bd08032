"""What matrix.yaml's schema cannot see: a hostile or contradictory file, refused on load.

- ``read_yaml``: the bytes must be UTF-8 and under ``MAX_BYTES``; a key twice in one mapping is
  refused (PyYAML keeps the last silently); anchors and aliases are allowed, but the document
  they expand to must stay under ``MAX_NODES`` nodes and ``MAX_DEPTH`` levels, checked on the
  composed node graph before anything is built (an alias bomb fails in milliseconds).
- ``check_rules``: ``reproduces`` patterns compile, every exclusion and expectation matches a
  cell, every expectation applies to some cell (the first match wins: one that only ever
  comes second is dead), and no two expectations of the same scope (loops, pythons) give one
  cell different failing sets or patterns; a narrower rule before a broader one overrides it.
- ``unpinned``: a requirement the constraints files do not pin exactly. ``nox -s lock``
  writes constraints/ with ``uv pip compile``, which fails for a release that does not exist,
  so "pinned in its constraints file" is an offline proof that the release exists (and that
  the lock was redone after matrix.yaml changed). Checked by the entry points that install
  (``nox``, tox, ``python -m ctxreset.matrix``), not by ``nox -s lock`` itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from ctxreset.catalogue import judged_on

if TYPE_CHECKING:
    from ctxreset.matrix.loader import Matrix

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000  # the real file expands to about 1,500
MAX_DEPTH = 32  # the real file nests 5 deep


class YamlRefused(ValueError):
    """The one-line reason a YAML document is refused (the caller adds the file name)."""


class _NoDuplicateKeys(SafeConstructor):
    """SafeConstructor that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` then a key: an override, as YAML means it
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:
                raise YamlRefused(f"line {line}: a key that is not a string or number") from None
            if first is not None:
                raise YamlRefused(f"line {line}: duplicate key {key!r} (first on line {first}); "
                                  "the last would silently win")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


class _StrictLoader(_NoDuplicateKeys, yaml.SafeLoader):
    """PyYAML's pure-Python SafeLoader, refusing duplicate keys: where libyaml is missing."""


def _loader(text: str) -> Any:
    """A ``_StrictLoader`` of ``text``; over libyaml's scanner and parser where PyYAML has it
    (five times faster on matrix.yaml, which every nox, tox and pytest process reads). The
    nodes are composed in Python either way: a document nested too deep still stops at
    Python's recursion limit (libyaml's own composer, C recursion, would crash the process)
    and aliases are counted as below."""
    try:
        from yaml.cyaml import CParser
    except ImportError:  # PyYAML built without libyaml
        return _StrictLoader(text)

    class _FastStrictLoader(_NoDuplicateKeys, Composer, CParser, Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    return _FastStrictLoader(text)


def _expanded_size(node: yaml.Node) -> int:
    """Nodes in the document once every alias is expanded, without expanding anything."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        if id(current) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        elif isinstance(current, yaml.MappingNode):
            children = [part for pair in current.value for part in pair]
        if not done:
            stack.append((current, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        sizes[id(current)] = 1 + sum(sizes.get(id(c), 1) for c in children)
        depths[id(current)] = 1 + max((depths.get(id(c), 1) for c in children), default=0)
        if sizes[id(current)] > MAX_NODES:
            raise YamlRefused(f"expands to more than {MAX_NODES} nodes (an alias bomb?)")
        if depths[id(current)] > MAX_DEPTH:
            raise YamlRefused(f"nested more than {MAX_DEPTH} levels deep")
    return sizes[id(node)]


def read_yaml(path: Path) -> Any:
    """The document in ``path``; ``YamlRefused`` or ``OSError`` with one line if refused."""
    with open(path, "rb") as stream:
        raw = stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise YamlRefused(f"more than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlRefused(f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}") from None
    loader = _loader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlRefused(f"nested more than {MAX_DEPTH} levels deep") from None
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


# --- rules ---------------------------------------------------------------------------------


def _cells(matrix: Matrix) -> Iterator[tuple[str, str, str, str, str]]:
    """(python, target, fix, scenario, loop) of every cell the file plans."""
    for python in matrix.pythons:
        for target in matrix.targets:
            for fix in matrix.fixes_for(target):
                for scenario in (s for s in matrix.scenarios if judged_on(fix, s)):
                    for loop in matrix.loops:
                        yield python, target, fix, scenario, loop


def _fail(key: str, message: str) -> ValueError:
    from ctxreset.matrix.loader import MatrixError

    return MatrixError(f"matrix.yaml: {key}: {message}")


def check_rules(matrix: Matrix) -> None:
    """Raise ``MatrixError`` for a rule that cannot compile, matches nothing, or conflicts."""
    for index, rule in enumerate(matrix.rules):
        if rule.get("reproduces") is not None:
            try:
                re.compile(rule["reproduces"])
            except re.error as exc:
                raise _fail(f"expectations[{index}].reproduces",
                            f"bad value {rule['reproduces']!r}; allowed: a regular expression "
                            f"({exc})") from None
    cells = list(_cells(matrix))
    for index, rule in enumerate(matrix.exclusions):
        if not any(_excludes(rule, p, t, s, lp) for p, t, _, s, lp in cells):
            raise _fail(f"exclusions[{index}]", "matches no cell of the matrix (check its "
                        "pythons, targets, scenarios and loops)")
    matched: set[int] = set()  # rules that match some cell
    effective: set[int] = set()  # rules that are the first match of some cell (they apply)
    shadowed_by: dict[int, int] = {}
    by_fix_scenario: dict[tuple[str, str], list[int]] = {}
    for index, rule in enumerate(matrix.rules):
        by_fix_scenario.setdefault((rule["fix"], rule["scenario"]), []).append(index)
    for python, target, fix, scenario, loop in cells:
        first: Optional[int] = None
        for index in by_fix_scenario.get((fix, scenario), ()):
            rule = matrix.rules[index]
            if not (target in rule["targets"] and loop in rule.get("loops", [loop])
                    and python in rule.get("pythons", [python])):
                continue
            matched.add(index)
            if first is None:
                first = index
                effective.add(index)
                continue
            shadowed_by.setdefault(index, first)
            if _scope(matrix.rules[first]) == _scope(rule) and (
                    _outcome(matrix.rules[first]) != _outcome(rule)):
                raise _fail(f"expectations[{index}]", f"conflicts with expectations[{first}] "
                            f"on py{python}/{target}/{fix}/{scenario}[{loop}] (the same loops "
                            "and pythons, different fails or reproduces); one cell, one "
                            "expectation")
    for index in range(len(matrix.rules)):
        if index not in matched:
            raise _fail(f"expectations[{index}]", "matches no cell of the matrix (check its "
                        "targets, fix, scenario, loops and pythons)")
        if index not in effective:
            raise _fail(f"expectations[{index}]", "never applies: every cell it matches takes "
                        f"expectations[{shadowed_by[index]}] (the first match wins) first")


def _scope(rule: dict[str, Any]) -> tuple[Optional[frozenset[str]], Optional[frozenset[str]]]:
    """The narrowing keys of an expectation: a narrower rule before a broader one overrides
    it on purpose; two rules with the same scope and different outcomes contradict."""
    loops, pythons = rule.get("loops"), rule.get("pythons")
    return (frozenset(loops) if loops else None, frozenset(pythons) if pythons else None)


def _excludes(rule: dict[str, Any], python: str, target: str, scenario: str, loop: str) -> bool:
    return (scenario in rule.get("scenarios", [scenario]) and loop in rule.get("loops", [loop])
            and target in rule.get("targets", [target])
            and python in rule.get("pythons", [python]))


def _outcome(rule: dict[str, Any]) -> tuple[frozenset[str], Optional[str]]:
    return frozenset(rule["fails"]), rule.get("reproduces")


def check_requirement(key: str, requirement: str) -> None:
    try:
        Requirement(requirement)
    except InvalidRequirement as exc:
        why = str(exc).splitlines()[0] if str(exc) else "unparsable"
        raise _fail(key, f"bad value {requirement!r}; allowed: a pip requirement ({why})") from None


# --- pins ----------------------------------------------------------------------------------


def _pins(path: Path) -> dict[str, set[str]]:
    """name -> the versions ``path`` pins with ``==`` (under any marker)."""
    found: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        for spec in requirement.specifier:
            if spec.operator == "==":
                found.setdefault(canonicalize_name(requirement.name), set()).add(spec.version)
    return found


def _exact(requirement: str) -> Optional[tuple[str, str]]:
    parsed = Requirement(requirement)
    versions = [s.version for s in parsed.specifier if s.operator == "=="]
    return (canonicalize_name(parsed.name), versions[0]) if versions else None


def unpinned(matrix: Matrix, constraints: Path) -> Optional[str]:
    """One line naming a requirement its constraints file does not pin exactly, or None."""
    pinned_loops = [(name, loop.requirement) for name, loop in matrix.loops.items()
                    if loop.requirement and not loop.optional and _exact(loop.requirement)]
    for target, spec in matrix.targets.items():
        if spec.source is not None:
            continue  # a candidate installs with its base release's constraints
        path = constraints / f"{target}.txt"
        if not path.is_file():
            return (f"matrix.yaml: targets.{target}: constraints/{target}.txt is missing; "
                    "run `nox -s lock`")
        pins = _pins(path)
        wanted = [(f"targets.{target}.requirement", spec.requirement)] if spec.requirement else []
        wanted += [(f"targets.{target}.with", req) for req in spec.also]
        wanted += [(f"loops.{name}.requirement", req) for name, req in pinned_loops]
        for key, requirement in wanted:
            exact = _exact(requirement)
            if exact and exact[1] not in pins.get(exact[0], set()):
                has = ", ".join(sorted(pins.get(exact[0], set()))) or "nothing"
                return (f"matrix.yaml: {key}: {requirement!r} is not pinned in "
                        f"constraints/{target}.txt (it pins {exact[0]} {has}); run `nox -s "
                        "lock`, which fails if no such release exists")
    return None
