"""Hugging Face ``transformers serve`` with a tiny random-weight Qwen2 model made here
(tests/live/servers/tiny_models.py), asked for by its path.

The server loads models by name on request (nothing is pinned on its command line); serve()
loads this one through ``POST /load_model`` before the checks, so ``/v1/models`` lists it from
the start, and keeps it loaded for the run (``--model-timeout``). For a Qwen2 model the server
parses ``<think>`` into ``reasoning_content`` and Hermes ``<tool_call>`` blocks into tool calls.
A second tiny model, a Llama (same tokenizer and chat template), is loaded next to it: for its
model type the server parses nothing, so a think block arrives inline in ``content`` (the think
tags check).

It has no grammar or structured outputs (``response_format`` and ``tool_choice`` are ignored);
answers are forced with its own ``generation_config`` extra (a JSON string replacing the
model's generation config): a ``sequence_bias`` that, after the prompt's last tokens (the
``<|im_start|>assistant`` line), favours the next token of the wanted answer and then the end
token. ``nox -s live-transformers`` installs transformers[serving] (and the CPU build of torch)
and runs this.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tests.live.process import ServerProcess, free_port
from tests.live.servers import Live, tiny_models

SERVER = "transformers"
NOT_APPLICABLE = {
    "auth": "transformers serve has no API-key option: it answers every request whatever "
    "Authorization header comes with it.",
    "embeddings": "transformers serve has no embeddings endpoint (its routes are chat "
    "completions, completions, responses, systemone, audio transcriptions, models, "
    "load_model, reset and health; POST /v1/embeddings is a 404).",
    "timings": "transformers serve answers with usage alone, no per-request timings.",
}

CONSTRAINED = "hello"
THOUGHT = "the sea is wide"
CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
ROME = '{"name": "get_weather", "arguments": {"city": "Rome"}}'
FORCED = {
    "constrain": CONSTRAINED,
    "reasoning": f"<think>{THOUGHT}</think>{CONSTRAINED}",
    "tool_call": f"<tool_call>\n{CALL}\n</tool_call>",
    "two_calls": f"<tool_call>\n{CALL}\n</tool_call>\n<tool_call>\n{ROME}\n</tool_call>",
}
"""The answers the checks force, by name."""
INLINE = {"think_tags": f"<think>{THOUGHT}</think>{CONSTRAINED}"}
"""The answers the checks force from the Llama model (``Live.inline_think``), by name."""
BIAS = 100.0
"""Far above a random model's logits (and its -18 for the tokens it never says unforced)."""


def forcing(model: Mapping[str, Any], text: str, max_new_tokens: int = 64) -> str:
    """A ``generation_config`` (JSON) under which the model answers exactly ``text``.

    ``sequence_bias`` entries are token sequences matched against the end of everything so
    far, the prompt included, biasing their last token: each entry here is the prompt's end
    (``anchor``) plus the answer up to one of its tokens, so exactly one entry matches at each
    step and no answer token is favoured anywhere else.
    """
    tokens = [*model["ids"][text], model["eos"]]
    anchor = list(model["anchor"])
    bias = [[anchor + tokens[: n + 1], BIAS] for n in range(len(tokens))]
    return json.dumps(
        {
            "do_sample": False,
            "max_new_tokens": max_new_tokens,
            "eos_token_id": model["eos"],
            "pad_token_id": model["pad"],
            "sequence_bias": bias,
        }
    )


def _load(base: str, model: str) -> str:
    """``POST /load_model``: the server's own way to load a model ahead of requests (an SSE
    stream of progress ending in a ``ready`` event)."""
    request = urllib.request.Request(
        f"{base}/load_model",
        data=json.dumps({"model": model}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        events = response.read().decode("utf-8", "replace")
    if '"ready"' not in events:
        raise RuntimeError(f"transformers serve did not load {model}:\n{events[-2000:]}")
    return events


@contextlib.contextmanager
def serve() -> Iterator[Live]:
    with tempfile.TemporaryDirectory(prefix="live-transformers-") as tmp:
        root = Path(tmp)
        model = root / "tiny-qwen2"
        model.mkdir()
        made = tiny_models.make(model, encode=list(FORCED.values()))
        llama = root / "tiny-llama"
        llama.mkdir()
        made_llama = tiny_models.make(llama, encode=list(INLINE.values()), architecture="llama")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = ServerProcess(
            [
                sys.executable,
                "-m",
                "transformers.cli.transformers",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--device",
                "cpu",
                "--model-timeout",
                "3600",  # seconds: the model stays loaded for the run
            ],
            health=f"{base}/health",
            env={"HF_HOME": str(root / "hf")},
            startup=300,
        )
        forced = {name: forcing(made, text) for name, text in FORCED.items()}
        inline = {name: forcing(made_llama, text) for name, text in INLINE.items()}
        with server:
            _load(base, str(model))
            _load(base, str(llama))
            yield Live(
                base_url=f"{base}/v1",
                model=str(model),
                kind="transformers",
                options={"timeouts": {"first_byte": 600.0, "idle": 300.0}},
                constrain={"extra_body": {"generation_config": forced["constrain"]}},
                constrained=CONSTRAINED,
                tool_call={
                    "extra_body": {"generation_config": forced["tool_call"]},
                    "max_tokens": 64,
                },
                two_calls={
                    "extra_body": {"generation_config": forced["two_calls"]},
                    "max_tokens": 96,
                },
                # The Llama model's text is not parsed: the think block arrives inline.
                inline_think={
                    "model": str(llama),
                    "extra_body": {"generation_config": inline["think_tags"]},
                    "max_tokens": 64,
                },
                thought=THOUGHT,
                reasoning={
                    "extra_body": {"generation_config": forced["reasoning"]},
                    "max_tokens": 64,
                },
                process=server,
            )
