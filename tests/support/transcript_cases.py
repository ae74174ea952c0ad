"""Replaying a recorded transcript through a provider and checking it against its expectations.

A case is ``<stem>.http`` (the raw response) plus ``<stem>.json`` (what the request offered and
what must come out); see tests/providers/openai/transcripts for the schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jackfield
from jackfield import FragmentStream, ProviderError, Response, Tool
from jackfield._fragments import Fragment
from jackfield.testing.transcripts import Transcript

ProviderFactory = Callable[..., Any]


def load(folder: Path, stem: str) -> tuple[dict[str, Any], Transcript]:
    meta = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    return meta, Transcript.load(folder / f"{stem}.http")


def run(
    make: ProviderFactory,
    meta: dict[str, Any],
    transcript: Transcript,
    chunks: list[bytes] | None = None,
) -> tuple[list[Fragment], ProviderError | None, Response]:
    """Replay through ``make(transcript, chunks=..., **options)``: (fragments, error, response)."""
    provider = make(transcript, chunks=chunks, **meta.get("options", {}))
    tools = [Tool(t["name"], source=t.get("source")) for t in meta.get("tools", [])]
    request = provider.request("hi", tools=tools, stream=meta["stream"])
    stream = FragmentStream(provider.chat_exchange(request), provider.name)
    fragments: list[Fragment] = []
    try:
        for fragment in stream:
            fragments.append(fragment)
    except ProviderError as exc:
        return fragments, exc, stream.response
    return fragments, None, stream.response


def check(
    meta: dict[str, Any], fragments: list[Fragment], error: ProviderError | None, response: Response
) -> None:
    if "error" in meta:
        expected = meta["error"]
        assert error is not None, f"expected {expected['type']}, got a response: {response!r}"
        assert type(error).__name__ == expected["type"], repr(error)
        if expected.get("status") is not None:
            assert error.status == expected["status"]
        if expected.get("message_contains"):
            assert expected["message_contains"] in str(error)
        partial = error.partial.text if error.partial is not None else ""
        assert partial == expected.get("partial_text", "")
        return
    assert error is None, f"unexpected {error!r}"
    expect = meta["expect"]
    for key in ("text", "thoughts"):
        if key in expect:
            assert getattr(response, key) == expect[key], key
    if "tool_calls" in expect:
        got = [
            {"id": c.id, "name": c.name, "source": c.source, "arguments": c.arguments}
            for c in response.tool_calls
        ]
        assert len(got) == len(expect["tool_calls"]), got
        for have, want in zip(got, expect["tool_calls"], strict=True):
            assert have == {**want, "id": want["id"] if want.get("id") is not None else have["id"]}
    completion = response.completion
    assert completion is not None
    if "finish_reason" in expect:
        assert completion.finish_reason.value == expect["finish_reason"]
    if "raw_finish_reason" in expect:
        assert completion.raw_finish_reason == expect["raw_finish_reason"]
    if "usage" in expect:
        usage = jackfield.converter.unstructure(completion.usage) if completion.usage else None
        assert usage == expect["usage"]
    if "model" in expect:
        assert completion.model == expect["model"]
    for key, value in expect.get("metrics", {}).items():
        assert completion.metrics.get(key) == value, key
    assert sum(isinstance(f, jackfield.Completion) for f in fragments) == len(response.choices)
