"""The network guard's two layers: the audit hook (any platform, any loop the harness wraps)
and a loopback-only network namespace (Linux, as root) in which nothing can leave.

No test here attempts a non-loopback address outside the namespace: the audit layer is
shown on loopback addresses (the events it must see) and on the hook itself; TEST-NET-1
(192.0.2.1, never routed) is tried only inside an empty namespace, where it has no route.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctxreset.run import netns
from ctxreset.run.netguard import BLOCKED_ATTEMPTS, NetworkBlocked, _network_guard

ROOT = Path(__file__).resolve().parents[2]
SEEN: list[tuple[str, tuple[Any, ...]]] = []


def _record(event: str, args: tuple[Any, ...]) -> None:
    if event.startswith("socket.") and event != "socket.__new__":
        SEEN.append((event, args))


sys.addaudithook(_record)


@pytest.fixture
def seen() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    SEEN.clear()
    yield SEEN
    SEEN.clear()


@pytest.mark.parametrize("event, args", [
    ("socket.connect", (None, ("192.0.2.1", 9))),
    ("socket.sendto", (None, ("192.0.2.1", 9))),
    ("socket.sendmsg", (None, ("192.0.2.1", 9))),
    ("socket.getaddrinfo", ("example.invalid", 443, 0, 0, 0)),
    ("socket.gethostbyname", ("example.invalid",)),
    ("socket.gethostbyaddr", ("192.0.2.1",)),
    ("socket.getnameinfo", (("192.0.2.1", 9), 0)),
])
def test_the_hook_refuses_every_watched_event_beyond_loopback(event, args):
    with pytest.raises(NetworkBlocked):
        _network_guard(event, args)
    assert BLOCKED_ATTEMPTS.pop().startswith(event)
    loopback = tuple(("127.0.0.1", 9) if isinstance(a, tuple) else
                     ("127.0.0.1" if a in ("example.invalid", "192.0.2.1") else a) for a in args)
    _network_guard(event, loopback)  # loopback passes
    assert not BLOCKED_ATTEMPTS


def test_uvloop_connects_and_lookups_raise_audit_events(seen):
    uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        transport.close()
        await loop.getaddrinfo("localhost", port)
        await loop.getnameinfo(("127.0.0.1", port))
        with socket.socket() as sock:
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", port))
        server.close()

    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    events = [event for event, _ in seen]
    assert events.count("socket.getaddrinfo") >= 2  # create_connection's and getaddrinfo's
    assert any(event == "socket.getnameinfo" and args[0][0] == "127.0.0.1"
               for event, args in seen)
    assert any(event == "socket.connect" and args[1][0] == "127.0.0.1" for event, args in seen)


NAMESPACED = """
import asyncio, socket, sys, time
import uvloop

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    transport.close()
    print("loopback ok")
    started = time.monotonic()
    try:
        await asyncio.wait_for(loop.create_connection(asyncio.Protocol, "192.0.2.1", 9), 5)
    except OSError as exc:
        print(f"refused after {time.monotonic() - started:.3f} s: {exc}")
    else:
        print("CONNECTED")
    print("interfaces", sorted(name for _, name in socket.if_nameindex()))
    server.close()

loop = uvloop.new_event_loop()
loop.run_until_complete(main())
"""


def test_inside_the_namespace_a_uvloop_connect_beyond_loopback_fails_at_once():
    reason = netns.unavailable()
    if reason:
        pytest.skip(f"no loopback-only network namespace here: {reason}")
    pytest.importorskip("uvloop")
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "ctxreset.run.netns", sys.executable, "-c",
                          NAMESPACED], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "loopback ok"
    assert lines[1].startswith("refused after 0.0") and "unreachable" in lines[1], lines
    assert lines[2] == "interfaces ['lo']"
    assert time.monotonic() - started < 30
