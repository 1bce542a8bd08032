"""pytest plugin: run any test suite with one candidate fix applied to openai-agents.

    python -m pytest -p ctxreset.apply_fix --apply-fix context_rerun [your pytest args]
    CTXRESET_APPLY_FIX=context_rerun python -m pytest -p ctxreset.apply_fix [your pytest args]

The fix is applied in ``pytest_configure`` (before collection) and reverted in
``pytest_unconfigure``; the report header names it and the release it patched. Every process
applies it itself, so pytest-xdist workers (which load ``-p`` plugins too) run patched.

A fix applies only where ``matrix.yaml`` says so (``fixes: <name>: applies_to:``), matched
through the installed openai-agents version and the targets' requirements. An unknown fix, a
fix that does not apply to the installed release, a release the matrix does not list, or no
openai-agents at all: one line naming the reason, exit status 2, before anything runs.

Loaded only on request (``-p``): there is deliberately no ``pytest11`` entry point. Loaded
with no fix asked for, it patches nothing and says so in the header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pytest

from ctxreset import settings
from ctxreset.contract import Undo

ENV_VAR = settings.APPLY_FIX
LIBRARY = "openai-agents"


class FixNotApplicable(Exception):
    """The requested fix cannot be applied here; the message is one line."""


@dataclass(frozen=True)
class AppliedFix:
    name: str
    version: str  # the openai-agents release it patched
    undo: Undo

    @property
    def header(self) -> str:
        return f"ctxreset: fix {self.name} applied to {LIBRARY} {self.version}"


def target_for(name: str, version: Optional[str]) -> str:
    """The matrix target the installed release stands for, if fix ``name`` applies to it.

    ``version`` is the installed openai-agents version (None: not installed). Raises
    ``FixNotApplicable`` (or ``MatrixError`` for a bad matrix.yaml) with a one-line reason.
    """
    from ctxreset.fixes import get_fix
    from ctxreset.libraries import target_of
    from ctxreset.matrix.loader import load_matrix

    try:
        get_fix(name)
    except ValueError as exc:
        raise FixNotApplicable(f"--apply-fix: {exc}") from None
    matrix = load_matrix()
    releases = [matrix.targets[t].requirement for t in matrix.fixes[name]]
    where = ", ".join(r for r in releases if r) or f"no {LIBRARY} release"
    if version is None:
        raise FixNotApplicable(
            f"--apply-fix: fix {name} does not apply: {LIBRARY} is not installed here "
            f"(it applies to {where})"
        )
    target = target_of(matrix, LIBRARY, version)
    if target is None:
        raise FixNotApplicable(
            f"--apply-fix: fix {name} does not apply to {LIBRARY} {version}: no matrix.yaml "
            f"target installs that release (it applies to {where})"
        )
    if target not in matrix.fixes[name]:
        raise FixNotApplicable(
            f"--apply-fix: fix {name} does not apply to {LIBRARY} {version} "
            f"(matrix.yaml target {target}; it applies to {where})"
        )
    return target


def apply_fix(name: str) -> AppliedFix:
    """Check fix ``name`` against the installed release, patch it, return how to revert."""
    from ctxreset.fixes import apply_to, get_fix
    from ctxreset.libraries import installed_version, load_library

    version = installed_version(LIBRARY)
    target_for(name, version)
    library = load_library(LIBRARY)
    return AppliedFix(name, library.version, apply_to(get_fix(name), library))


def requested_fix(config: pytest.Config) -> Optional[str]:
    """``--apply-fix``, else ``CTXRESET_APPLY_FIX``, else None."""
    name: Optional[str] = config.getoption("apply_fix") or settings.apply_fix()
    return name


_APPLIED = pytest.StashKey[Optional[AppliedFix]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("ctxreset").addoption(
        "--apply-fix",
        dest="apply_fix",
        default=None,
        metavar="FIX",
        help=f"apply this ctxreset candidate fix to {LIBRARY} for the whole run "
        f"(env {ENV_VAR}); it must apply to the installed release per matrix.yaml",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    from ctxreset.matrix.loader import MatrixError

    config.stash[_APPLIED] = None
    name = requested_fix(config)
    if name is None:
        return
    try:
        config.stash[_APPLIED] = apply_fix(name)
    except (FixNotApplicable, MatrixError) as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    applied = config.stash.get(_APPLIED, None)
    if applied is not None:
        config.stash[_APPLIED] = None
        applied.undo()


def pytest_report_header(config: pytest.Config) -> str:
    applied = config.stash.get(_APPLIED, None)
    if applied is None:
        return f"ctxreset: no fix applied (use --apply-fix FIX or {ENV_VAR}=FIX)"
    return applied.header
