"""Run a command in a network namespace of its own with only loopback: nothing can leave.

    python -m ctxreset.run.netns COMMAND [ARG ...]      # e.g. python -m pytest -n auto

The audit hook in ctxreset/run/netguard.py (loaded by the cell plugin) is the portable layer
of the network guard: it sees what CPython's socket module (and, wrapped, uvloop's loop) does
in the test process. Code that reaches the network by other means (C extensions,
subprocesses) goes past it. On Linux, as
root, ``unshare --net`` gives the command a new network namespace whose only interface is
``lo``: there is no route beyond it, so a connect to anything but loopback fails at once in
the kernel (ENETUNREACH), whatever the event loop or language. ``lo`` starts down in a new
namespace; this module brings it up (the ``SIOCSIFFLAGS`` ioctl, as ``ip link set lo up``
does) and then execs the command.

``unavailable()`` says why the layer cannot be used here (not Linux, not root, no
``unshare``, namespaces disabled); nox then runs the command as it is and says so.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
from typing import Optional

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
INSIDE = "--inside"


def unavailable() -> Optional[str]:
    """Why a loopback-only namespace cannot be made here, or None when it can."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces are Linux only (this is {sys.platform})"
    if os.geteuid() != 0:
        return "making a network namespace needs root (unshare --net)"
    unshare = shutil.which("unshare")
    if unshare is None:
        return "no unshare command (util-linux)"
    probe = subprocess.run([unshare, "--net", "true"], capture_output=True, text=True,
                           timeout=30, check=False)
    if probe.returncode != 0:
        return f"unshare --net failed: {probe.stderr.strip() or probe.returncode}"
    return None


def loopback_up() -> None:
    """Bring ``lo`` up in this (new) namespace."""
    import fcntl  # POSIX only; imported here so that the module imports anywhere

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == [INSIDE]:
        loopback_up()
        os.execvp(args[1], args[1:])
    if not args:
        print("usage: python -m ctxreset.run.netns COMMAND [ARG ...]", file=sys.stderr)
        return 2
    reason = unavailable()
    if reason:
        print(f"ctxreset.run.netns: {reason}", file=sys.stderr)
        return 2
    unshare = shutil.which("unshare") or "unshare"
    os.execv(unshare, [unshare, "--net", sys.executable, "-m", "ctxreset.run.netns", INSIDE, *args])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
