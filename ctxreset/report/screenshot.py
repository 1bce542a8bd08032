"""Look at report.html as a person would: headless Chromium at 1400x900, a screenshot.

    python -m ctxreset.report.screenshot [reports/report.html] [--out reports/first-screen.png]

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: fd 3
carries commands in, fd 4 answers out, each message JSON ending in a NUL byte), so nothing
listens on a port and nothing beyond the standard library is needed. The page is a local
file; Chromium runs with networking features off. ``Page`` is what the page tests use: load,
evaluate JavaScript, click at a point, capture the viewport.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

VIEWPORT = (1400, 900)
TIMEOUT_S = 60.0


def find_chromium() -> Optional[str]:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    """Chromium refused a command or went away."""


class Page:
    """One headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, chromium: str, viewport: tuple[int, int] = VIEWPORT) -> None:
        """Start Chromium; every command after gets ``TIMEOUT_S`` to answer (BrowserError)."""
        self._profile = tempfile.mkdtemp(prefix="ctxreset-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_pipes() -> None:
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self._process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-pipe", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-extensions",
             "--hide-scrollbars", "--force-device-scale-factor=1",
             f"--user-data-dir={self._profile}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire_pipes,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        try:
            self._open(viewport)
        except BaseException:
            self.close()
            raise

    def _open(self, viewport: tuple[int, int]) -> None:
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._send("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
        width, height = viewport
        self.command("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1,
                      "mobile": False})
        self.command("Page.enable")

    def _send(self, method: str, params: Optional[dict[str, Any]] = None,
              session: Optional[str] = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                    raise BrowserError(f"Chromium did not answer {method} in {TIMEOUT_S:g} s")
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    raise BrowserError(f"Chromium closed the pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def command(self, method: str, params: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        return self._send(method, params, self._session)

    def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` in the page (awaited if it is a promise)."""
        result = self.command("Runtime.evaluate", {"expression": expression,
                                                   "returnByValue": True,
                                                   "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def load(self, path: Path) -> None:
        self.command("Page.navigate", {"url": path.resolve().as_uri()})
        for _ in range(200):
            if self.evaluate("document.readyState") == "complete":
                return
            self.evaluate("new Promise(r => setTimeout(r, 50))")
        raise BrowserError(f"{path} did not finish loading")

    def click(self, x: float, y: float) -> None:
        """A real mouse click at viewport coordinates (press and release, left button)."""
        for kind in ("mousePressed", "mouseReleased"):
            self.command("Input.dispatchMouseEvent",
                         {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def screenshot(self, out: Path) -> Path:
        data = self.command("Page.captureScreenshot", {"format": "png"})["data"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        return out

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self._send("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._to_chrome, self._from_chrome):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def first_screen(html: Path, out: Path) -> Optional[str]:
    """Write ``html``'s first screen to ``out``; a one-line reason when it cannot (no
    Chromium, Chromium failed), else None. A picture for people: nothing depends on it."""
    chromium = find_chromium()
    if chromium is None:
        return "no Chromium on PATH (Debian: apt-get install chromium): no screenshot"
    try:
        with Page(chromium) as page:
            page.load(html)
            page.screenshot(out)
    except (BrowserError, OSError) as exc:
        return f"no screenshot: {exc}"
    return None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ctxreset.report.screenshot",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("html", type=Path, nargs="?", default=Path("reports/report.html"))
    parser.add_argument("--out", type=Path, default=Path("reports/first-screen.png"))
    args = parser.parse_args(argv)
    if not args.html.is_file():
        print(f"{args.html}: no such report (run `nox -s report` first)", file=sys.stderr)
        return 2
    problem = first_screen(args.html, args.out)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
