"""A server in a child process on 127.0.0.1, always stopped.

The child is stopped on :meth:`ServerProcess.stop`, at the end of a ``with`` block (also on an
exception or Ctrl-C), at interpreter exit, and when the parent dies (``PR_SET_PDEATHSIG``, so a
killed test run leaves no server behind). Its output goes to a log file that errors quote.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

_RUNNING: set[ServerProcess] = set()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


class ServerError(RuntimeError):
    """The server did not start; the message ends with its log."""


class ServerProcess:
    """``command`` run with ``env`` (over a minimal environment of its own) until ``health``
    (a URL on 127.0.0.1) answers 200, within ``startup`` seconds."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        health: str,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        startup: float = 600.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.command = list(command)
        self.health = health
        self.env = dict(env or {})
        self.cwd = cwd
        self.startup = startup
        self.headers = dict(headers or {})
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> ServerProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "NO_PROXY": "127.0.0.1,localhost",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **self.env,
        }
        self._log = tempfile.NamedTemporaryFile(prefix="live-server-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=self.cwd,
            preexec_fn=_die_with_parent,
        )
        _RUNNING.add(self)
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup
        request = urllib.request.Request(self.health, headers=self.headers)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"{self.command[0]} exited with {self.process.returncode}:\n{self.log()[-4000:]}"
                )
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError, OSError),
                urllib.request.urlopen(request, timeout=5) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.5)
        raise ServerError(f"not healthy after {self.startup} s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        """Everything the server wrote so far."""
        if self._log is None:
            return ""
        return Path(self._log.name).read_bytes().decode("utf-8", "replace")

    def stop(self) -> None:
        """Terminate (then kill) the server; safe to call twice."""
        process, self.process = self.process, None
        _RUNNING.discard(self)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
        if self._log is not None:
            self._log.close()
            with contextlib.suppress(OSError):
                os.unlink(self._log.name)
            self._log = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop()
