"""Shared fixtures, and a guard that fails any test that reaches beyond loopback."""

from __future__ import annotations

import argparse
import functools
import ipaddress
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

from harness.cell import DEFAULT_TIMEOUT, CellResult
from harness.matrix import Matrix, MatrixError, load_matrix, short_python
from harness.plan import session_name
from harness.results import provenance, write_cell, write_session
from harness.settings import SettingError, cell_timeout_from_env, positive_seconds
from harness.targets import Library, installed_agents_version, load_library


class NetworkBlocked(RuntimeError):
    """A test tried to reach beyond loopback."""


LOOPBACK_NAMES = ("localhost", "", None)
BLOCKED_ATTEMPTS: list[str] = []
"""Every non-loopback attempt this process made; a test that made one fails at teardown."""


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name: resolving it would be traffic already


def _network_guard(event: str, args: tuple[Any, ...]) -> None:
    """An audit hook: every socket connect, send-to and name lookup in this process, in any
    thread (the trace exporter's included), must stay on loopback."""
    if not event.startswith("socket."):
        return
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1]  # sendmsg on a connected socket: None (its connect was seen)
        if not isinstance(address, tuple) or _is_loopback(address[0]):
            return  # AF_UNIX paths and the like stay on this machine
        target = f"{address!r}"
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        if _is_loopback(args[0]):
            return
        target = f"name lookup of {args[0]!r}"
    elif event == "socket.getnameinfo":
        address = args[0]
        if isinstance(address, tuple) and _is_loopback(address[0]):
            return
        target = f"name lookup of {address!r}"
    else:
        return
    BLOCKED_ATTEMPTS.append(f"{event}: {target}")
    raise NetworkBlocked(f"test tried to reach {target}: only loopback allowed")


sys.addaudithook(_network_guard)  # hooks cannot be removed: the guard lasts the whole process


# uvloop resolves and connects in libuv, where CPython raises no audit event: its loop's entry
# points raise the events CPython's socket module would, so the guard above sees them too.
# (Below Python, a loopback-only network namespace is the kernel-level layer: harness/netns.py.)
_UVLOOP_EVENTS: dict[str, Callable[..., Optional[tuple[Any, ...]]]] = {
    "create_connection": lambda factory, host=None, port=None, *a, **k: (
        ("socket.getaddrinfo", host, port, 0, 0, 0) if host is not None else None),
    "create_datagram_endpoint": lambda factory, local_addr=None, remote_addr=None, *a, **k: (
        ("socket.getaddrinfo", *remote_addr[:2], 0, 0, 0)
        if isinstance(remote_addr, tuple) else None),
    "getaddrinfo": lambda host, port, *a, **k: ("socket.getaddrinfo", host, port, 0, 0, 0),
    "getnameinfo": lambda sockaddr, *a, **k: ("socket.getnameinfo", sockaddr),
    "sock_connect": lambda sock, address: ("socket.connect", sock, address),
    "sock_sendto": lambda sock, data, address: ("socket.sendto", sock, address),
}


