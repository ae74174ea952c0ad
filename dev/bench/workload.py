"""The benchmark's stream: what the fake server sends, and what every client must get back.

A stream is asked for by model name: ``bench-<n>`` streams ``n`` content chunks, shaped like
llama.cpp's (role chunk, content chunks, finish chunk, usage + timings chunk, ``[DONE]``).
"""

from __future__ import annotations

import json

TOKENS = (" The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".")
PROMPT = [{"role": "user", "content": "Tell me a story."}]


def model(n: int) -> str:
    return f"bench-{n}"


def chunks_of(model_name: str) -> int:
    return int(model_name.rsplit("-", 1)[1])


def expected_text(n: int) -> str:
    return "".join(TOKENS[i % len(TOKENS)] for i in range(n))


def _event(payload: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "choices": [{"finish_reason": finish, "index": 0, "delta": delta}],
        "created": 1760000000,
        "id": "chatcmpl-bench",
        "model": "gemma-3-270m",
        "system_fingerprint": "b6000-bench",
        "object": "chat.completion.chunk",
    }


def events(n: int) -> list[bytes]:
    """The SSE events of one ``n``-chunk answer, each one of its own."""
    out = [_event(_chunk({"role": "assistant", "content": None}))]
    out += [_event(_chunk({"content": TOKENS[i % len(TOKENS)]})) for i in range(n)]
    out.append(_event(_chunk({}, "stop")))
    usage = {"completion_tokens": n, "prompt_tokens": 12, "total_tokens": n + 12}
    timings = {
        "prompt_n": 12,
        "prompt_ms": 9.1,
        "predicted_n": n,
        "predicted_ms": n * 8.0,
        "predicted_per_second": 125.0,
    }
    final = {**_chunk({}), "choices": [], "usage": usage, "timings": timings}
    out.append(_event(final))
    out.append(b"data: [DONE]\n\n")
    return out
