"""Shared fixtures, and a guard that fails any test that opens a non-loopback connection."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cell import CellResult
from harness.matrix import Matrix, load_matrix
from harness.results import provenance, write_cell
from harness.targets import Library, installed_agents_version, load_library


class NetworkBlocked(RuntimeError):
    """A test tried to reach beyond loopback."""


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like stay on this machine
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: would need DNS, which is traffic too


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise NetworkBlocked(f"test tried to connect to {address!r}: only loopback allowed")
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise NetworkBlocked(f"test tried to connect to {address!r}: only loopback allowed")
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--results-dir",
        default=os.environ.get("CTXRESET_RESULTS_DIR", "results"),
        help="where each cell's results file is written (default: results/; '' to skip)",
    )


@pytest.fixture(scope="session")
def _provenance() -> dict[str, Any]:
    return provenance()


@pytest.fixture
def results_sink(
    request: pytest.FixtureRequest, _provenance: dict[str, Any]
) -> Callable[[CellResult], None]:
    """Write a cell's result file (atomically) as soon as the cell has run."""
    root = request.config.getoption("--results-dir")

    def sink(result: CellResult) -> None:
        if root:
            write_cell(Path(root), result, _provenance)

    return sink


@pytest.fixture(scope="session")
def matrix() -> Matrix:
    return load_matrix()


def library_names() -> list[str]:
    """The stdlib model always; openai-agents when this environment has it."""
    return ["minimal"] + (["openai-agents"] if installed_agents_version() else [])


def applicable_fixes() -> list[tuple[str, str, str]]:
    """(library name, matrix target id, fix) for every fix matrix.yaml applies here."""
    matrix = load_matrix()
    found = []
    for name in library_names():
        target = matrix.target_id(get_library(name).target_label)
        found += [(name, target, fix) for fix in matrix.fixes_for(target)]
    return found


_LIBRARIES: dict[str, Library] = {}


def get_library(name: str) -> Library:
    if name not in _LIBRARIES:
        _LIBRARIES[name] = load_library(name)
    return _LIBRARIES[name]
