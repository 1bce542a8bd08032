"""Where a candidate target's code comes from: a local checkout, a wheel, or a release plus a
patch file applied to its installed source; what each is (checked before anything runs), and
its provenance (what was judged, so a result is traceable).

A released target is a pip requirement (``openai-agents==0.0.11``). A candidate is what a
maintainer has before a release: a branch checked out (``path:``), a wheel built from one
(``wheel:``), or a diff from a review (``base:`` the release, ``patch:`` the diff, applied to
the release's installed files with ``patch -p1``, paths as ``a/agents/run.py``).

Every check raises ``SourceError`` with one line naming the problem; the entry points print it
and exit 2 before any cell runs.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Any, Optional

from packaging.utils import canonicalize_name

KINDS = ("path", "wheel", "patch")
MARKER = "ctxreset_candidate.json"
"""Written into the candidate's site-packages: which candidate target is installed there (so a
patched 0.0.11 is never taken for the release, ``ctxreset.libraries.matches``)."""


class SourceError(ValueError):
    """A candidate that cannot be judged; the message is one line."""


@dataclass(frozen=True)
class Source:
    """A candidate target's code: ``kind`` (path, wheel, patch) and ``location`` (the
    checkout, the wheel file or the patch file); ``base`` the release it starts from."""

    kind: str
    location: Path
    base: Optional[str]  # a matrix target's requirement, e.g. openai-agents==0.0.11


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _utf8(path: Path, problem: str) -> str:
    """``path``'s text; ``SourceError(problem)`` when it is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(problem) from None


def checkout_name(path: Path) -> str:
    """The distribution a local checkout builds (pyproject's ``[project] name``)."""
    if not path.is_dir():
        raise SourceError(f"{path}: not a directory (a checkout of the library is expected)")
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        raise SourceError(f"{path}: not a Python package (no pyproject.toml)")
    text = _utf8(pyproject, f"{pyproject}: not UTF-8")
    section = re.search(r"^\[project\]\s*$(.*?)(^\[|\Z)", text, re.M | re.S)
    found = re.search(r"""^name\s*=\s*["']([^"']+)["']""", section.group(1), re.M) if (
        section) else None
    name = found.group(1) if found else None
    if name is None:
        raise SourceError(f"{pyproject}: no [project] name; not a package this harness knows")
    return str(canonicalize_name(name))


def wheel_name(path: Path) -> tuple[str, str]:
    """(distribution, version) from a wheel's own METADATA."""
    if not path.is_file() or path.suffix != ".whl":
        raise SourceError(f"{path}: not a wheel file (*.whl)")
    try:
        with zipfile.ZipFile(path) as wheel:
            metadata = [n for n in wheel.namelist()
                        if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
            if len(metadata) != 1:
                raise SourceError(f"{path}: not a wheel (no single *.dist-info/METADATA)")
            headers = HeaderParser().parsestr(wheel.read(metadata[0]).decode("utf-8"))
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as exc:
        raise SourceError(f"{path}: not a wheel ({' '.join(str(exc).split())})") from None
    return str(canonicalize_name(headers.get("Name", ""))), headers.get("Version", "")


def patched_files(path: Path) -> list[str]:
    """The files a unified diff changes, as paths under site-packages (``-p1``)."""
    if not path.is_file():
        raise SourceError(f"{path}: no such patch file")
    text = _utf8(path, f"{path}: not a text patch (not UTF-8)")
    files = [line[4:].split("\t")[0].strip().split("/", 1)[-1]
             for line in text.splitlines() if line.startswith("+++ ")]
    if not files or "\n@@ " not in text:
        raise SourceError(f"{path}: not a unified diff (no '+++' file and '@@' hunk)")
    return files


def apply_patch(site: Path, patch: Path, dry_run: bool = False) -> None:
    """Apply ``patch`` (``-p1``) to the installed files under ``site``; ``SourceError`` with
    patch's first complaint if any hunk does not apply (nothing is changed then: a dry run
    goes first)."""
    patched_files(patch)
    for check in (True, False) if not dry_run else (True,):
        command = ["patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch",
                   "-d", str(site), "-i", str(patch.resolve())]
        try:
            done = subprocess.run(command + (["--dry-run"] if check else []),
                                  capture_output=True, text=True)
        except FileNotFoundError:
            raise SourceError("patch: the `patch` program is not installed "
                              "(apt-get install patch)") from None
        if done.returncode != 0:
            lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
            why = next((line for line in lines if "FAILED" in line or "Reversed" in line
                        or "can't find" in line or "No file" in line), lines[-1] if lines
                       else f"exit {done.returncode}")
            raise SourceError(f"{patch}: does not apply to {site}: {' '.join(why.split())}")


def git_state(path: Path) -> dict[str, Any]:
    """The checkout's commit and whether its work tree differs from it (None outside git)."""
    def git(*args: str) -> Optional[str]:
        try:
            done = subprocess.run(["git", "-C", str(path), *args], capture_output=True,
                                  text=True)
        except FileNotFoundError:
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def provenance(source: Source) -> dict[str, Any]:
    """What was judged: the checkout and its commit, the wheel's hash, or the patch's hash and
    its base release."""
    where = str(source.location.resolve())
    if source.kind == "path":
        return {"kind": "path", "path": where, **git_state(source.location),
                "base": source.base}
    return {"kind": source.kind, source.kind: where, "sha256": sha256(source.location),
            "base": source.base}


def check_source(source: Source, libraries: set[str]) -> str:
    """The distribution ``source`` installs, one of ``libraries``; ``SourceError`` otherwise."""
    if source.kind == "path":
        name = checkout_name(source.location)
    elif source.kind == "wheel":
        name = wheel_name(source.location)[0]
    else:
        patched_files(source.location)
        return ""
    if name not in libraries:
        raise SourceError(f"{source.location}: builds {name!r}, not a library of the matrix "
                          f"({', '.join(sorted(libraries))})")
    return name


def classify(argument: str) -> Source:
    """A command-line candidate: a directory (checkout), a ``.whl`` or a ``.diff``/``.patch``."""
    path = Path(argument)
    if path.is_dir():
        return Source("path", path, None)
    if path.suffix == ".whl":
        return Source("wheel", path, None)
    if path.suffix in (".diff", ".patch"):
        return Source("patch", path, None)
    if not path.exists():
        raise SourceError(f"{argument}: no such file or directory")
    raise SourceError(f"{argument}: not a checkout (directory), a wheel (.whl) or a patch "
                      "(.diff, .patch)")
