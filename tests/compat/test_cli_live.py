"""The command line against the real llama.cpp server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jackfield_llamacpp.server import LlamaServer
from tests.compat.conftest import slots

pytestmark = pytest.mark.compat


@pytest.fixture
def config(llama: LlamaServer, tmp_path: Path) -> Path:
    path = tmp_path / "jackfield.toml"
    path.write_text(
        f'[providers.local]\ntype = "openai-compatible"\nbase_url = "{llama.base_url}"\n\n'
        '[agents.terse]\nmodel = "local"\noptions = { temperature = 0, max_tokens = 12 }\n'
    )
    return path


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jackfield", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_chat_json_against_llama_cpp(config: Path) -> None:
    result = run(config, "chat", "-m", "terse", "--json", "Tell me about the sea.")
    assert result.returncode == 0, result.stderr
    fragments = [json.loads(line) for line in result.stdout.splitlines()]
    assert fragments[-1]["type"] == "completion"
    assert fragments[-1]["usage"]["completion_tokens"] == 12
    assert "predicted_per_second" in fragments[-1]["metrics"]
    assert sum(f["type"] == "text" for f in fragments) > 1


def test_status_and_models_against_llama_cpp(config: Path) -> None:
    status = run(config, "status", "local")
    assert status.returncode == 0
    assert status.stdout.split()[:3] == ["local", "ok", "llama.cpp"]
    models = run(config, "models", "local", "--json")
    (model,) = json.loads(models.stdout)
    assert (model["id"], model["context_length"]) == ("gemma-3-270m-q4_k_m", 1024)


def test_ctrl_c_stops_the_generation(config: Path, llama: LlamaServer) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jackfield",
            "--config",
            str(config),
            "chat",
            "-m",
            "local",
            "-o",
            "max_tokens=600",
            "--extra",
            "ignore_eos=true",
            "--extra",
            "id_slot=0",
            "Write a long story.",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert process.stdout is not None
    process.stdout.read(1)  # streaming has begun
    assert next(s for s in slots(llama) if s["id"] == 0)["is_processing"]
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "generation stopped" in err
    deadline = time.monotonic() + 5
    while next(s for s in slots(llama) if s["id"] == 0)["is_processing"]:
        assert time.monotonic() < deadline, "the server kept generating after Ctrl-C"
        time.sleep(0.05)
