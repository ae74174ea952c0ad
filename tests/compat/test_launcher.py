"""The llama.cpp launcher and the demo built on it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from jackfield_llamacpp.server import LlamaServer, LlamaServerError

pytestmark = pytest.mark.compat


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_start_serve_stop(llama: LlamaServer) -> None:
    with urllib.request.urlopen(f"{llama.url}/health", timeout=5) as response:
        assert response.status == 200
    assert llama.base_url == f"http://127.0.0.1:{llama.port}/v1"
    assert "running at http://127.0.0.1" in repr(llama)


def test_stop_is_final_and_idempotent() -> None:
    server = LlamaServer(context=256).start()
    assert server.process is not None
    pid = server.process.pid
    server.stop()
    server.stop()
    assert _gone(pid)
    assert repr(server) == "<LlamaServer stopped>"


def test_a_bad_model_fails_with_the_servers_own_words(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"this is not a gguf file")
    with pytest.raises(LlamaServerError) as info:
        LlamaServer(bogus, startup_timeout=60).start()
    assert "llama.cpp server exited" in str(info.value)


def test_the_server_dies_with_its_parent(tmp_path: Path) -> None:
    """A parent killed with SIGKILL cannot clean up: the child must notice and exit."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys
            from jackfield_llamacpp.server import LlamaServer
            server = LlamaServer(context=256).start()
            print(server.process.pid, flush=True)
            os.kill(os.getpid(), 9)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == -9
    child = int(result.stdout.strip())
    assert _gone(child), "the llama.cpp server outlived its parent"


def test_the_demo_streams_a_real_answer() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jackfield_llamacpp.demo", "What is the capital of France?"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    answer = next(line for line in lines if line.startswith("model> "))
    assert len(answer) > len("model> ") + 10
    assert answer.rstrip().endswith((".", "!", "?"))
    summary = lines[-1]
    assert summary.startswith("finish: stop | tokens: ")
    assert "tokens/s" in summary
    assert "first token after" in summary
