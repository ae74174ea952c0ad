"""llama.cpp's own server (the xllamacpp wheel) through the shared live checks.

tests/compat is llama.cpp's full live suite; this module runs the checks every server runs
against it too, so a change to those checks is tried on a server known to pass them
(``nox -s live-llama-server``, a minute)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from jackfield_llamacpp.server import LlamaServer
from tests.live.servers import Live

SERVER = "llama.cpp"
NOT_APPLICABLE: dict[str, str] = {}
# One server cannot have both templates; tests/compat proves reasoning on a server of its own.
ELSEWHERE = {
    "reasoning field": "tests/compat/test_llamacpp.py",
    "think tags": "tests/compat/test_llamacpp.py",
    "parallel tool calls": "tests/compat/test_llamacpp.py",
}
TEMPLATES = Path(__file__).parents[2] / "compat" / "templates"


@contextlib.contextmanager
def serve() -> Iterator[Live]:
    with LlamaServer(
        api_keys=["live-key"],
        context=1024,
        chat_template=(TEMPLATES / "tools.jinja").read_text(),
        embeddings=True,
        params={"pooling_type": 1},
    ) as server:
        yield Live(
            base_url=server.base_url,
            model="gemma-3-270m-q4_k_m",
            kind="llama.cpp",
            api_key="live-key",
            constrain={"extra_body": {"grammar": 'root ::= "hello"'}},
            constrained="hello",
            embedding_model="gemma-3-270m-q4_k_m",
            any_model_name=True,
            tool_call={"tool_choice": "required", "parallel_tool_calls": False, "max_tokens": 48},
        )
