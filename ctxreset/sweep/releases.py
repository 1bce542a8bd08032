"""A package's releases, from PyPI's JSON API: final, not yanked, sorted, with upload times.

    releases = parse_releases(fetch_pypi_json("openai-agents"))
    chosen = select_range(releases, "0.0.3", None)      # None: through the newest

Pre-releases, yanked releases and releases without files are left out (``parse_releases``
says why for each). A release's upload time is its *last* file's, so an installer limited to
packages uploaded up to that moment (uv's ``--exclude-newer``) still finds all of its files.
"""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from packaging.version import InvalidVersion, Version

PYPI_JSON = "https://pypi.org/pypi/{package}/json"
_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


@dataclass(frozen=True)
class Release:
    version: str
    uploaded: str  # ISO 8601, UTC, e.g. "2025-04-15T18:38:39Z": its last file's upload

    @property
    def key(self) -> Version:
        return Version(self.version)


@dataclass(frozen=True)
class ReleaseList:
    releases: tuple[Release, ...]  # oldest first
    skipped: tuple[tuple[str, str], ...]  # (version, why it was left out)


def fetch_pypi_json(package: str, timeout: float = 30.0) -> dict[str, Any]:
    """PyPI's JSON document for ``package`` (network)."""
    url = PYPI_JSON.format(package=package)
    with urllib.request.urlopen(url, timeout=timeout) as response:  # a fixed https URL
        return json.loads(response.read().decode("utf-8"))  # type: ignore[no-any-return]


def parse_time(stamp: str) -> datetime:
    """An ISO 8601 time as PyPI writes it (``...Z``), as an aware UTC datetime (3.9-safe)."""
    match = _TIME.match(stamp)
    if match is None:
        raise ValueError(f"not an ISO 8601 time: {stamp!r}")
    whole, fraction, offset = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]  # 3.9 parses only 3 or 6 digits
    zone = "+00:00" if offset in (None, "Z") else offset
    return datetime.fromisoformat(f"{whole}.{micro}{zone}")


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _upload_time(files: list[dict[str, Any]]) -> str:
    """The last file's upload, rounded *up* to the second (never earlier than any file)."""
    stamps = [parse_time(f.get("upload_time_iso_8601") or f["upload_time"]) for f in files]
    latest = max(stamps)
    if latest.microsecond:
        latest = latest.replace(microsecond=0) + timedelta(seconds=1)
    return format_time(latest)


def parse_releases(document: dict[str, Any]) -> ReleaseList:
    """Final, non-yanked releases with files, oldest first; the rest listed with a reason."""
    kept, skipped = [], []
    for version, files in document.get("releases", {}).items():
        try:
            parsed = Version(version)
        except InvalidVersion:
            skipped.append((version, "not a PEP 440 version"))
            continue
        if parsed.is_prerelease or parsed.is_devrelease:
            skipped.append((version, "pre-release"))
        elif not files:
            skipped.append((version, "no files"))
        elif all(f.get("yanked") for f in files):
            reasons = {f.get("yanked_reason") or "" for f in files} - {""}
            skipped.append((version, "yanked" + (f": {sorted(reasons)[0]}" if reasons else "")))
        else:
            live = [f for f in files if not f.get("yanked")]
            kept.append(Release(version, _upload_time(live)))
    kept.sort(key=lambda r: r.key)
    skipped.sort(key=lambda item: _sort_key(item[0]))
    return ReleaseList(tuple(kept), tuple(skipped))


def _sort_key(version: str) -> tuple[int, Any]:
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def select_range(
    releases: tuple[Release, ...], first: Optional[str], last: Optional[str]
) -> list[Release]:
    """The releases from ``first`` through ``last`` inclusive (None: open end)."""
    low = Version(first) if first else None
    high = Version(last) if last else None
    return [r for r in releases
            if (low is None or r.key >= low) and (high is None or r.key <= high)]
