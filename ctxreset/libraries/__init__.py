"""Adapters: each library under test behind the contract (ctxreset.contract), and the one
translation between a matrix target id and what is installed.

A target id (``agents-0.0.11``) is the only name a target has on the command line, in
results files and in reports; ``matches`` is the one place that relates it to a distribution
and its installed release (through the target's ``requirement:`` in matrix.yaml). A candidate
target (a checkout, a wheel, a release plus a patch: ``ctxreset.matrix.sources``) is the
distribution of its base release, installed with a marker naming the candidate
(``installed_candidate``): a patched 0.0.11 is never taken for the release, nor the release
for the candidate.
"""

from __future__ import annotations

import importlib
import json
import sysconfig
from importlib import metadata
from pathlib import Path
from typing import Any, Optional

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ctxreset.contract import Library
from ctxreset.matrix.loader import Matrix
from ctxreset.matrix.sources import MARKER

ADAPTERS = {
    "minimal": "ctxreset.libraries.minimal:MinimalLibrary",
    "openai-agents": "ctxreset.libraries.openai_agents:AgentsLibrary",
    "sentry-sdk": "ctxreset.libraries.sentry:SentryLibrary",
    "opentelemetry-sdk": "ctxreset.libraries.otel:OTelLibrary",
    "pydantic-ai-slim": "ctxreset.libraries.pydantic_ai:PydanticAILibrary",
}
"""Library (distribution) name -> its adapter class; ``minimal`` is the stdlib model."""


def library_name(matrix: Matrix, target: str) -> str:
    """The distribution a target installs (``minimal``: none, the stdlib model)."""
    requirement = matrix.targets[matrix.release_of(target)].requirement
    if requirement is None:
        return "minimal"
    return str(canonicalize_name(Requirement(requirement).name))


def installed_version(name: str) -> Optional[str]:
    """The installed release of distribution ``name`` (``stdlib`` for ``minimal``), or None."""
    if name == "minimal":
        return "stdlib"
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def candidate_provenance(site: Optional[Path] = None) -> Optional[dict[str, Any]]:
    """What the candidate installed here is (its marker: target, kind, path and commit, or
    sha256 and base release), or None where a release is installed."""
    marker = (site or Path(sysconfig.get_path("purelib"))) / MARKER
    try:
        found = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and isinstance(found.get("target"), str) else None


def installed_candidate(site: Optional[Path] = None) -> Optional[str]:
    """The candidate target installed in this environment, or None."""
    found = candidate_provenance(site)
    return str(found["target"]) if found else None


def matches(matrix: Matrix, target: str, name: str, version: Optional[str]) -> bool:
    """Whether release ``version`` of distribution ``name`` is what ``target`` installs."""
    requirement = matrix.targets[target].requirement
    if version is None or library_name(matrix, target) != canonicalize_name(name):
        return False
    if name == "minimal":
        return True
    candidate = installed_candidate()
    if matrix.targets[target].source is not None or candidate is not None:
        return candidate == target
    return requirement is None or Requirement(requirement).specifier.contains(
        version, prereleases=True)


def installed_targets(matrix: Matrix) -> list[str]:
    """The targets whose library is installed here at the release they name, matrix order."""
    return [t for t in matrix.targets
            if matches(matrix, t, library_name(matrix, t),
                       installed_version(library_name(matrix, t)))]


def target_of(matrix: Matrix, name: str, version: Optional[str]) -> Optional[str]:
    """The target that release ``version`` of ``name`` stands for, or None."""
    return next((t for t in matrix.targets if matches(matrix, t, name, version)), None)


def load_library(name: str) -> Library:
    """The adapter of library ``name`` (its installed release)."""
    try:
        module, _, cls = ADAPTERS[name].partition(":")
    except KeyError:
        raise ValueError(f"unknown library {name!r}; allowed: {', '.join(ADAPTERS)}") from None
    library: Library = getattr(importlib.import_module(module), cls)()
    return library


_LOADED: dict[str, Library] = {}


def library_for(matrix: Matrix, target: str) -> Library:
    """The library a target id stands for (loaded once per process)."""
    name = library_name(matrix, target)
    if name not in _LOADED:
        _LOADED[name] = load_library(name)
    return _LOADED[name]
