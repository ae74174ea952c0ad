"""LiteLLM's proxy (``litellm[proxy]``, installed by ``nox -s live-litellm``) in front of a
llama-cpp-python server with the packaged gemma-3 270M model (tests/live/servers/
llama_cpp_python.py starts it, without a key of its own), through the shared live checks.

The proxy runs from a config file in a temporary folder: each of the backend's models as an
``openai/`` model with its ``api_base`` on 127.0.0.1, a ``master_key`` (so keys are checked) and
no database. It reaches nothing but the backend: the cost map and its other catalogs are read
from the copies in the package (``LITELLM_LOCAL_*``), and its telemetry is off by default.
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
from tests.live.servers import llama_cpp_python as backend

SERVER = "litellm"
NOT_APPLICABLE = {
    "timings": "LiteLLM's proxy answers with `usage` alone: no `timings` or durations in the "
    "body (its `x-litellm-response-duration-ms` header is the whole call's time, not the "
    "model's).",
}
KEY = "sk-live-key"  # a master key starts with "sk-"
MODELS = (backend.MODEL, backend.EMBEDDING_MODEL, backend.PER_TOKEN_MODEL)
# The grammar behind it makes the model write a think block inline, which LiteLLM relays as it
# comes when streaming and moves into `reasoning_content` in a whole answer.
THINKING = backend.THINKING
UNVERIFIED = {  # it relays what llama-cpp-python does
    feature: f"llama-cpp-python behind it: {reason}"
    for feature, reason in backend.UNVERIFIED.items()
}
# Everything LiteLLM would fetch from the internet, read from the package instead (the proxy
# of 1.106 knows no LITELLM_OFFLINE_MODE; later ones do).
OFFLINE = {
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
}


def config(upstream: str) -> dict[str, Any]:
    """The proxy's config (YAML, written as JSON, which YAML reads)."""
    return {
        "model_list": [
            {
                "model_name": name,
                "litellm_params": {
                    "model": f"openai/{name}",
                    "api_base": upstream,
                    "api_key": "none",
                },
            }
            for name in MODELS
        ],
        "general_settings": {"master_key": KEY},
    }


@contextlib.contextmanager
def serve() -> Iterator[Live]:
    with (
        backend.running(key=None) as (_, upstream),
        tempfile.TemporaryDirectory(prefix="live-litellm-") as folder,
    ):
        settings = Path(folder) / "config.yaml"
        settings.write_text(json.dumps(config(upstream)), encoding="utf-8")
        port = free_port()
        litellm = Path(sys.executable).with_name("litellm")  # its console script
        command = [str(litellm), "--config", str(settings), "--host", "127.0.0.1"]
        process = ServerProcess(
            [*command, "--port", str(port), "--num_workers", "1"],
            health=f"http://127.0.0.1:{port}/health/liveliness",  # /health calls every model
            env={**OFFLINE, "HOME": folder},
            cwd=folder,
            startup=180,
        )
        with process:
            yield Live(
                base_url=f"http://127.0.0.1:{port}/v1",
                model=backend.MODEL,
                kind="litellm",
                api_key=KEY,
                options={"temperature": 0},  # see llama_cpp_python.serve()
                constrain={"extra_body": {"grammar": 'root ::= "hello"'}},
                constrained="hello",
                tool_call={"tool_choice": backend.TOOL_CHOICE, "max_tokens": 48},
                # think_tags off: the provider's own splitting of inline tags proves nothing here.
                reasoning={
                    "think_tags": "off",
                    "max_tokens": 32,
                    "extra_body": {"grammar": THINKING},
                },
                inline_think={"max_tokens": 32, "extra_body": {"grammar": THINKING}},
                thought="waves",
                embedding_model=backend.EMBEDDING_MODEL,
                process=process,
            )
