"""The network guard's in-process layer: an audit hook that refuses anything beyond loopback.

Every socket connect, send-to, send-msg and name or address lookup in this process, in any
thread (the trace exporter's included), must stay on loopback; uvloop's loops are wrapped to
raise the audit events CPython's socket module would (libuv raises none). The attempt raises
``NetworkBlocked`` and is kept in ``BLOCKED_ATTEMPTS``, so a test fails at teardown even if the
code swallowed the error (ctxreset.pytest_plugin). Installed on import, for the whole process
(audit hooks cannot be removed). Below Python, ctxreset.run.netns is the kernel-level layer.
"""

from __future__ import annotations

import functools
import ipaddress
import sys
from collections.abc import Callable
from typing import Any, Optional


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
# (Below Python, a loopback-only network namespace is the kernel-level layer:
# ctxreset/run/netns.py.)
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