def _audited(method: Callable[..., Any], event_of: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def audited(self: Any, *args: Any, **kwargs: Any) -> Any:
        event = event_of(*args, **kwargs)
        if event is not None:
            sys.audit(*event)
        return method(self, *args, **kwargs)

    audited.__ctxreset_audited__ = True  # type: ignore[attr-defined]
    return audited


def audit_uvloop() -> bool:
    """Make uvloop's loops raise socket audit events; False when uvloop is not installed."""
    try:
        import uvloop
    except ImportError:
        return False
    for name, event_of in _UVLOOP_EVENTS.items():
        method = getattr(uvloop.Loop, name)
        if not getattr(method, "__ctxreset_audited__", False):
            setattr(uvloop.Loop, name, _audited(method, event_of))
    return True


audit_uvloop()


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Fail the test loudly if it tried to leave loopback, even if the attempt was swallowed
    (an exporter thread logging the error, a retry loop, a bare except)."""
    BLOCKED_ATTEMPTS.clear()
    yield
    if BLOCKED_ATTEMPTS:
        attempts = "; ".join(BLOCKED_ATTEMPTS)
        BLOCKED_ATTEMPTS.clear()
        pytest.fail(f"network traffic beyond loopback was attempted: {attempts}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--results-dir",
        default=os.environ.get("CTXRESET_RESULTS_DIR", "results"),
        help="where each cell's results file is written (default: results/; '' to skip)",
    )
    parser.addoption(
        "--cell-timeout",
        type=_seconds,
        default=None,
        help=f"seconds a cell's scenario may run before it is recorded 'timeout' (default "
        f"{DEFAULT_TIMEOUT:g}; env CTXRESET_CELL_TIMEOUT)",
    )
    parser.addoption(
        "--target",
        action="append",
        default=None,
        help="matrix.yaml target id whose cells to run (repeatable; env CTXRESET_TARGETS, "
        "comma-separated). Default: every target installed in this environment.",
    )


def _seconds(text: str) -> float:
    try:
        return positive_seconds("--cell-timeout", text)
    except SettingError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[1]) from None


def pytest_configure(config: pytest.Config) -> None:
    """Validate matrix.yaml, the settings and the chosen targets before anything is collected."""
    try:
        matrix = load_matrix()
        timeout = config.getoption("--cell-timeout") or cell_timeout_from_env()
    except (MatrixError, SettingError) as exc:
        pytest.exit(str(exc), returncode=2)
    chosen = config.getoption("--target") or [
        t for t in os.environ.get("CTXRESET_TARGETS", "").split(",") if t
    ]
    try:
        config.stash[TARGETS_KEY] = selected_targets(matrix, chosen)
    except MatrixError as exc:
        pytest.exit(str(exc), returncode=2)
    config.stash[STARTED_KEY] = time.time()
    config.stash[CELL_TIMEOUT_KEY] = timeout or DEFAULT_TIMEOUT


def _run_pythons(matrix: Matrix) -> list[str]:
    return [p for p in os.environ.get("CTXRESET_PYTHONS", "").split(",") if p] or list(
        matrix.pythons
    )


def elsewhere(matrix: Matrix, marker: str) -> Optional[str]:
    """Why this session leaves tests marked ``marker`` to another session, or None.

    A matrix run has one session per Python and target. ``once_per_run`` tests depend on
    neither: they run in the session of target ``minimal`` on the run's first Python.
    ``once_per_target`` tests depend on the installed library but not on the Python: each
    target runs them on the first of the run's Pythons it installs on. A plain pytest run
    (no CTXRESET_TARGETS) runs both kinds.
    """
    targets = [t for t in os.environ.get("CTXRESET_TARGETS", "").split(",") if t]
    if not targets:
        return None
    python = short_python(platform.python_version())
    homes = {"minimal": _run_pythons(matrix)[0]} if marker == "once_per_run" else {
        target: next(p for p in _run_pythons(matrix) if not matrix.target_not_run(target, p))
        for target in targets
    }
    if any(homes.get(target) == python for target in targets):
        return None
    where = ", ".join(session_name(p, t) for t, p in homes.items())
    return f"{marker.replace('_', ' ')}: runs in {where}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    matrix = load_matrix()
    for marker in ("once_per_run", "once_per_target"):
        reason = elsewhere(matrix, marker)
        if reason is None:
            continue
        for item in items:
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_report_header(config: pytest.Config) -> str:
    return f"ctxreset targets: {', '.join(config.stash[TARGETS_KEY])}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Write this session's record ahead, as interrupted (pytest's exit status 2): if the
    process is killed before it finishes (nox escalates Ctrl-C to SIGKILL; an OOM kill), the
    cells it never reached are reported "not run (interrupted)". Replaced at the finish."""
    _write_session_record(session, int(pytest.ExitCode.INTERRUPTED))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Record this session's duration and outcome beside the cell files (controller only)."""
    _write_session_record(session, int(exitstatus))


def _write_session_record(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    root = config.getoption("--results-dir")
    if not root or hasattr(config, "workerinput") or STARTED_KEY not in config.stash:
        return
    targets = config.stash[TARGETS_KEY]
    python = short_python(platform.python_version())
    write_session(Path(root), python, targets, {
        "duration_s": round(time.time() - config.stash[STARTED_KEY], 3),
        "exitstatus": exitstatus,
        "testscollected": session.testscollected,
        "testsfailed": session.testsfailed,
    })


TARGETS_KEY = pytest.StashKey[list]()
STARTED_KEY = pytest.StashKey[float]()
CELL_TIMEOUT_KEY = pytest.StashKey[float]()


def selected_targets(matrix: Matrix, chosen: list[str]) -> list[str]:
    """The targets to run: the ones asked for, which must be installed here, or all installed."""
    installed = ["minimal"]
    version = installed_agents_version()
    if version is not None:
        label = f"openai-agents=={version}"
        installed += [t for t, spec in matrix.targets.items() if spec.requirement == label]
    for target in chosen:
        if target not in matrix.targets:
            known = ", ".join(matrix.targets)
            raise MatrixError(f"--target: bad value {target!r}; allowed: {known}")
        if target not in installed:
            found = f"openai-agents=={version}" if version else "no openai-agents"
            raise MatrixError(
                f"--target: {target!r} needs {matrix.targets[target].requirement}, "
                f"this environment has {found}"
            )
    return chosen or installed


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


@pytest.fixture(scope="session")
def targets(request: pytest.FixtureRequest) -> list[str]:
    return request.config.stash[TARGETS_KEY]


_LIBRARIES: dict[str, Library] = {}


def library_for(matrix: Matrix, target: str) -> Library:
    """The library a target id stands for (loaded once per process)."""
    name = "minimal" if matrix.targets[target].requirement is None else "openai-agents"
    if name not in _LIBRARIES:
        _LIBRARIES[name] = load_library(name)
    return _LIBRARIES[name]
