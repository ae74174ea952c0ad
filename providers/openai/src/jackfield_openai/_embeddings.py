"""The body of an OpenAI ``/embeddings`` answer, read into :class:`~jackfield.Embeddings`
(sans-I/O: the embedded llama.cpp provider reads its engine's answers with it too)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jackfield import Embeddings, MalformedStreamError, NotSupportedError, Usage

__all__ = ["parse_embeddings"]


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _vector(entry: Any, position: int, label: str) -> tuple[float, ...]:
    vector = entry.get("embedding") if isinstance(entry, Mapping) else None
    if not isinstance(vector, list):
        raise MalformedStreamError(f"{label}: /embeddings entry {position} has no vector")
    if vector and isinstance(vector[0], list):
        # One vector per token: the server embeds without pooling them into one per text.
        width = len(vector[0])
        raise NotSupportedError(
            f"{label}: the server returned one vector per token ({len(vector)} vectors of "
            f"{width} numbers for text {position}), not one per text: it embeds without "
            "pooling. Start it with a pooling type (llama.cpp: --pooling mean; "
            "llama-cpp-python: --kv_overrides <architecture>.pooling_type=int:1) or embed with a "
            "model that pools."
        )
    try:
        return tuple(float(x) for x in vector)
    except (TypeError, ValueError):
        raise MalformedStreamError(
            f"{label}: /embeddings entry {position} holds something other than numbers"
        ) from None


def parse_embeddings(data: Any, count: int, label: str) -> Embeddings:
    """The vectors of an ``/embeddings`` body for ``count`` texts, in the texts' order.

    Raises :class:`~jackfield.MalformedStreamError` for a body of another shape or another
    number of vectors, and :class:`~jackfield.NotSupportedError` when the server gave one
    vector per token (it runs without pooling), saying how to start it instead.
    """
    entries = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or len(entries) != count:
        got = len(entries) if isinstance(entries, list) else "no"
        raise MalformedStreamError(f"{label}: /embeddings returned {got} vectors for {count} texts")
    ordered = sorted(
        entries,
        key=lambda e: (_count(e.get("index")) or 0) if isinstance(e, Mapping) else 0,
    )
    vectors = tuple(_vector(entry, i, label) for i, entry in enumerate(ordered))
    usage = data.get("usage")
    model = data.get("model")
    return Embeddings(
        vectors,
        model=model if isinstance(model, str) and model else None,
        usage=Usage(
            prompt_tokens=_count(usage.get("prompt_tokens")),
            total_tokens=_count(usage.get("total_tokens")),
        )
        if isinstance(usage, Mapping)
        else None,
    )
