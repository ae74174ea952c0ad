"""Headless Chromium driven through its DevTools protocol over a pipe.

Chromium is the one from the system packages (``apt-get install chromium``), found on PATH or
given by path; nothing is downloaded. It runs with ``--remote-debugging-pipe``: the protocol's
JSON messages, each ended by a NUL byte, go in on the child's file descriptor 3 and come out on
4, so there is no port to open and no client library to install.

    with Chromium.launch() as browser:
        page = browser.new_page()
        page.open("http://127.0.0.1:8000/index.html", width=1280, height=800)
        page.evaluate("document.title")
        page.screenshot(Path("index.png"))
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "install it with `apt-get install -y chromium` (Debian, Ubuntu) or name it with --chromium"
)

FLAGS = (
    "--headless",
    "--remote-debugging-pipe",
    "--no-sandbox",  # the sandbox needs a non-root user; these are our own local pages
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
    "--force-color-profile=srgb",
    "--font-render-hinting=none",
)


class BrowserError(RuntimeError):
    """Chromium is missing, did not start, closed its pipe, or answered with an error."""


def find(given: str | None = None) -> str:
    """The Chromium executable: ``given`` (a path or a name on PATH), else the first of NAMES
    on PATH."""
    for name in (given,) if given else NAMES:
        found = shutil.which(name)
        if found:
            return found
    what = f"{given!r} is not an executable" if given else "no Chromium found on PATH"
    raise BrowserError(f"{what}: {INSTALL_HINT}")


def _high(fd: int) -> int:
    """``fd`` moved above the standard ones (and 3, 4), close-on-exec, so the child's 3 and 4
    can be made from it without clobbering anything."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Chromium:
    """One headless Chromium process and its protocol pipe."""

    def __init__(self, pid: int, to_browser: int, from_browser: int, profile: Path, log: Path):
        self.pid = pid
        self._out = to_browser
        self._in = from_browser
        self._profile = profile
        self.log = log
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    @classmethod
    @contextmanager
    def launch(cls, executable: str | None = None, *, timeout: float = 30) -> Iterator[Chromium]:
        """Start Chromium (``find(executable)``), yield it, and always stop it."""
        exe = find(executable)
        with tempfile.TemporaryDirectory(prefix="jackfield-chromium-") as tmp:
            profile = Path(tmp) / "profile"
            log = Path(tmp) / "chromium.log"
            in_r, in_w = (_high(fd) for fd in os.pipe())  # we write, it reads on 3
            out_r, out_w = (_high(fd) for fd in os.pipe())  # it writes on 4, we read
            log_fd = os.open(log, os.O_WRONLY | os.O_CREAT, 0o600)
            argv = [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"]
            try:
                pid = os.posix_spawn(
                    exe,
                    argv,
                    dict(os.environ),
                    file_actions=[
                        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                        (os.POSIX_SPAWN_DUP2, log_fd, 1),
                        (os.POSIX_SPAWN_DUP2, log_fd, 2),
                        (os.POSIX_SPAWN_DUP2, in_r, 3),
                        (os.POSIX_SPAWN_DUP2, out_w, 4),
                    ],
                    setpgroup=0,  # its own process group: stopping it stops its helpers
                )
            finally:
                for fd in (in_r, out_w, log_fd):
                    os.close(fd)
            browser = cls(pid, in_w, out_r, profile, log)
            try:
                browser.call("Browser.getVersion", timeout=timeout)
                yield browser
            finally:
                browser.close()

    # --- the protocol ----------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode() + b"\0"
        while data:
            try:
                written = os.write(self._out, data)
            except BrokenPipeError as exc:
                raise BrowserError(f"Chromium closed its pipe; its log:\n{self._tail()}") from exc
            data = data[written:]

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed its pipe; its log:\n{self._tail()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str | None = None,
        timeout: float = 30,
    ) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._send(message)
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") != self._next_id:
                self._events.append(answer)
                continue
            if "error" in answer:
                raise BrowserError(f"{method}: {answer['error'].get('message', answer['error'])}")
            result: dict[str, Any] = answer.get("result", {})
            return result

    def wait_for(self, event: str, *, session: str | None = None, timeout: float = 30) -> None:
        """Wait for ``event`` (of ``session``), dropping the events before it."""
        deadline = time.monotonic() + timeout
        while True:
            while self._events:
                seen = self._events.pop(0)
                if seen.get("method") == event and seen.get("sessionId") == session:
                    return
            try:
                self._events.append(self._receive(deadline))
            except BrowserError as exc:
                raise BrowserError(f"no {event} in {timeout:g} s") from exc

    def new_page(self) -> Page:
        """A new tab, attached (flat sessions: its commands go through this pipe)."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        page = Page(self, attached["sessionId"])
        page.call("Page.enable")
        page.call("Runtime.enable")
        return page

    # --- stopping --------------------------------------------------------------------------------

    def _tail(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def close(self) -> None:
        """Ask Chromium to close, then stop its process group if it is still there."""
        with suppress(BrowserError):
            self.call("Browser.close", timeout=5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.killpg(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        with suppress(ProcessLookupError):  # helpers (zygote, renderers) left in its group
            os.killpg(self.pid, signal.SIGKILL)
        for fd in (self._out, self._in):
            os.close(fd)


class Page:
    """One tab of a ``Chromium``."""

    def __init__(self, browser: Chromium, session: str):
        self.browser = browser
        self.session = session
        self._size = (800, 600, False)

    def call(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self.browser.call(method, params, session=self.session, **kw)

    def open(self, url: str, *, width: int, height: int, mobile: bool = False) -> None:
        """Load ``url`` in a ``width`` x ``height`` viewport (``mobile``: a phone's, where the
        page's viewport meta tag applies) and wait for its load event and web fonts."""
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
        self.call("Emulation.setDeviceMetricsOverride", metrics)
        self._size = (width, height, mobile)
        self.call("Page.navigate", {"url": url})
        self.browser.wait_for("Page.loadEventFired", session=self.session)
        self.evaluate("document.fonts.ready.then(() => true)")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (a promise is awaited), as JSON."""
        answer = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"the page's JavaScript failed: {text}")
        return answer["result"].get("value")

    def screenshot(self, path: Path, *, max_height: int = 6000) -> None:
        """A PNG of the page from its top, as tall as the page (at most ``max_height``).

        The viewport is stretched to that height for the shot, then put back: a capture beyond
        the viewport would leave out the scrollbars of the boxes that scroll, which a reader
        sees."""
        width, height, mobile = self._size
        tall = min(int(self.evaluate("document.scrollingElement.scrollHeight")), max_height)
        metrics = {"width": width, "deviceScaleFactor": 1, "mobile": mobile}
        self.call("Emulation.setDeviceMetricsOverride", {**metrics, "height": max(tall, height)})
        try:
            shot = self.call("Page.captureScreenshot", {"format": "png"}, timeout=60)
        finally:
            self.call("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
        path.write_bytes(base64.b64decode(shot["data"]))
